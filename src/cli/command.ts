import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A CLI sub-command: its options (node:util parseArgs format), its help text and what it does. */
export interface Command {
  name: string;
  summary: string;
  /** Usage line after `webgpu-transfer NAME`, e.g. `--data DIR [--out FILE]`. */
  usage: string;
  /** Longer help: one line per option. */
  help: string;
  options: NonNullable<ParseArgsConfig['options']>;
  allowPositionals?: boolean;
  run(args: ParsedArgs): Promise<number | void>;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/** A mistake in the command line: printed with the usage and exit code 2, never a stack trace. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export function parseCommandArgs(command: Command, argv: string[]): ParsedArgs {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: command.allowPositionals ?? false,
      strict: true,
    });
    return { values: values as ParsedArgs['values'], positionals };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export function commandHelp(command: Command): string {
  return `Usage: webgpu-transfer ${command.name} ${command.usage}\n\n${command.summary}\n\n${command.help}\n  -h, --help  show this help`;
}

/** What a numeric option may be, and how the error says it. */
export interface NumberRule {
  test: (value: number) => boolean;
  says: string;
}

export const COUNT: NumberRule = { test: (v) => Number.isInteger(v) && v >= 1, says: 'a whole number, at least 1' };
export const WHOLE: NumberRule = { test: (v) => Number.isInteger(v) && v >= 0, says: 'a whole number, 0 or more' };
export const POSITIVE: NumberRule = { test: (v) => v > 0, says: 'a number above 0' };
export const NON_NEGATIVE: NumberRule = { test: (v) => v >= 0, says: 'a number, 0 or more' };
export const PROBABILITY: NumberRule = { test: (v) => v >= 0 && v <= 1, says: 'a number from 0 to 1' };
export const FRACTION: NumberRule = { test: (v) => v > 0 && v < 1, says: 'a number between 0 and 1 (neither)' };

/** Reads a numeric option, refusing anything that is not a finite number or breaks `rule`. */
export function numberOption(args: ParsedArgs, name: string, fallback: number, rule?: NumberRule): number {
  const raw = args.values[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(value)) throw new UsageError(`--${name} expects a number, got '${String(raw)}'`);
  if (rule && !rule.test(value)) throw new UsageError(`--${name} expects ${rule.says}, got '${raw}'`);
  return value;
}

export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const raw = args.values[name];
  return typeof raw === 'string' ? raw : undefined;
}

export function requiredString(args: ParsedArgs, name: string): string {
  const value = stringOption(args, name);
  if (!value) throw new UsageError(`--${name} is required`);
  return value;
}
