import { UsageError, stringOption, type ParsedArgs } from './command.js';
import { isModelName, MODELS, type ModelName } from '../models/registry.js';

/** `--model NAME`, one of the registry's models; `fallback` when absent (undefined: none). */
export function modelOption(args: ParsedArgs, fallback: ModelName): ModelName;
export function modelOption(args: ParsedArgs): ModelName | undefined;
export function modelOption(args: ParsedArgs, fallback?: ModelName): ModelName | undefined {
  const name = stringOption(args, 'model');
  if (name === undefined) return fallback;
  if (!isModelName(name)) throw new UsageError(`--model must be one of ${Object.keys(MODELS).join(', ')}; got '${name}'`);
  return name;
}
