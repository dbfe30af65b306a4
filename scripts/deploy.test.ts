import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CONFIG_KEYS, DEFAULT_TEMPLATE_KEYS, SECRET_KEYS, loadConfig } from '../shared/config';
import { parseArgs } from './deploy/args';
import { checkEnvironment } from './deploy/env-check';
import { checkProject } from './deploy/cross-checks';
import { ROOT } from './deploy/facts';
import { errorsOf, type Issue } from './deploy/issues';
import { main } from './deploy/main';
import { checkCron, checkRc, describeCron, type Rc } from './deploy/rc';
import { redact } from './deploy/redact';
import { renderLikeTcb } from './deploy/render';
import {
  interpretDeploy,
  interpretEnvList,
  interpretLogin,
  interpretServiceList,
  printedServiceLink,
  type RunResult,
} from './deploy/tcb';
import { parseEnvFile } from './env-file';

const example = parseEnvFile(fs.readFileSync(path.join(ROOT, '.env.example'), 'utf8')).values;
const rcText = fs.readFileSync(path.join(ROOT, 'cloudbaserc.json'), 'utf8');
const FUNCTIONS = ['extractText', 'taskSweeper', 'webhookHandler'];

/** A configuration that is not the sample: what a real .env looks like. */
const real: Record<string, string> = {
  ...example,
  ENV_ID: 'prod-7g2k9x',
  COZE_API_TOKEN: 'sat_R3alTok3nValueNeverPrinted0000000000000',
  COZE_WORKFLOW_ID: '7412345678901234567',
  WEBHOOK_URL: 'https://prod-7g2k9x.service.tcloudbase.com/webhook/coze',
  WEBHOOK_SECRET: 'whsec_UmVhbFNlY3JldE5ldmVyUHJpbnRlZDEyMzQ1Njc4OTA=',
  SUBSCRIBE_TEMPLATE_SUCCESS_ID: 'tmplSuccess0123456789',
  SUBSCRIBE_TEMPLATE_FAILURE_ID: 'tmplFailure0123456789',
};
const SECRET_VALUES = [real.COZE_API_TOKEN, real.WEBHOOK_SECRET] as string[];

const keysOf = (issues: Issue[]) => [...new Set(errorsOf(issues).map((i) => i.key))].sort();
const text = (issues: Issue[]) => issues.map((i) => i.message).join('\n');

describe('.env.example', () => {
  it('lists every configuration key and every deploy key, each with a comment', () => {
    const src = fs.readFileSync(path.join(ROOT, '.env.example'), 'utf8').split('\n');
    for (const key of [...CONFIG_KEYS, 'ENV_ID', 'TCB_API_KEY_ID', 'TCB_API_KEY', 'TCB_REGION']) {
      const at = src.findIndex((l) => l.startsWith(`${key}=`));
      expect({ key, present: at >= 0 }).toEqual({ key, present: true });
      expect({ key, comment: src[at - 1]?.startsWith('#') }).toEqual({ key, comment: true });
    }
  });

  it('has well-formed sample values and no inline comments', () => {
    expect(parseEnvFile(fs.readFileSync(path.join(ROOT, '.env.example'), 'utf8')).notes).toEqual(
      [],
    );
    expect(() => loadConfig(example)).not.toThrow();
    // The only problem with the samples is that they are samples.
    const r = checkEnvironment(example, { samples: example });
    for (const e of errorsOf(r.issues)) expect(e.message).toContain('.env.example sample value');
  });

  it('shows the schema defaults of the template keyword lists', () => {
    expect(example.SUBSCRIBE_SUCCESS_KEYS).toBe(DEFAULT_TEMPLATE_KEYS.success);
    expect(example.SUBSCRIBE_FAILURE_KEYS).toBe(DEFAULT_TEMPLATE_KEYS.failure);
  });

  it('.env is ignored by git', () => {
    const ignore = fs.readFileSync(path.join(ROOT, '.gitignore'), 'utf8').split('\n');
    expect(ignore).toContain('.env');
  });
});

describe('checkEnvironment', () => {
  it('refuses every sample value, by name', () => {
    const r = checkEnvironment(example, { samples: example });
    expect(keysOf(r.issues)).toEqual([
      'COZE_API_TOKEN',
      'COZE_WORKFLOW_ID',
      'ENV_ID',
      'SUBSCRIBE_TEMPLATE_FAILURE_ID',
      'SUBSCRIBE_TEMPLATE_SUCCESS_ID',
      'WEBHOOK_SECRET',
      'WEBHOOK_URL',
    ]);
    expect(errorsOf(checkEnvironment(real, { samples: example }).issues)).toEqual([]);
  });

  it.each(['COZE_API_TOKEN', 'WEBHOOK_SECRET', 'COZE_WORKFLOW_ID', 'WEBHOOK_URL', 'ENV_ID'])(
    'a missing %s is an error naming it',
    (key) => {
      for (const value of [undefined, '', '   ']) {
        const r = checkEnvironment({ ...real, [key]: value }, {});
        expect(keysOf(r.issues)).toEqual([key]);
        expect(text(errorsOf(r.issues))).toContain(`${key} is required`);
      }
    },
  );

  it('optional keys may be absent: the schema defaults apply', () => {
    const minimal: Record<string, string> = {};
    for (const k of [
      'ENV_ID',
      'COZE_API_TOKEN',
      'COZE_WORKFLOW_ID',
      'WEBHOOK_URL',
      'WEBHOOK_SECRET',
    ]) {
      minimal[k] = real[k] ?? '';
    }
    const r = checkEnvironment(minimal, {});
    expect(errorsOf(r.issues)).toEqual([]);
    expect(r.config?.SWEEP_BUDGET_MS).toBe(59_000);
    expect(text(r.issues)).toContain('SUBSCRIBE_TEMPLATE_SUCCESS_ID is not set');
  });

  it('names malformed keys through the shared schema, never their values', () => {
    const r = checkEnvironment(
      {
        ...real,
        WEBHOOK_SECRET: 'plain-secret-value-1234',
        MAX_ACTIVE_TASKS_PER_USER: 'many',
        ENV_ID: 'bad env',
        TCB_REGION: 'mars',
      },
      {},
    );
    expect(keysOf(r.issues)).toEqual([
      'ENV_ID',
      'MAX_ACTIVE_TASKS_PER_USER',
      'TCB_REGION',
      'WEBHOOK_SECRET',
    ]);
    expect(text(r.issues)).not.toContain('plain-secret-value-1234');
  });

  it.each([
    ['a double quote', 'tmpl"x'],
    ['a backslash', 'tmpl\\x'],
    ['a newline', 'tmpl\nx'],
  ])('a value with %s is refused: tcb would insert it unescaped into the JSON', (_what, value) => {
    for (const key of ['SUBSCRIBE_TEMPLATE_SUCCESS_ID', 'COZE_API_TOKEN', 'ENV_ID']) {
      const r = checkEnvironment({ ...real, [key]: value }, {});
      expect(keysOf(r.issues)).toEqual([key]);
      expect(text(r.issues)).toContain('unescaped');
      expect(text(r.issues)).not.toContain(value);
    }
  });

  it('a value that parses as JSON null/object is refused (tcb revives it)', () => {
    const r = checkEnvironment({ ...real, SUBSCRIBE_TEMPLATE_SUCCESS_ID: 'null' }, {});
    expect(keysOf(r.issues)).toEqual(['SUBSCRIBE_TEMPLATE_SUCCESS_ID']);
  });

  it('needs both halves of the API key', () => {
    const r = checkEnvironment({ ...real, TCB_API_KEY_ID: 'AKIDabcdefgh12345678' }, {});
    expect(keysOf(r.issues)).toEqual(['TCB_API_KEY']);
    const both = checkEnvironment(
      { ...real, TCB_API_KEY_ID: 'AKIDabcdefgh12345678', TCB_API_KEY: 'k3yValue0123456789abcdef' },
      {},
    );
    expect(errorsOf(both.issues)).toEqual([]);
  });

  it('refuses a Coze base the cloud cannot reach', () => {
    const r = checkEnvironment({ ...real, COZE_API_BASE: 'http://127.0.0.1:3000/coze' }, {});
    expect(keysOf(r.issues)).toEqual(['COZE_API_BASE']);
  });

  it('says where an overriding value came from', () => {
    const r = checkEnvironment(
      { ...real, WEBHOOK_SECRET: '' },
      { source: { WEBHOOK_SECRET: 'environment' } },
    );
    expect(text(r.issues)).toContain('process environment');
  });
});

describe('checkRc (cloudbaserc.json)', () => {
  const ctx = { sourceFunctions: FUNCTIONS, targetMajor: 18 };
  const mutate = (
    fn: (rc: Record<string, unknown> & { functions: Record<string, unknown>[] }) => void,
  ) => {
    const rc = JSON.parse(rcText) as Record<string, unknown> & {
      functions: Record<string, unknown>[];
    };
    fn(rc);
    return checkRc(JSON.stringify(rc), ctx);
  };
  const fnOf = (rc: { functions: Record<string, unknown>[] }, name: string) => {
    const f = rc.functions.find((x) => x.name === name);
    if (!f) throw new Error(name);
    return f;
  };

  it('the repo file declares the three functions, the route and the timer, without problems', () => {
    const r = checkRc(rcText, ctx);
    expect(errorsOf(r.issues)).toEqual([]);
    expect(r.rc?.functions.map((f) => f.name).sort()).toEqual(FUNCTIONS);
    expect(r.rc?.functions.find((f) => f.path)?.path).toBe('/webhook/coze');
    const timer = r.rc?.functions.find((f) => f.name === 'taskSweeper')?.triggers[0];
    expect(timer).toEqual({ name: 'sweep', type: 'timer', config: '0 * * * * * *' });
    expect(new Set(r.rc?.functions.map((f) => f.runtime)).size).toBe(1);
  });

  it('refuses a literal secret', () => {
    const r = mutate((rc) => {
      (fnOf(rc, 'webhookHandler').envVariables as Record<string, string>).WEBHOOK_SECRET =
        'whsec_AAAA';
    });
    expect(text(errorsOf(r.issues))).toContain(
      'webhookHandler envVariables.WEBHOOK_SECRET is a literal',
    );
    expect(keysOf(r.issues)).toEqual(['WEBHOOK_SECRET']);
  });

  it('refuses a variable missing, renamed or unknown', () => {
    const r = mutate((rc) => {
      const vars = fnOf(rc, 'extractText').envVariables as Record<string, string>;
      delete vars.TASK_TIMEOUT_S;
      vars.COZE_API_TOKEN = '{{env.OTHER}}';
      vars.EXTRA = '{{env.EXTRA}}';
    });
    expect(keysOf(r.issues)).toEqual(['COZE_API_TOKEN', 'EXTRA', 'TASK_TIMEOUT_S']);
  });

  it('requires every function field explicitly and one supported runtime', () => {
    expect(text(mutate((rc) => delete fnOf(rc, 'extractText').runtime).issues)).toContain(
      'runtime is required',
    );
    expect(text(mutate((rc) => delete fnOf(rc, 'extractText').timeout).issues)).toContain(
      'timeout is required',
    );
    expect(
      text(mutate((rc) => (fnOf(rc, 'extractText').runtime = 'Nodejs20.19')).issues),
    ).toContain('runtimes differ');
    const old = mutate((rc) => rc.functions.forEach((f) => (f.runtime = 'Nodejs16.13')));
    expect(text(errorsOf(old.issues))).toContain('older than the build target node18');
    const bogus = mutate((rc) => rc.functions.forEach((f) => (f.runtime = 'Nodejs99.1')));
    expect(text(errorsOf(bogus.issues))).toContain('is not one of');
    expect(
      text(errorsOf(mutate((rc) => (fnOf(rc, 'taskSweeper').installDependency = false)).issues)),
    ).toContain('installDependency');
    expect(
      text(errorsOf(mutate((rc) => (fnOf(rc, 'taskSweeper').memorySize = 100)).issues)),
    ).toContain('memorySize');
  });

  it('requires envId from .env and functionRoot at the bundles', () => {
    expect(text(errorsOf(mutate((rc) => (rc.envId = 'prod-123')).issues))).toContain(
      '{{env.ENV_ID}}',
    );
    expect(text(errorsOf(mutate((rc) => (rc.functionRoot = './cloudfunctions')).issues))).toContain(
      'functionRoot',
    );
  });

  it('requires the route on webhookHandler only and one 7-field timer on taskSweeper only', () => {
    expect(text(errorsOf(mutate((rc) => delete fnOf(rc, 'webhookHandler').path).issues))).toContain(
      '"path": "/webhook/coze"',
    );
    expect(text(errorsOf(mutate((rc) => (fnOf(rc, 'extractText').path = '/x')).issues))).toContain(
      'must not have an HTTP path',
    );
    const six = mutate((rc) => {
      fnOf(rc, 'taskSweeper').triggers = [{ name: 'sweep', type: 'timer', config: '0 * * * * *' }];
    });
    expect(text(errorsOf(six.issues))).toContain('needs 7');
    const none = mutate((rc) => delete fnOf(rc, 'taskSweeper').triggers);
    expect(text(errorsOf(none.issues))).toContain('exactly one trigger');
  });

  it('matches the declared functions with cloudfunctions/', () => {
    const r = checkRc(rcText, { sourceFunctions: [...FUNCTIONS, 'newFn'] });
    expect(text(errorsOf(r.issues))).toContain('cloudfunctions/newFn is built but not declared');
  });

  it('reports invalid JSON without crashing', () => {
    expect(text(checkRc('{ nope', ctx).issues)).toContain('not valid JSON');
  });

  it('cron helpers', () => {
    expect(checkCron('0 * * * * * *')).toBeNull();
    expect(checkCron('0 */5 * * * * *')).toBeNull();
    expect(checkCron('* * * * * * *')).toContain('seconds');
    expect(checkCron('0 * * * * *')).toContain('7');
    expect(describeCron('0 * * * * * *')).toBe('every minute at second 0');
    expect(describeCron('0 */5 * * * * *')).toBe('every 5 minutes');
  });
});

describe('renderLikeTcb (JSON valid after templating)', () => {
  it('fills every variable with its own value as a string', () => {
    const r = renderLikeTcb(rcText, real);
    expect(r.issues).toEqual([]);
    const value = r.value as {
      envId: string;
      functions: { envVariables: Record<string, string> }[];
    };
    expect(value.envId).toBe(real.ENV_ID);
    const webhook = value.functions.find((f) => 'WEBHOOK_SECRET' in f.envVariables);
    expect(webhook?.envVariables.WEBHOOK_SECRET).toBe(real.WEBHOOK_SECRET);
    expect(webhook?.envVariables.WEBHOOK_SECRET_PREVIOUS).toBe('');
    for (const f of value.functions) {
      expect(f.envVariables.SUBSCRIBE_SUCCESS_KEYS).toBe(real.SUBSCRIBE_SUCCESS_KEYS);
    }
  });

  it('a quote breaks the JSON: reported without the value', () => {
    const r = renderLikeTcb(rcText, { ...real, COZE_API_TOKEN: 'sat_br"oken' });
    expect(r.ok).toBe(false);
    expect(text(r.issues)).toContain('not valid JSON once tcb fills');
    expect(text(r.issues)).not.toContain('br"oken');
  });

  it('a crafted value that keeps the JSON valid but changes it is caught', () => {
    const r = renderLikeTcb(rcText, {
      ...real,
      SUBSCRIBE_TEMPLATE_SUCCESS_ID: 'x","runtime":"Nodejs8.9',
    });
    expect(r.ok).toBe(false);
    expect(text(r.issues)).toContain('changes shape');
  });

  it('an unset ENV_ID is reported (tcb would prompt)', () => {
    const r = renderLikeTcb(rcText, { ...real, ENV_ID: undefined });
    expect(keysOf(r.issues)).toEqual(['ENV_ID']);
  });
});

describe('checkProject', () => {
  const rc = checkRc(rcText, { sourceFunctions: FUNCTIONS }).rc as Rc;
  const cfg = (over: Record<string, string>) => loadConfig({ ...real, ...over });
  const deploy = { ENV_ID: 'prod-7g2k9x' };

  it('passes for a consistent configuration', () => {
    expect(checkProject(rc, cfg({}), deploy)).toEqual([]);
  });

  it('the webhook URL must be https and end with the route', () => {
    expect(
      keysOf(
        checkProject(
          rc,
          cfg({ WEBHOOK_URL: 'http://prod-7g2k9x.service.tcloudbase.com/webhook/coze' }),
          deploy,
        ),
      ),
    ).toEqual(['WEBHOOK_URL']);
    expect(
      text(
        checkProject(
          rc,
          cfg({ WEBHOOK_URL: 'https://prod-7g2k9x.service.tcloudbase.com/hook' }),
          deploy,
        ),
      ),
    ).toContain('/webhook/coze');
    const other = checkProject(
      rc,
      cfg({ WEBHOOK_URL: 'https://api.example.com/webhook/coze' }),
      deploy,
    );
    expect(errorsOf(other)).toEqual([]);
    expect(other.map((i) => i.level)).toEqual(['warning']);
  });

  it('the sweep budget must fit the sweeper timeout', () => {
    const short = {
      ...rc,
      functions: rc.functions.map((f) => (f.name === 'taskSweeper' ? { ...f, timeout: 60 } : f)),
    };
    expect(keysOf(checkProject(short, cfg({ SWEEP_BUDGET_MS: '55000' }), deploy))).toEqual([
      'SWEEP_BUDGET_MS',
    ]);
    expect(keysOf(checkProject(rc, cfg({ SWEEP_BUDGET_MS: '55000' }), deploy))).toEqual([]);
  });
});

describe('tcb output', () => {
  const r = (code: number | null, output: string, timedOut = false): RunResult => ({
    code,
    output,
    timedOut,
  });

  it('env list: not logged in, logged in, other account, timeout', () => {
    expect(
      interpretEnvList(r(1, '✖ 无有效身份信息，请使用 cloudbase login 登录'), 'prod-1').state,
    ).toBe('not-logged-in');
    expect(
      interpretEnvList(
        r(
          1,
          'unhandledRejection CloudBaseError: No valid identity information, please use cloudbase login to login',
        ),
        'prod-1',
      ).state,
    ).toBe('not-logged-in');
    const table = '│ 名称 │ 环境 Id │\n│ prod │ prod-1 │\n│ test │ test-2 │';
    expect(interpretEnvList(r(0, table), 'prod-1').state).toBe('ok');
    expect(interpretEnvList(r(0, table), 'prod-7').state).toBe('env-not-found');
    expect(interpretEnvList(r(0, 'prod-1 NORMAL'), 'prod').state).toBe('env-not-found');
    expect(interpretEnvList(r(0, 'prod-1 NORMAL'), 'prod-1').state).toBe('ok');
    expect(interpretEnvList(r(null, '', true), 'prod-1').state).toBe('failed');
    expect(interpretEnvList(r(1, 'boom'), 'prod-1').state).toBe('failed');
  });

  it('login: success, already logged in, bad key', () => {
    expect(interpretLogin(r(0, '✔ 登录成功！')).ok).toBe(true);
    expect(interpretLogin(r(0, '✔ You are logged in. No need to log in again.')).ok).toBe(true);
    expect(
      interpretLogin(r(1, '✖ 腾讯云密钥验证失败，请检查密钥是否正确或终端网络是否可用！')).ok,
    ).toBe(false);
    expect(interpretLogin(r(0, 'nothing')).ok).toBe(false);
  });

  it('deploy: exit 0 is not enough (tcb exits 0 on a failed deploy)', () => {
    expect(
      interpretDeploy(
        'webhookHandler',
        r(
          0,
          '✔ [webhookHandler] 云函数部署成功！\n云函数HTTP 访问服务访问链接：https://x/webhook/coze',
        ),
      ).ok,
    ).toBe(true);
    expect(
      interpretDeploy(
        'webhookHandler',
        r(0, '✔ [webhookHandler] Cloud function deployed successfully!'),
      ).ok,
    ).toBe(true);
    const failed =
      '✖ [webhookHandler] 函数部署失败\n✖   错误信息: AuthFailure\n云函数HTTP 访问服务访问链接：https://x/webhook/coze';
    expect(interpretDeploy('webhookHandler', r(0, failed)).ok).toBe(false);
    expect(
      interpretDeploy(
        'webhookHandler',
        r(0, 'No valid identity information, will automatically open authorization page for you.'),
      ).ok,
    ).toBe(false);
    expect(interpretDeploy('webhookHandler', r(0, '✔ [extractText] 云函数部署成功！')).ok).toBe(
      false,
    );
    expect(interpretDeploy('webhookHandler', r(1, '✔ [webhookHandler] 云函数部署成功！')).ok).toBe(
      false,
    );
    expect(interpretDeploy('webhookHandler', r(null, '', true)).reason).toContain('timed out');
  });

  it('service list and the printed link', () => {
    expect(
      interpretServiceList(
        r(0, '│ /webhook/coze │ webhookHandler │ 云函数 │'),
        '/webhook/coze',
        'webhookHandler',
      ),
    ).toBe(true);
    expect(interpretServiceList(r(0, 'HTTP 访问服务为空'), '/webhook/coze', 'webhookHandler')).toBe(
      false,
    );
    expect(
      printedServiceLink(
        '\n云函数HTTP 访问服务访问链接：https://e.service.tcloudbase.com/webhook/coze',
      ),
    ).toBe('https://e.service.tcloudbase.com/webhook/coze');
  });

  it('redact replaces secret values by their names', () => {
    expect(redact(`token ${real.COZE_API_TOKEN} ok`, { COZE_API_TOKEN: real.COZE_API_TOKEN })).toBe(
      'token [COZE_API_TOKEN] ok',
    );
    expect(redact('whsec_abcdef', {})).toBe('whsec_***');
  });

  it('parseArgs', () => {
    expect(parseArgs(['--dry-run', '--only', 'a,b']).args).toEqual({
      dryRun: true,
      skipBuild: false,
      help: false,
      only: ['a', 'b'],
    });
    expect(parseArgs(['--nope']).error).toContain('--nope');
  });
});

describe('main (in process, fake tcb)', () => {
  let root: string;
  const writeBundles = async (dir: string) => {
    const sizes: Record<string, number> = {};
    for (const name of FUNCTIONS) {
      const d = path.join(dir, 'dist', 'functions', name);
      fs.mkdirSync(d, { recursive: true });
      fs.writeFileSync(path.join(d, 'index.js'), 'exports.main=async()=>({})');
      fs.writeFileSync(
        path.join(d, 'package.json'),
        JSON.stringify({ dependencies: { 'wx-server-sdk': '4.0.2' } }),
      );
      fs.writeFileSync(
        path.join(d, 'config.json'),
        JSON.stringify({ permissions: { openapi: ['subscribeMessage.send'] } }),
      );
      sizes[name] = 27;
    }
    return sizes;
  };

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'deploy-'));
    fs.copyFileSync(path.join(ROOT, 'cloudbaserc.json'), path.join(root, 'cloudbaserc.json'));
    fs.copyFileSync(path.join(ROOT, '.env.example'), path.join(root, '.env.example'));
    fs.mkdirSync(path.join(root, 'scripts'));
    fs.copyFileSync(
      path.join(ROOT, 'scripts', 'build.mjs'),
      path.join(root, 'scripts', 'build.mjs'),
    );
    for (const name of FUNCTIONS) {
      fs.mkdirSync(path.join(root, 'cloudfunctions', name), { recursive: true });
      fs.writeFileSync(path.join(root, 'cloudfunctions', name, 'index.ts'), '');
    }
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(root, 'node_modules'), 'dir');
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  interface Call {
    args: string[];
  }
  const fakeTcb = (script: (args: string[]) => RunResult) => {
    const calls: Call[] = [];
    const runner = async (args: string[]) => {
      calls.push({ args });
      return script(args);
    };
    return { calls, runner };
  };
  const ok = (output: string): RunResult => ({ code: 0, timedOut: false, output });
  const run = async (
    argv: string[],
    env: Record<string, string | undefined>,
    runner?: ReturnType<typeof fakeTcb>['runner'],
  ) => {
    const lines: string[] = [];
    const code = await main({
      root,
      argv,
      processEnv: env,
      out: (l) => lines.push(l),
      build: writeBundles,
      ...(runner ? { runner } : {}),
    });
    return { code, out: lines.join('\n') };
  };

  const neverTcb = () =>
    fakeTcb(() => {
      throw new Error('tcb must not run before every check passed');
    });

  it('dry run with a real configuration: exit 0, the plan, no tcb call', async () => {
    fs.writeFileSync(
      path.join(root, '.env'),
      Object.entries(real)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n'),
    );
    const tcb = neverTcb();
    const { code, out } = await run(['--dry-run'], {}, tcb.runner);
    expect(code).toBe(0);
    expect(tcb.calls).toEqual([]);
    for (const name of FUNCTIONS) expect(out).toContain(name);
    expect(out).toContain('HTTP route: /webhook/coze -> webhookHandler');
    expect(out).toContain('Timer trigger: "sweep" -> taskSweeper, cron 0 * * * * * *');
    for (const key of CONFIG_KEYS) expect(out).toContain(key);
    expect(out).toMatch(/COZE_API_TOKEN +secret set \(\.env\) +-> extractText, taskSweeper\n/);
    for (const v of SECRET_VALUES) expect(out).not.toContain(v);
    expect(out).toContain('Dry run OK');
  });

  it('dry run of a copied .env.example: exit 1, every sample named (the deploy refuses them)', async () => {
    fs.copyFileSync(path.join(ROOT, '.env.example'), path.join(root, '.env'));
    const tcb = neverTcb();
    const { code, out } = await run(['--dry-run'], {}, tcb.runner);
    expect(code).toBe(1);
    expect(tcb.calls).toEqual([]);
    expect(out).toContain('Errors (7):');
    expect(out).not.toContain('Dry run OK');
    for (const key of SECRET_KEYS) {
      const v = example[key];
      if (v) expect(out).not.toContain(v);
    }
  });

  it('names every problem in one pass, the checks between settings included', async () => {
    const { code, out } = await run(['--dry-run'], {
      ...real,
      WEBHOOK_SECRET: 'plain',
      MAX_ACTIVE_TASKS_PER_USER: 'many',
      TCB_REGION: 'mars',
      COZE_API_BASE: 'https://www.coze.cn',
      SUBSCRIBE_SUCCESS_KEYS: 'title:thing1,status:phrase2',
      WEBHOOK_URL: 'http://prod-7g2k9x.service.tcloudbase.com/hook',
      SWEEP_BUDGET_MS: '65000',
      TASK_TIMEOUT_S: '5',
      TCB_API_KEY_ID: 'AKIDabcdefgh12345678',
    });
    expect(code).toBe(1);
    const keys = /\(keys: ([^)]*)\)/.exec(out)?.[1]?.split(', ').sort();
    expect(keys).toEqual([
      'COZE_API_BASE',
      'MAX_ACTIVE_TASKS_PER_USER',
      'SUBSCRIBE_SUCCESS_KEYS',
      'SWEEP_BUDGET_MS',
      'TASK_TIMEOUT_S',
      'TCB_API_KEY',
      'TCB_REGION',
      'WEBHOOK_SECRET',
      'WEBHOOK_URL',
    ]);
    // Both of WEBHOOK_URL's problems, not one now and the other after a fix.
    expect(out).toContain('WEBHOOK_URL must be https');
    expect(out).toContain('WEBHOOK_URL must end with the route path /webhook/coze');
  });

  /**
   * Every rule the deploy enforces, each shown to stop the dry run exactly as it stops the deploy:
   * the same exit code, the same message, and tcb never called.
   */
  const rcWith = (change: (rc: { functions: Record<string, unknown>[] }) => void) => () => {
    const file = path.join(root, 'cloudbaserc.json');
    const rc = JSON.parse(fs.readFileSync(file, 'utf8')) as {
      functions: Record<string, unknown>[];
    };
    change(rc);
    fs.writeFileSync(file, JSON.stringify(rc));
  };
  const vars = (rc: { functions: Record<string, unknown>[] }, fn: string) =>
    rc.functions.find((f) => f.name === fn)?.envVariables as Record<string, string>;
  const RULES: [
    string,
    { env?: Record<string, string | undefined>; setup?: () => void; argv?: string[] },
    string,
  ][] = [
    ['a required key missing', { env: { WEBHOOK_SECRET: '' } }, 'WEBHOOK_SECRET is required'],
    [
      'a malformed number',
      { env: { MAX_ACTIVE_TASKS_PER_USER: 'many' } },
      'MAX_ACTIVE_TASKS_PER_USER must be a whole number',
    ],
    [
      'a malformed secret',
      { env: { WEBHOOK_SECRET: 'plain' } },
      'WEBHOOK_SECRET has the wrong format',
    ],
    [
      'a sample value left in',
      { env: { ENV_ID: example.ENV_ID } },
      'ENV_ID is still the .env.example sample value',
    ],
    [
      'a value tcb would insert unescaped',
      { env: { SUBSCRIBE_TEMPLATE_SUCCESS_ID: 'a"b' } },
      'SUBSCRIBE_TEMPLATE_SUCCESS_ID contains " or \\',
    ],
    [
      'a value tcb would revive as JSON',
      { env: { SUBSCRIBE_TEMPLATE_FAILURE_ID: 'null' } },
      'SUBSCRIBE_TEMPLATE_FAILURE_ID parses as JSON',
    ],
    [
      'half an API key',
      { env: { TCB_API_KEY_ID: 'AKIDabcdefgh12345678' } },
      'TCB_API_KEY is required when the other half',
    ],
    ['an unknown region', { env: { TCB_REGION: 'mars' } }, 'TCB_REGION must be one of'],
    [
      "Coze's website as the API base",
      { env: { COZE_API_BASE: 'https://www.coze.cn' } },
      'COZE_API_BASE must be https://api.coze.cn or https://api.coze.com',
    ],
    [
      'a custom Coze base on this machine',
      { env: { COZE_API_BASE: 'https://127.0.0.1:3000/coze', COZE_API_BASE_CUSTOM: 'true' } },
      'COZE_API_BASE points at this machine',
    ],
    [
      'a custom Coze base over http',
      { env: { COZE_API_BASE: 'http://coze.example.com', COZE_API_BASE_CUSTOM: 'true' } },
      'COZE_API_BASE must be https in the cloud',
    ],
    [
      'a keyword list the send refuses',
      { env: { SUBSCRIBE_FAILURE_KEYS: 'title:thing1,status:phrase2' } },
      'SUBSCRIBE_FAILURE_KEYS is not a valid keyword list: field "time" is missing',
    ],
    [
      'a notice claim a live sender outlasts',
      { env: { NOTICE_CLAIM_STALE_S: '10' } },
      'NOTICE_CLAIM_STALE_S must be more than 10',
    ],
    [
      'a webhook URL over http',
      { env: { WEBHOOK_URL: 'http://prod-7g2k9x.service.tcloudbase.com/webhook/coze' } },
      'WEBHOOK_URL must be https',
    ],
    [
      'a webhook URL off the route',
      { env: { WEBHOOK_URL: 'https://prod-7g2k9x.service.tcloudbase.com/hook' } },
      'WEBHOOK_URL must end with the route path',
    ],
    [
      'a sweep budget over the timeout',
      { env: { SWEEP_BUDGET_MS: '65000' } },
      "SWEEP_BUDGET_MS plus COZE_TIMEOUT_MS and 2000 ms must stay within taskSweeper's 70 s timeout",
    ],
    [
      'a start bound over the timeout',
      { env: { COZE_START_TIMEOUT_MS: '9000' } },
      "COZE_START_TIMEOUT_MS + 2 s of database work must fit extractText's timeout",
    ],
    [
      'the Coze token given to the webhook',
      {
        setup: rcWith(
          (rc) => (vars(rc, 'webhookHandler').COZE_API_TOKEN = '{{env.COZE_API_TOKEN}}'),
        ),
      },
      "webhookHandler envVariables.COZE_API_TOKEN is not one of webhookHandler's settings",
    ],
    [
      'a setting a function needs left out',
      { setup: rcWith((rc) => delete vars(rc, 'taskSweeper').SWEEP_BUDGET_MS) },
      'taskSweeper envVariables lacks SWEEP_BUDGET_MS',
    ],
    [
      'a literal secret',
      { setup: rcWith((rc) => (vars(rc, 'webhookHandler').WEBHOOK_SECRET = 'whsec_AAAA')) },
      'webhookHandler envVariables.WEBHOOK_SECRET is a literal',
    ],
    [
      'the route missing',
      { setup: rcWith((rc) => delete rc.functions.find((f) => f.name === 'webhookHandler')?.path) },
      'webhookHandler needs "path": "/webhook/coze"',
    ],
    [
      'no bundles to deploy',
      { argv: ['--skip-build'] },
      'dist/functions does not exist: build first',
    ],
  ];

  it.each(RULES)('%s: the dry run fails as the deploy does', async (_rule, c, message) => {
    c.setup?.();
    const results = [];
    for (const argv of [['--dry-run'], []]) {
      const tcb = neverTcb();
      const r = await run([...argv, ...(c.argv ?? [])], { ...real, ...c.env }, tcb.runner);
      expect(tcb.calls).toEqual([]);
      results.push({ code: r.code, named: r.out.includes(message) });
    }
    expect(results).toEqual([
      { code: 1, named: true },
      { code: 1, named: true },
    ]);
  });

  it('--only naming no declared function is a usage error (exit 2), dry run or not', async () => {
    for (const argv of [
      ['--dry-run', '--only', 'bogus'],
      ['--only', 'bogus'],
    ]) {
      const errors: string[] = [];
      const code = await main({
        root,
        argv,
        processEnv: real,
        out: () => undefined,
        errOut: (l) => errors.push(l),
        build: writeBundles,
        runner: neverTcb().runner,
      });
      expect(code).toBe(2);
      expect(errors[0]).toContain('--only bogus: no such function');
    }
  });

  it('dry run without one secret: exit 1 naming it', async () => {
    const { code, out } = await run(['--dry-run'], { ...real, WEBHOOK_SECRET: '' });
    expect(code).toBe(1);
    expect(out).toMatch(/Errors \(1\):\n {2}- WEBHOOK_SECRET is required/);
    expect(out).toContain('keys: WEBHOOK_SECRET');
  });

  it('not logged in and no API key: stops after the login check', async () => {
    const tcb = fakeTcb(() => ({
      code: 1,
      timedOut: false,
      output: '✖ 无有效身份信息，请使用 cloudbase login 登录',
    }));
    const { code, out } = await run([], real, tcb.runner);
    expect(code).toBe(1);
    expect(tcb.calls.map((c) => c.args.join(' '))).toEqual(['env list']);
    expect(out).toContain('npx tcb login');
  });

  it('logs in with the API key, deploys each function with --force, checks the route', async () => {
    let loggedIn = false;
    const tcb = fakeTcb((args) => {
      const cmd = args.join(' ');
      if (cmd === '-r ap-guangzhou env list') {
        return loggedIn
          ? ok('│ prod │ prod-7g2k9x │ 正常 │')
          : { code: 1, timedOut: false, output: 'No valid identity information' };
      }
      if (args.includes('login')) {
        loggedIn = true;
        return ok('✔ login succeeded.');
      }
      if (args[2] === 'fn' && args[3] === 'deploy') {
        const name = args[4] ?? '';
        return ok(
          `✔ [${name}] 云函数部署成功！${name === 'webhookHandler' ? '\n云函数HTTP 访问服务访问链接：https://prod-7g2k9x.service.tcloudbase.com/webhook/coze' : ''}`,
        );
      }
      if (args.includes('service')) return ok('│ /webhook/coze │ webhookHandler │ 云函数 │');
      throw new Error(`unexpected ${cmd}`);
    });
    const keys = {
      TCB_API_KEY_ID: 'AKIDabcdefgh12345678',
      TCB_API_KEY: 'S3cretKeyValue0123456789',
      TCB_REGION: 'ap-guangzhou',
    };
    const { code, out } = await run([], { ...real, ...keys }, tcb.runner);
    expect(code).toBe(0);
    expect(tcb.calls.map((c) => c.args.join(' '))).toEqual(
      [
        'env list',
        'login --apiKeyId AKIDabcdefgh12345678 --apiKey S3cretKeyValue0123456789',
        'env list',
        'fn deploy extractText --force -e prod-7g2k9x',
        'fn deploy webhookHandler --force -e prod-7g2k9x',
        'fn deploy taskSweeper --force -e prod-7g2k9x',
        'service list -e prod-7g2k9x',
      ].map((s) => `-r ap-guangzhou ${s}`),
    );
    expect(out).toContain(real.WEBHOOK_URL);
    expect(out).toContain('DevTools');
    for (const v of [...SECRET_VALUES, keys.TCB_API_KEY, keys.TCB_API_KEY_ID])
      expect(out).not.toContain(v);
  });

  it('a deploy that exits 0 but reports a failure stops the run', async () => {
    const tcb = fakeTcb((args) => {
      if (args[0] === 'env') return ok('prod-7g2k9x');
      if (args[2] === 'extractText') return ok('✔ [extractText] 云函数部署成功！');
      return ok(`✖ [${args[2] ?? ''}] 函数部署失败\n  错误信息: InternalError`);
    });
    const { code, out } = await run([], real, tcb.runner);
    expect(code).toBe(1);
    expect(tcb.calls.map((c) => c.args.slice(0, 3).join(' '))).toEqual([
      'env list',
      'fn deploy extractText',
      'fn deploy webhookHandler',
    ]);
    expect(out).toContain('Deployed before the failure: extractText');
  });

  it('a logged-in account that does not list ENV_ID stops the run', async () => {
    const tcb = fakeTcb(() => ok('│ other │ other-env-1 │'));
    const { code, out } = await run([], real, tcb.runner);
    expect(code).toBe(1);
    expect(tcb.calls).toHaveLength(1);
    expect(out).toContain('TCB_REGION');
  });
});

describe('the CLI entry (child process, offline)', () => {
  const tsx = path.join(ROOT, 'node_modules', '.bin', 'tsx');
  const runCli = (env: Record<string, string | undefined>) =>
    new Promise<{ code: number; out: string }>((resolve) => {
      execFile(
        tsx,
        [path.join(ROOT, 'scripts', 'deploy.ts'), '--dry-run', '--skip-build'],
        { cwd: ROOT, env: { PATH: process.env.PATH, HOME: os.tmpdir(), ...env }, timeout: 60_000 },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
          resolve({ code, out: stdout + stderr });
        },
      );
    });

  it('exits 0 with a real configuration and 1 without a secret, naming it', async () => {
    const good = await runCli(real);
    expect(good.out).toContain('Dry run OK');
    expect(good.code).toBe(0);
    const bad = await runCli({ ...real, COZE_API_TOKEN: '' });
    expect(bad.code).toBe(1);
    expect(bad.out).toContain('COZE_API_TOKEN is required');
  }, 60_000);
});
