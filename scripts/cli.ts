/**
 * The flags of every command-line entry, read with node:util `parseArgs` (strict): `--help` / `-h`
 * prints the usage and exits 0; an unknown flag, a flag without its value or a stray argument is
 * refused by name, with the usage, and exit 2 (the usual code of a usage error) unless the entry
 * documents another. emulator/main.ts does the same in a few lines of its own: the emulator stays a
 * standalone CloudBase emulator and imports nothing from scripts/.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

export interface Command<O extends Options, P extends boolean> {
  /** how the user runs it, as messages name it: `npm run deploy` */
  name: string;
  /** the full usage text, printed for --help and after a usage error */
  usage: string;
  options: O;
  allowPositionals: P;
  /** exit code of a usage error; 2 unless the entry documents another */
  usageExitCode?: number;
}

type Config<O extends Options, P extends boolean> = {
  options: O & { help: { type: 'boolean'; short: 'h' } };
  allowPositionals: P;
  strict: true;
};

export type Parsed<O extends Options, P extends boolean> = ReturnType<
  typeof parseArgs<Config<O, P>>
>;

/** Either the parsed flags, or what to print and the exit code (help, or a usage error). */
export type CommandLine<O extends Options, P extends boolean> =
  | { run: true; values: Parsed<O, P>['values']; positionals: string[] }
  | { run: false; code: number; stdout: string; stderr: string };

/** node:util's messages are long and point at `--`; this says what was wrong, by name. */
function usageProblem(e: unknown): string {
  const code = (e as { code?: unknown }).code;
  const message = e instanceof Error ? e.message : String(e);
  const flag = /'(-[^' ]*)/.exec(message)?.[1];
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${flag ?? message}`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument ${/'([^']*)'/.exec(message)?.[1] ?? message}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return message.includes('argument missing')
        ? `option ${flag ?? ''} needs a value`
        : `option ${flag ?? ''} takes no value`;
    default:
      return message;
  }
}

export function readCommandLine<O extends Options, P extends boolean>(
  command: Command<O, P>,
  argv: string[],
): CommandLine<O, P> {
  const config = {
    args: argv,
    options: { ...command.options, help: { type: 'boolean', short: 'h' } },
    allowPositionals: command.allowPositionals,
    strict: true,
  } as Config<O, P> & { args: string[] };
  let parsed: Parsed<O, P>;
  try {
    parsed = parseArgs(config) as Parsed<O, P>;
  } catch (e) {
    const problem = usageProblem(e);
    return {
      run: false,
      code: command.usageExitCode ?? 2,
      stdout: '',
      stderr: `${command.name}: ${problem}\n${command.usage}\n`,
    };
  }
  if ((parsed.values as { help?: boolean }).help) {
    return { run: false, code: 0, stdout: `${command.usage}\n`, stderr: '' };
  }
  return { run: true, values: parsed.values, positionals: parsed.positionals as string[] };
}

/** For an entry's main: the parsed flags, or print (help / the usage error) and exit. */
export function commandLineOrExit<O extends Options, P extends boolean>(
  command: Command<O, P>,
  argv: string[] = process.argv.slice(2),
): { values: Parsed<O, P>['values']; positionals: string[] } {
  const line = readCommandLine(command, argv);
  if (line.run) return line;
  if (line.stdout) process.stdout.write(line.stdout);
  if (line.stderr) process.stderr.write(line.stderr);
  process.exit(line.code);
}
