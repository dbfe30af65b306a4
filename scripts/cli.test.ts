/**
 * Every command-line entry answers --help with its usage and exit 0, and refuses an unknown flag
 * by name with a non-zero exit, both before it builds or starts anything. Child processes, as a
 * user runs them.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readCommandLine } from './cli';

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

const ENTRIES: { entry: string; usage: string; unknownExit: number }[] = [
  { entry: 'scripts/start.ts', usage: 'usage: npm start', unknownExit: 2 },
  { entry: 'scripts/demo.ts', usage: 'usage: npm run demo', unknownExit: 1 },
  { entry: 'bench/run.ts', usage: 'usage: npm run bench', unknownExit: 2 },
  { entry: 'scripts/deploy.ts', usage: 'usage: npm run deploy', unknownExit: 2 },
  { entry: 'scripts/db-init.ts', usage: 'usage: npm run db:init', unknownExit: 2 },
  { entry: 'emulator/main.ts', usage: 'usage: tsx emulator/main.ts', unknownExit: 2 },
];

describe.each(ENTRIES)('$entry', ({ entry, usage, unknownExit }) => {
  it('--help prints the usage and exits 0', async () => {
    const r = await run(tsx, [entry, '--help']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout.startsWith(usage)).toBe(true);
  }, 90_000);

  it('an unknown flag is refused by name, with the usage, before anything runs', async () => {
    const r = await run(tsx, [entry, '--no-such-flag']);
    expect(r.code).toBe(unknownExit);
    expect(r.stderr).toMatch(/[Uu]nknown option '?--no-such-flag/);
    expect(r.stderr).toContain(usage);
    expect(r.stdout).not.toMatch(/Ctrl-C|本地栈已启动|deploy --dry-run|Database plan/);
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
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('npm start: not started, invalid settings:');
    expect(r.stderr).toContain('  - MAX_ACTIVE_TASKS_PER_USER must be a whole number');
    expect(r.stderr).toContain('  - WEBHOOK_SECRET ');
    expect(r.stderr).toContain('  - PORT must be a port number');
    expect(r.stdout + r.stderr).not.toContain('has a space');
    expect(r.stdout + r.stderr).not.toContain('lots');
    expect(r.stdout).not.toContain('Ctrl-C');
  }, 90_000);
});
