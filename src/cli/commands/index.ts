import type { Command } from '../command.js';
import { train } from './train.js';
import { evaluate } from './eval.js';
import { predict } from './predict.js';
import { inspect } from './inspect.js';
import { scan } from './scan.js';
import { augment } from './augment.js';
import { info } from './info.js';
import { demo } from './demo.js';
import { profile } from './profile.js';

/** Every sub-command, in the order `--help` lists them. */
export const commands: Command[] = [train, evaluate, predict, inspect, scan, augment, info, demo, profile];
