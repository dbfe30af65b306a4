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

describe('the public webhook', () => {
  // Strings only the Coze client carries: its two endpoints and its HTTP library.
  const COZE_CLIENT = ['/v1/workflow/run', '/run_histories/', 'axios'];
  const bundle = (name: string) =>
    readFileSync(join(root, 'dist', 'functions', name, 'index.js'), 'utf8');

  it('bundles no Coze client, which the functions that call Coze do', () => {
    for (const marker of COZE_CLIENT) {
      expect({ marker, inWebhook: bundle('webhookHandler').includes(marker) }).toEqual({
        marker,
        inWebhook: false,
      });
      for (const name of ['extractText', 'taskSweeper']) {
        expect({ name, marker, found: bundle(name).includes(marker) }).toEqual({
          name,
          marker,
          found: true,
        });
      }
    }
  });

  it('is given no Coze setting in cloudbaserc.json, the token least of all', () => {
    const rc = JSON.parse(readFileSync(join(root, 'cloudbaserc.json'), 'utf8')) as {
      functions: { name: string; envVariables: Record<string, string> }[];
    };
    const vars = (name: string) =>
      Object.keys(rc.functions.find((f) => f.name === name)?.envVariables ?? {});
    expect(vars('webhookHandler').filter((k) => k.startsWith('COZE_'))).toEqual([]);
    expect(vars('webhookHandler')).toContain('WEBHOOK_SECRET');
    expect(vars('extractText')).toContain('COZE_API_TOKEN');
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
