import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseEnvFile, resolveEnv } from './env-file';

describe('parseEnvFile (the dotenv bundled in tcb 2.12.10)', () => {
  it('reads KEY=value lines, skips comments and blanks, trims unquoted values', () => {
    const { values, notes } = parseEnvFile('# c\n\nA=1\n  B = two  \nC=\nD.E-F=x\r\nG=y');
    expect(values).toEqual({ A: '1', B: 'two', C: '', 'D.E-F': 'x', G: 'y' });
    expect(notes).toEqual([]);
  });

  it('removes surrounding quotes; double quotes expand \\n', () => {
    const { values } = parseEnvFile(`A="x y"\nB='p q'\nC="l1\\nl2"\nD='l1\\nl2'`);
    expect(values).toEqual({ A: 'x y', B: 'p q', C: 'l1\nl2', D: 'l1\\nl2' });
  });

  it('keeps an inline comment in the value, and says so by key only', () => {
    const { values, notes } = parseEnvFile('TOKEN=sat_abc # prod');
    expect(values.TOKEN).toBe('sat_abc # prod');
    expect(notes).toEqual([{ line: 1, key: 'TOKEN', message: expect.stringContaining('inline') }]);
    expect(JSON.stringify(notes)).not.toContain('sat_abc');
  });

  it('ignores `export` lines, as tcb does, and names the key', () => {
    const { values, notes } = parseEnvFile('export WEBHOOK_SECRET=whsec_x\nOK=1\ngarbage');
    expect(values).toEqual({ OK: '1' });
    expect(notes.map((n) => [n.line, n.key])).toEqual([
      [1, 'WEBHOOK_SECRET'],
      [3, undefined],
    ]);
    expect(JSON.stringify(notes)).not.toContain('whsec_x');
  });
});

describe('resolveEnv', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envfile-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('.env, then .env.local, then the process environment win in that order', () => {
    fs.writeFileSync(path.join(dir, '.env'), 'A=env\nB=env\nC=env\nD=env');
    fs.writeFileSync(path.join(dir, '.env.local'), 'B=local\nC=local');
    const r = resolveEnv(dir, { C: 'process', D: '', E: undefined });
    expect(r.values).toEqual({ A: 'env', B: 'local', C: 'process', D: '' });
    expect(r.source).toEqual({ A: '.env', B: '.env.local', C: 'environment', D: 'environment' });
    expect(r.files).toEqual(['.env', '.env.local']);
  });

  it('works without any file', () => {
    expect(resolveEnv(dir, { X: '1' }).files).toEqual([]);
  });
});
