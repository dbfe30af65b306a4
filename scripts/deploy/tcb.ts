/**
 * Running the project's own tcb (a timeout on every call, output redacted line by line) and reading
 * what it printed: the login, each function's deploy, the HTTP route.
 *
 * Facts this relies on, read in node_modules/@cloudbase/cli 2.12.10 (dist/standalone/cli.js):
 * - cloudbaserc.json is rendered as text: `JSON.stringify(config)`, then mustache with `{{env.X}}`
 *   looked up in {ENV_ID: config.envId, ...`.env`, ...`.env.local`, ...process.env}, values
 *   inserted unescaped (its `mustache.escape` returns strings as they are), then `JSON.parse` with
 *   a reviver that turns any string that parses as a JSON object/array/null into that value.
 *   A `"` or `\` in a value breaks or rewrites the JSON; an unset key becomes "".
 * - `tcb login --apiKeyId --apiKey` stores {secretId, secretKey} in ~/.config/.cloudbase/auth.json;
 *   every command that needs auth calls `checkAndGetCredential()`, which reads that file and calls
 *   the `DescribeEnvs` API (a credential that fails that call counts as no login). `tcb env list`
 *   is such a command without `autoRunLogin`: not logged in, it prints "无有效身份信息 / No valid
 *   identity information" and exits 1; logged in, it prints a table with every EnvId.
 * - `tcb fn deploy` has `autoRunLogin` (no login → it opens a browser authorisation) and, when the
 *   deploy fails, only logs "[name] 函数部署失败 / 错误信息: ..." and still exits 0.
 * - `tcb login` while a credential is valid says "您已登录" and keeps the old one.
 * - Messages are Chinese or English depending on the system locale, so both are matched.
 */
import { spawn } from 'node:child_process';
import { tcbEntry } from './bundles';

export interface RunResult {
  code: number | null;
  timedOut: boolean;
  /** stdout and stderr, colours removed. */
  output: string;
}

export type Runner = (args: string[], opts: { timeoutMs: number }) => Promise<RunResult>;

const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;?]*[A-Za-z]`, 'g');

function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

/** Spawns the project's own tcb with a timeout; prints its output redacted, line by line. */
export function createTcbRunner(
  root: string,
  env: NodeJS.ProcessEnv,
  onLine: (line: string) => void,
): Runner {
  return (args, { timeoutMs }) =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [tcbEntry(root), ...args], {
        cwd: root,
        env: { ...env, NO_UPDATE_NOTIFIER: '1', FORCE_COLOR: '0', NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      let partial = '';
      let timedOut = false;
      const take = (chunk: Buffer) => {
        const text = stripAnsi(chunk.toString('utf8'));
        output += text;
        const lines = (partial + text).split(/\r?\n|\r/);
        partial = lines.pop() ?? '';
        for (const l of lines) if (l.trim()) onLine(l);
      };
      child.stdout.on('data', take);
      child.stderr.on('data', take);
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }, timeoutMs);
      const finish = (code: number | null) => {
        clearTimeout(timer);
        if (partial.trim()) onLine(partial);
        partial = '';
        resolve({ code, timedOut, output });
      };
      child.on('error', () => finish(-1));
      child.on('close', (code) => finish(code));
    });
}

const NOT_LOGGED_IN = /无有效身份信息|No valid identity information/i;
const LOGIN_OK = /登录成功|login succeeded|您已登录|You are logged in/i;
const LOGIN_FAILED = /密钥验证失败|Key verification failed|登录失败|login failed/i;

function tail(output: string, n = 3): string {
  return output
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-n)
    .join(' | ');
}

export type LoginState =
  { state: 'ok' } | { state: 'not-logged-in' | 'env-not-found' | 'failed'; reason: string };

/** Whether a `tcb env list` table has a cell that is exactly the environment id. */
function listsEnv(output: string, envId: string): boolean {
  if (/[│|┃]/.test(output)) {
    return output
      .split(/\r?\n/)
      .some((l) => l.split(/[│|┃]/).some((cell) => cell.trim() === envId));
  }
  const escaped = envId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^A-Za-z0-9-])${escaped}([^A-Za-z0-9-]|$)`, 'm').test(output);
}

/** `tcb env list`: exit 0 and a table that names the environment. */
export function interpretEnvList(r: RunResult, envId: string): LoginState {
  if (r.timedOut) return { state: 'failed', reason: 'tcb env list timed out (network or proxy?)' };
  if (NOT_LOGGED_IN.test(r.output))
    return { state: 'not-logged-in', reason: 'tcb has no valid login' };
  if (r.code !== 0)
    return { state: 'failed', reason: `tcb env list exited ${String(r.code)}: ${tail(r.output)}` };
  if (!listsEnv(r.output, envId)) {
    return {
      state: 'env-not-found',
      reason: `the logged-in account does not list ${envId} (another account, or another region: set TCB_REGION)`,
    };
  }
  return { state: 'ok' };
}

export function interpretLogin(r: RunResult): { ok: boolean; reason: string } {
  if (r.timedOut) return { ok: false, reason: 'tcb login timed out' };
  if (r.code !== 0 || LOGIN_FAILED.test(r.output) || !LOGIN_OK.test(r.output)) {
    return { ok: false, reason: `tcb login failed (exit ${String(r.code)}): ${tail(r.output)}` };
  }
  return { ok: true, reason: '' };
}

/** Failure lines tcb 2.12.10 prints while still exiting 0, plus the generic ones. */
function deployFailureMarkers(name: string): RegExp[] {
  const n = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return [
    new RegExp(`\\[${n}\\] (函数部署失败|部署失败|Function deploy failed|Deploy failed)`),
    /错误信息:|错误码:/,
    /云函数更新失败|cloud function update failed/i,
    /等待函数更新超时|Function update timeout/i,
    /个云函数部署失败|cloud function\(s\) deployment failed/i,
    NOT_LOGGED_IN,
    /无有效身份信息，将自动为您打开授权页面|will automatically open authorization page/i,
    /unhandledRejection/,
    /^\s*[✖×] /m,
  ];
}

function deploySuccessMarker(name: string): RegExp {
  const n = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(
    `\\[${n}\\] (云函数部署成功|云函数更新成功|Cloud function deployed successfully|Cloud function updated successfully)`,
    'i',
  );
}

export function interpretDeploy(name: string, r: RunResult): { ok: boolean; reason: string } {
  if (r.timedOut) return { ok: false, reason: `tcb fn deploy ${name} timed out` };
  if (r.code !== 0)
    return {
      ok: false,
      reason: `tcb fn deploy ${name} exited ${String(r.code)}: ${tail(r.output)}`,
    };
  const marker = deployFailureMarkers(name).find((re) => re.test(r.output));
  if (marker)
    return {
      ok: false,
      reason: `tcb reported a failure for ${name} (it exits 0 anyway): ${tail(r.output)}`,
    };
  if (!deploySuccessMarker(name).test(r.output)) {
    return {
      ok: false,
      reason: `tcb did not report "[${name}] 云函数部署成功": ${tail(r.output)}`,
    };
  }
  return { ok: true, reason: '' };
}

/** `tcb service list`: a table row with the path and the function. */
export function interpretServiceList(r: RunResult, route: string, fn: string): boolean {
  if (r.timedOut || r.code !== 0 || NOT_LOGGED_IN.test(r.output)) return false;
  return r.output.split(/\r?\n/).some((l) => l.includes(route) && l.includes(fn));
}

/** The HTTP access link `tcb fn deploy` prints for a function with a path. */
export function printedServiceLink(output: string): string | undefined {
  return /(?:HTTP 访问服务访问链接：|HTTP access service link: )\s*(\S+)/.exec(output)?.[1];
}
