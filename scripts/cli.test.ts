/**
 * Every command-line entry answers --help with its usage and exit 0, and refuses an unknown flag
 * by name with a non-zero exit, both before it builds or starts anything. Each entry's own flag
 * table goes through the path its main takes, in process (a child per entry would cost a tsx
 * compile each); one child process per behaviour, as a user runs it: `npm start -- --help` through
 * npm (nothing built), an unknown flag (emulator/main.ts, which prints on its own) and an invalid
 * setting.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BENCH_COMMAND } from '../bench/run';
import { MAIN_USAGE, UsageError, parseMainArgs } from '../emulator/main';
import { commandLineOrExit, readCommandLine } from './cli';
import { main as dbInitMain } from './db-init';
import { DEMO_COMMAND } from './demo';
import { main as deployMain } from './deploy/main';
import { main as smokeMain } from './smoke/main';
import { START_COMMAND } from './start';

const ROOT = path.join(__dirname, '..');
const tsx = path.join(ROOT, 'node_modules', '.bin', 'tsx');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  // Never the real Coze from a test.
  delete childEnv.COZE_API_TOKEN;
  delete childEnv.COZE_WORKFLOW_ID;
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { cwd: ROOT, env: childEnv, timeout: 90_000, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('readCommandLine', () => {
  const command = {
    name: 'npm run x',
    usage: 'usage: npm run x [--only NAME]',
    options: { only: { type: 'string' }, quick: { type: 'boolean' } },
    allowPositionals: false,
  } as const;

  it('reads the flags it knows', () => {
    const line = readCommandLine(command, ['--only', 'a', '--quick']);
    expect(line).toEqual({ run: true, values: { only: 'a', quick: true }, positionals: [] });
  });

  it('--help and -h: the usage on stdout, exit 0', () => {
    for (const flag of ['--help', '-h']) {
      expect(readCommandLine(command, ['--quick', flag])).toEqual({
        run: false,
        code: 0,
        stdout: `${command.usage}\n`,
        stderr: '',
      });
    }
  });

  it.each([
    [['--nope'], 'unknown option --nope'],
    [['--only'], 'option --only needs a value'],
    [['--quick=yes'], 'option --quick takes no value'],
    [['stray'], 'unexpected argument stray'],
  ])('%j is refused by name with the usage, exit 2', (argv, problem) => {
    const line = readCommandLine(command, argv);
    expect(line).toEqual({
      run: false,
      code: 2,
      stdout: '',
      stderr: `npm run x: ${problem}\n${command.usage}\n`,
    });
  });
});

/** What an entry printed and its exit code, its flags read as its main reads them. */
type Entry = (argv: string[]) => Promise<Run>;

/** commandLineOrExit as main calls it, with process.exit and the output caught. */
function viaCommandLineOrExit(command: Parameters<typeof commandLineOrExit>[0]): Entry {
  return async (argv) => {
    const printed = { stdout: '', stderr: '' };
    const write = (to: 'stdout' | 'stderr') => (chunk: string | Uint8Array) => {
      printed[to] += String(chunk);
      return true;
    };
    const out = jest.spyOn(process.stdout, 'write').mockImplementation(write('stdout'));
    const err = jest.spyOn(process.stderr, 'write').mockImplementation(write('stderr'));
    const exit = jest.spyOn(process, 'exit').mockImplementation((code) => {
      throw Object.assign(new Error('exit'), { exitCode: code });
    });
    try {
      commandLineOrExit(command, argv);
      return { code: -1, ...printed }; // main would go on and run: no answer
    } catch (e) {
      const code = (e as { exitCode?: unknown }).exitCode;
      if (typeof code !== 'number') throw e;
      return { code, ...printed };
    } finally {
      out.mockRestore();
      err.mockRestore();
      exit.mockRestore();
    }
  };
}

/** deploy's and db:init's main take argv and the output lines; the env has no keys. */
function viaMain(
  main: (o: {
    argv: string[];
    processEnv: Record<string, string | undefined>;
    out: (l: string) => void;
    errOut: (l: string) => void;
  }) => Promise<number>,
): Entry {
  return async (argv) => {
    const printed = { stdout: '', stderr: '' };
    const code = await main({
      argv,
      processEnv: {},
      out: (l) => (printed.stdout += `${l}\n`),
      errOut: (l) => (printed.stderr += `${l}\n`),
    });
    return { code, ...printed };
  };
}

/** emulator/main.ts's own reading (it imports nothing from scripts/); its printing: a child below. */
const emulatorMain: Entry = async (argv) => {
  try {
    return parseMainArgs(argv).help
      ? { code: 0, stdout: `${MAIN_USAGE}\n`, stderr: '' }
      : { code: -1, stdout: '', stderr: '' };
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    return { code: 2, stdout: '', stderr: `emulator: ${e.message}\n${MAIN_USAGE}\n` };
  }
};

const ENTRIES: { entry: string; read: Entry; usage: string; unknownExit: number }[] = [
  {
    entry: 'scripts/start.ts',
    read: viaCommandLineOrExit(START_COMMAND),
    usage: 'usage: npm start',
    unknownExit: 2,
  },
  {
    entry: 'scripts/demo.ts',
    read: viaCommandLineOrExit(DEMO_COMMAND),
    usage: 'usage: npm run demo',
    unknownExit: 1,
  },
  {
    entry: 'bench/run.ts',
    read: viaCommandLineOrExit(BENCH_COMMAND),
    usage: 'usage: npm run bench',
    unknownExit: 2,
  },
  {
    entry: 'scripts/deploy.ts',
    read: viaMain(deployMain),
    usage: 'usage: npm run deploy',
    unknownExit: 2,
  },
  {
    entry: 'scripts/smoke.ts',
    read: viaMain(smokeMain),
    usage: 'usage: npm run smoke',
    unknownExit: 2,
  },
  {
    entry: 'scripts/db-init.ts',
    read: viaMain(dbInitMain),
    usage: 'usage: npm run db:init',
    unknownExit: 2,
  },
  {
    entry: 'emulator/main.ts',
    read: emulatorMain,
    usage: 'usage: tsx emulator/main.ts',
    unknownExit: 2,
  },
];

describe.each(ENTRIES)('$entry', ({ read, usage, unknownExit }) => {
  it('--help prints the usage and exits 0', async () => {
    const r = await read(['--help']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout.startsWith(usage)).toBe(true);
  });

  it('an unknown flag is refused by name, with the usage, before anything runs', async () => {
    const r = await read(['--no-such-flag']);
    expect(r.code).toBe(unknownExit);
    expect(r.stderr).toMatch(/[Uu]nknown option '?--no-such-flag/);
    expect(r.stderr).toContain(usage);
    expect(r.stdout).not.toMatch(/Ctrl-C|本地栈已启动|deploy --dry-run|Database plan/);
  });
});

describe('npm run build (plain node, so read in a child)', () => {
  const build = (args: string[]) => run(process.execPath, ['scripts/build.mjs', ...args]);

  it('--help prints the usage and exits 0 without building', async () => {
    const r = await build(['--help']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout.startsWith('usage: npm run build')).toBe(true);
  });

  it.each([
    [['--no-such-flag'], 'unknown option --no-such-flag'],
    [['bogus'], 'unexpected argument bogus'],
    [['functions', 'extra'], 'unexpected argument extra'],
  ])('%j is refused by name with the usage, exit 2, nothing built', async (args, problem) => {
    const r = await build(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`npm run build: ${problem}`);
    expect(r.stderr).toContain('usage: npm run build');
    expect(r.stdout).not.toContain('built ');
  });
});

describe('a child process, as a user runs it', () => {
  it('an unknown flag: refused by name with the usage, exit 2, nothing started', async () => {
    const r = await run(tsx, ['emulator/main.ts', '--no-such-flag']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^emulator: Unknown option '--no-such-flag'/);
    expect(r.stderr).toContain('usage: tsx emulator/main.ts');
    expect(r.stdout).not.toMatch(/本地栈已启动|Ctrl-C/);
  }, 90_000);
});

describe('npm start', () => {
  const bundle = path.join(ROOT, 'dist', 'functions', 'extractText', 'index.js');

  it('the npm script reads the flags before building: --help answers without a build', async () => {
    const before = fs.statSync(bundle).mtimeMs;
    const r = await run('npm', ['start', '--silent', '--', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('usage: npm start');
    expect(fs.statSync(bundle).mtimeMs).toBe(before);
  }, 90_000);

  it('an invalid setting: refused before start, naming each key, never its value', async () => {
    const secret = 'whsec_has a space';
    const r = await run(tsx, ['scripts/start.ts'], {
      MAX_ACTIVE_TASKS_PER_USER: 'lots',
      WEBHOOK_SECRET: secret,
      PORT: '70000',
      // A list the send would refuse (no time): refused here, before anything starts.
      SUBSCRIBE_SUCCESS_KEYS: 'title:thing1,status:phrase2',
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('npm start: not started, invalid settings:');
    expect(r.stderr).toContain('  - MAX_ACTIVE_TASKS_PER_USER must be a whole number');
    expect(r.stderr).toContain('  - WEBHOOK_SECRET ');
    expect(r.stderr).toContain('  - PORT must be a port number');
    expect(r.stderr).toContain(
      '  - SUBSCRIBE_SUCCESS_KEYS is not a valid keyword list: field "time" is missing',
    );
    expect(r.stdout + r.stderr).not.toContain('has a space');
    expect(r.stdout + r.stderr).not.toContain('lots');
    expect(r.stdout).not.toContain('Ctrl-C');
  }, 90_000);
});
