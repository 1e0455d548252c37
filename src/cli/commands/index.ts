import type { Command } from '../command.js';
import { info } from './info.js';

/** Every sub-command, in the order `--help` lists them. */
export const commands: Command[] = [info];
