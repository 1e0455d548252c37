#!/usr/bin/env node
// The `webgpu-transfer` command line: one sub-command per file in ./commands.
import { commandHelp, parseCommandArgs, UsageError, type Command } from './command.js';
import { commands } from './commands/index.js';

function overview(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'Usage: webgpu-transfer <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    "Run 'webgpu-transfer <command> --help' for a command's options.",
    'Select the adapter with WGT_ADAPTER=lavapipe|swiftshader|<name substring>.',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(overview());
    return name ? 0 : 2;
  }
  const command: Command | undefined = commands.find((c) => c.name === name);
  if (!command) {
    console.error(`webgpu-transfer: unknown command '${name}'\n\n${overview()}`);
    return 2;
  }
  try {
    const args = parseCommandArgs(command, rest);
    if (args.values.help) {
      console.log(commandHelp(command));
      return 0;
    }
    return (await command.run(args)) ?? 0;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`webgpu-transfer ${name}: ${error.message}\n\n${commandHelp(command)}`);
      return 2;
    }
    // Known failures (bad files, no adapter) print their message; only bugs show a stack.
    const e = error as Error & { code?: unknown };
    const systemError = typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code); // ENOENT, EACCES...
    const known = systemError || (/Error$/.test(e.name) && e.name !== 'Error' && e.name !== 'TypeError' && e.name !== 'RangeError');
    console.error(`webgpu-transfer ${name}: ${known ? e.message : e.stack ?? e.message}`);
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
