/**
 * The deployable bundles (built by jest's global setup with scripts/build.mjs): self-contained,
 * small, one dependency, each with its cloud-call permission.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..');
const FUNCTIONS = ['extractText', 'webhookHandler', 'taskSweeper'];
/** Issue 14: every function bundle is read and compiled on each cold start. */
const BUNDLE_BUDGET_BYTES = 150 * 1024;

describe.each(FUNCTIONS)('bundle %s', (name) => {
  const dir = join(root, 'dist', 'functions', name);

  it('exports main from one small index.js', () => {
    const file = join(dir, 'index.js');
    expect(existsSync(file)).toBe(true);
    // Loads without any setting: the config error is kept for the first invocation.
    const errors = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(file) as { main?: unknown };
    errors.mockRestore();
    expect(typeof mod.main).toBe('function');
  });

  it('stays within its 150 KB budget', () => {
    // The failure names the function (describe.each) and its size in bytes.
    expect(statSync(join(dir, 'index.js')).size).toBeLessThanOrEqual(BUNDLE_BUDGET_BYTES);
  });

  it('depends on wx-server-sdk only and carries its openapi permission', () => {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(Object.keys(pkg.dependencies)).toEqual(['wx-server-sdk']);
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as {
      permissions: { openapi: string[] };
    };
    expect(config.permissions.openapi).toContain('subscribeMessage.send');
  });
});

it('the build prints the same budget', () => {
  const src = readFileSync(join(root, 'scripts', 'build.mjs'), 'utf8');
  const m = /FUNCTION_BUNDLE_BUDGET_BYTES = (\d+) \* 1024;/.exec(src);
  expect(Number(m?.[1]) * 1024).toBe(BUNDLE_BUDGET_BYTES);
});

describe('shared/', () => {
  it('imports no platform module', () => {
    const { readdirSync } = jest.requireActual<typeof import('node:fs')>('node:fs');
    const forbidden =
      /from '(wx-server-sdk|node:[a-z_]+|fs|http|https|net|child_process|axios|ws|mingo)'/;
    const files = readdirSync(join(root, 'shared')).filter(
      (f) => f.endsWith('.ts') && !f.endsWith('.test.ts'),
    );
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) {
      expect([f, forbidden.test(readFileSync(join(root, 'shared', f), 'utf8'))]).toEqual([
        f,
        false,
      ]);
    }
  });

  it('writes its schemas with zod/mini through shared/zod.ts, which sets the English messages', () => {
    const { readdirSync } = jest.requireActual<typeof import('node:fs')>('node:fs');
    const zodImport = /from 'zod(\/[a-z-]+)?'/;
    const files = readdirSync(join(root, 'shared')).filter(
      (f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && f !== 'zod.ts',
    );
    for (const f of files) {
      expect([f, zodImport.test(readFileSync(join(root, 'shared', f), 'utf8'))]).toEqual([
        f,
        false,
      ]);
    }
    expect(readFileSync(join(root, 'shared', 'zod.ts'), 'utf8')).toMatch(
      /^export \* from 'zod\/mini';$/m,
    );
  });
});
