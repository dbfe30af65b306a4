/**
 * The deploy, as named steps: read the flags → build → check everything offline (every problem in
 * one pass) → print the plan and the problems → (dry run: stop here) → the tcb login → deploy each
 * function → the HTTP route → what only the consoles can do. A dry run is the deploy minus the
 * steps that reach the cloud: whatever the deploy would refuse, the dry run refuses too.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { SECRET_KEYS } from '../../shared/config';
import { parseEnvFile, resolveEnv, type ResolvedEnv } from '../env-file';
import { USAGE, parseArgs, type DeployArgs } from './args';
import { checkBundles, checkCli, sourceFunctions, type BundleInfo } from './bundles';
import { checkProject } from './cross-checks';
import { checkEnvironment, type EnvCheck } from './env-check';
import { DIST_FUNCTIONS, RC_FILE, ROOT, ROUTE } from './facts';
import { blank, err, errorsOf, warn, type Issue } from './issues';
import { DEPLOY_SECRET_KEYS } from './keys';
import { formatPlan } from './plan';
import { buildTargetMajor, checkRc, type Rc, type RcFunction } from './rc';
import { redact } from './redact';
import { renderLikeTcb } from './render';
import {
  createTcbRunner,
  interpretDeploy,
  interpretEnvList,
  interpretLogin,
  interpretServiceList,
  printedServiceLink,
  type Runner,
} from './tcb';

export interface MainOptions {
  root?: string;
  argv: string[];
  processEnv: Record<string, string | undefined>;
  out?: (line: string) => void;
  /** Where a usage error goes; default stderr. */
  errOut?: (line: string) => void;
  /** Builds the bundles; default imports scripts/build.mjs. */
  build?: (root: string) => Promise<Record<string, number>>;
  /** Runs tcb; default spawns node_modules/@cloudbase/cli with a timeout. */
  runner?: Runner;
}

const TIMEOUTS = { envList: 90_000, login: 120_000, deploy: 600_000, service: 90_000 };

/** Exit codes: 0 done, 1 a problem (each named), 2 bad flags. */
const EXIT = { ok: 0, problem: 1, usage: 2 } as const;

async function defaultBuild(root: string): Promise<Record<string, number>> {
  const mod = (await import(pathToFileURL(path.join(root, 'scripts', 'build.mjs')).href)) as {
    buildFunctions: (o?: { quiet?: boolean }) => Promise<Record<string, number>>;
  };
  return mod.buildFunctions({ quiet: true });
}

interface Context {
  root: string;
  args: DeployArgs;
  out: (line: string) => void;
  env: ResolvedEnv;
}

/** What the offline checks found: the parts later steps use, and every problem. */
interface Checked {
  rc?: Rc;
  envCheck: EnvCheck;
  bundles?: Record<string, BundleInfo>;
  bundlesChecked: boolean;
  issues: Issue[];
}

/** The deployable configuration, once every check passed. */
interface Ready {
  rc: Rc;
  envId: string;
  region?: string;
  webhookUrl: string;
  deployKeys: NonNullable<EnvCheck['deploy']>;
}

export async function main(opts: MainOptions): Promise<number> {
  const root = opts.root ?? ROOT;
  const out = opts.out ?? ((l: string) => console.log(l));
  const errOut = opts.errOut ?? ((l: string) => console.error(l));
  const parsed = parseArgs(opts.argv);
  if (!parsed.args) return usageError(errOut, parsed.error);
  const args = parsed.args;
  if (args.help) {
    out(USAGE);
    return EXIT.ok;
  }
  out(
    args.dryRun ? 'deploy --dry-run: every check the deploy makes, nothing is deployed' : 'deploy',
  );
  const ctx: Context = { root, args, out, env: resolveEnv(root, opts.processEnv) };

  const built = await build(ctx, opts.build ?? defaultBuild);
  if (built === null) return EXIT.problem;
  const checked = checkOffline(ctx, built);
  const unknown = unknownOnly(ctx, checked.rc);
  if (unknown) return usageError(errOut, unknown);
  printPlan(ctx, checked);
  const ready = reportProblems(ctx, checked);
  if (!ready) return EXIT.problem;
  printSteps(ctx, ready);
  if (args.dryRun) {
    out('');
    out(
      'Dry run OK: every check the deploy makes passed. Nothing was deployed; tcb was not called.',
    );
    return EXIT.ok;
  }

  const secrets: Record<string, string | undefined> = {};
  for (const k of [...SECRET_KEYS, ...DEPLOY_SECRET_KEYS]) secrets[k] = ctx.env.values[k];
  const print = (l: string) => out(`    | ${redact(l, secrets)}`);
  const run = opts.runner ?? createTcbRunner(root, opts.processEnv, print);
  const tcb = { run, regionArgs: ready.region ? ['-r', ready.region] : [], secrets };

  if (!(await ensureLogin(ctx, ready, tcb))) return EXIT.problem;
  const deployed = await deployFunctions(ctx, ready, tcb);
  if (!deployed) return EXIT.problem;
  if (!(await ensureRoute(ctx, ready, tcb))) return EXIT.problem;
  printNextSteps(ctx, ready, deployed);
  return EXIT.ok;
}

function usageError(errOut: (line: string) => void, problem: string | undefined): number {
  errOut(`npm run deploy: ${problem ?? 'bad arguments'}`);
  errOut(USAGE);
  return EXIT.usage;
}

/** Step: build the bundles (unless --skip-build). Null when the build failed. */
async function build(
  ctx: Context,
  builder: (root: string) => Promise<Record<string, number>>,
): Promise<{ built: boolean } | null> {
  if (ctx.args.skipBuild) return { built: false };
  try {
    const sizes = await builder(ctx.root);
    ctx.out(`build: ${Object.keys(sizes).length} function bundle(s) in ${DIST_FUNCTIONS}`);
    return { built: true };
  } catch (e) {
    ctx.out(`build failed: ${e instanceof Error ? e.message : String(e)}`);
    return null;
  }
}

function readFile(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** Step: every offline check, each reporting all it finds, so one run names every problem. */
function checkOffline(ctx: Context, { built }: { built: boolean }): Checked {
  const { root, env } = ctx;
  const issues: Issue[] = env.notes.map((n) =>
    warn(`${n.file}:${n.line}${n.key ? ` (${n.key})` : ''} ${n.message}`, n.key),
  );

  const example = readFile(path.join(root, '.env.example'));
  if (example === null) issues.push(warn('.env.example is missing'));
  const envCheck = checkEnvironment(env.values, {
    samples: example === null ? {} : parseEnvFile(example).values,
    source: env.source,
  });
  issues.push(...envCheck.issues);

  const rcText = readFile(path.join(root, RC_FILE));
  let rc: Rc | undefined;
  if (rcText === null) {
    issues.push(err(`${RC_FILE} is missing`));
  } else {
    const rcCheck = checkRc(rcText, {
      sourceFunctions: sourceFunctions(root),
      targetMajor: buildTargetMajor(root),
      root,
    });
    issues.push(...rcCheck.issues);
    rc = rcCheck.rc;
    // tcb's rendering, reported only for keys no other check already named.
    const flagged = new Set(issues.filter((i) => i.key).map((i) => i.key));
    for (const i of renderLikeTcb(rcText, env.values).issues) {
      if (!i.key || !flagged.has(i.key)) issues.push(i);
    }
  }
  if (rc) issues.push(...checkProject(rc, envCheck.values, envCheck.deploy));
  issues.push(...checkCli(root));

  const distRoot = path.join(root, DIST_FUNCTIONS);
  const bundlesChecked = built || fs.existsSync(distRoot);
  let bundles: Record<string, BundleInfo> | undefined;
  if (!bundlesChecked) {
    issues.push(err(`${DIST_FUNCTIONS} does not exist: build first (drop --skip-build)`));
  } else if (rc) {
    const b = checkBundles(
      distRoot,
      rc.functions.map((f) => f.name),
    );
    bundles = b.info;
    issues.push(...b.issues);
  }
  return {
    ...(rc ? { rc } : {}),
    envCheck,
    ...(bundles ? { bundles } : {}),
    bundlesChecked,
    issues,
  };
}

/** `--only` naming a function cloudbaserc.json does not declare is a usage error. */
function unknownOnly(ctx: Context, rc: Rc | undefined): string | null {
  const names = rc?.functions.map((f) => f.name);
  const unknown = names ? (ctx.args.only ?? []).filter((n) => !names.includes(n)) : [];
  return unknown.length
    ? `--only ${unknown.join(',')}: no such function (declared: ${names?.join(', ')})`
    : null;
}

function envIdOf(ctx: Context, checked: Checked): string | undefined {
  const fromEnv = ctx.env.values.ENV_ID;
  return checked.envCheck.deploy?.ENV_ID ?? (blank(fromEnv) ? undefined : fromEnv);
}

/** Step: the plan (functions, route, timer, each function's variables by name). */
function printPlan(ctx: Context, checked: Checked): void {
  const envId = envIdOf(ctx, checked);
  const region = checked.envCheck.deploy?.TCB_REGION;
  ctx.out('');
  for (const l of formatPlan({
    dryRun: ctx.args.dryRun,
    ...(checked.rc ? { rc: checked.rc } : {}),
    ...(envId ? { envId } : {}),
    ...(region ? { region } : {}),
    env: ctx.env,
    ...(checked.bundles ? { bundles: checked.bundles } : {}),
    bundlesChecked: checked.bundlesChecked,
    ...(ctx.args.only ? { only: ctx.args.only } : {}),
    issues: checked.issues,
  })) {
    ctx.out(l);
  }
}

/** Step: every warning and error at once. The deployable configuration, or null with the errors. */
function reportProblems(ctx: Context, checked: Checked): Ready | null {
  const { out } = ctx;
  const warnings = checked.issues.filter((i) => i.level === 'warning');
  const errors = errorsOf(checked.issues);
  if (warnings.length) {
    out('');
    out(`Warnings (${warnings.length}):`);
    for (const w of warnings) out(`  - ${w.message}`);
  }
  const { rc, envCheck } = checked;
  const envId = envIdOf(ctx, checked);
  if (errors.length || !rc || !envCheck.config || !envCheck.deploy || !envId) {
    out('');
    out(`Errors (${errors.length}):`);
    for (const e of errors) out(`  - ${e.message}`);
    const keys = [...new Set(errors.map((e) => e.key).filter((k): k is string => Boolean(k)))];
    out('');
    out(
      `Not deployed: fix the errors above${keys.length ? ` (keys: ${keys.join(', ')})` : ''}. Values are never printed.`,
    );
    return null;
  }
  const region = envCheck.deploy.TCB_REGION;
  return {
    rc,
    envId,
    ...(region ? { region } : {}),
    webhookUrl: envCheck.config.WEBHOOK_URL,
    deployKeys: envCheck.deploy,
  };
}

function targets(ctx: Context, ready: Ready): RcFunction[] {
  return ready.rc.functions.filter((f) => !ctx.args.only || ctx.args.only.includes(f.name));
}

function printSteps(ctx: Context, ready: Ready): void {
  const tcb = `tcb${ready.region ? ` -r ${ready.region}` : ''}`;
  const steps = [
    `${tcb} env list  (login check; must list ${ready.envId})`,
    ...targets(ctx, ready).map((f) => `${tcb} fn deploy ${f.name} --force -e ${ready.envId}`),
    `${tcb} service list -e ${ready.envId}  (route ${ROUTE.path} -> ${ROUTE.fn})`,
  ];
  ctx.out('');
  ctx.out('Steps:');
  steps.forEach((s, i) => ctx.out(`  ${i + 1}. ${s}`));
}

interface Tcb {
  run: Runner;
  regionArgs: string[];
  secrets: Record<string, string | undefined>;
}

/** Step: a valid tcb login that lists ENV_ID; logs in with the API key when there is none. */
async function ensureLogin(ctx: Context, ready: Ready, tcb: Tcb): Promise<boolean> {
  const { out } = ctx;
  const envList = async () =>
    interpretEnvList(
      await tcb.run([...tcb.regionArgs, 'env', 'list'], { timeoutMs: TIMEOUTS.envList }),
      ready.envId,
    );
  out('');
  out('Checking the tcb login (tcb env list)...');
  let login = await envList();
  const { TCB_API_KEY_ID, TCB_API_KEY } = ready.deployKeys;
  if (login.state === 'not-logged-in' && TCB_API_KEY_ID && TCB_API_KEY) {
    out('Not logged in: tcb login --apiKeyId <TCB_API_KEY_ID> --apiKey <TCB_API_KEY>');
    const l = interpretLogin(
      await tcb.run(
        [...tcb.regionArgs, 'login', '--apiKeyId', TCB_API_KEY_ID, '--apiKey', TCB_API_KEY],
        { timeoutMs: TIMEOUTS.login },
      ),
    );
    if (!l.ok) {
      out(`Not deployed: ${redact(l.reason, tcb.secrets)}`);
      return false;
    }
    login = await envList();
  }
  if (login.state !== 'ok') {
    out(
      login.state === 'not-logged-in'
        ? 'Not deployed: tcb is not logged in. Run `npx tcb login` (it shows a code to confirm in the browser), or set TCB_API_KEY_ID and TCB_API_KEY (CI).'
        : `Not deployed: ${redact(login.reason, tcb.secrets)}`,
    );
    return false;
  }
  out(`Logged in; ${ready.envId} is visible.`);
  return true;
}

/** Step: `tcb fn deploy` per function, each outcome read from its output. Null on a failure. */
async function deployFunctions(
  ctx: Context,
  ready: Ready,
  tcb: Tcb,
): Promise<{ done: string[]; link?: string } | null> {
  const { out } = ctx;
  const done: string[] = [];
  let link: string | undefined;
  for (const f of targets(ctx, ready)) {
    out('');
    out(`Deploying ${f.name} (tcb fn deploy ${f.name} --force -e ${ready.envId})...`);
    const r = await tcb.run(
      [...tcb.regionArgs, 'fn', 'deploy', f.name, '--force', '-e', ready.envId],
      {
        timeoutMs: TIMEOUTS.deploy,
      },
    );
    const verdict = interpretDeploy(f.name, r);
    if (!verdict.ok) {
      out(`FAILED: ${redact(verdict.reason, tcb.secrets)}`);
      out(
        `Deployed before the failure: ${done.length ? done.join(', ') : 'none'}. Fix and run again.`,
      );
      return null;
    }
    if (f.path) link = printedServiceLink(r.output) ?? link;
    done.push(f.name);
    out(`OK: ${f.name}`);
  }
  return { done, ...(link ? { link } : {}) };
}

/** Step: the HTTP route, applied by fn deploy from "path"; created by hand if it is not there. */
async function ensureRoute(ctx: Context, ready: Ready, tcb: Tcb): Promise<boolean> {
  const routeFn = ready.rc.functions.find((f) => f.name === ROUTE.fn);
  if (!routeFn?.path || !targets(ctx, ready).includes(routeFn)) return true;
  const { out } = ctx;
  const service = (args: string[]) =>
    tcb.run([...tcb.regionArgs, 'service', ...args, '-e', ready.envId], {
      timeoutMs: TIMEOUTS.service,
    });
  out('');
  out(`Checking the HTTP route ${routeFn.path} -> ${routeFn.name}...`);
  let routed = interpretServiceList(await service(['list']), routeFn.path, routeFn.name);
  if (!routed) {
    out(
      `Route missing: tcb service create -p ${routeFn.path} -f ${routeFn.name} -e ${ready.envId}`,
    );
    await service(['create', '-p', routeFn.path, '-f', routeFn.name]);
    routed = interpretServiceList(await service(['list']), routeFn.path, routeFn.name);
  }
  if (!routed) {
    out(`FAILED: the route ${routeFn.path} -> ${routeFn.name} is not listed by tcb service list.`);
    return false;
  }
  out('Route OK.');
  return true;
}

/** Step: the webhook URL and what only the consoles can do. */
function printNextSteps(ctx: Context, ready: Ready, deployed: { done: string[]; link?: string }) {
  const { out } = ctx;
  const webhook = ready.webhookUrl;
  out('');
  out(`Deployed to ${ready.envId}: ${deployed.done.join(', ')}.`);
  out('');
  out('Webhook URL (WEBHOOK_URL, handed to every Coze run as callback_url):');
  out(`  ${webhook}`);
  if (deployed.link && deployed.link.replace(/\/$/, '') !== webhook.replace(/\/$/, '')) {
    out(
      `  tcb printed ${deployed.link} for the route: if that is the working domain, set WEBHOOK_URL to it and deploy again.`,
    );
  }
  out('');
  out('Still to do by hand (the CLI cannot), then check it all with npm run smoke:');
  out(
    `  1. Cloud-call permission (openapi subscribeMessage.send, from each config.json): in WeChat DevTools,`,
  );
  out(
    `     with cloudfunctionRoot at ${DIST_FUNCTIONS}/, right-click each function -> 上传并部署：云端安装依赖.`,
  );
  out(
    '     Without it notices fail with -604101. Then check the variables are still set (console -> 云函数 -> 函数配置).',
  );
  out(
    '  2. Subscription templates: mini-program console -> 订阅消息 -> pick templates whose keywords match',
  );
  out(
    '     SUBSCRIBE_SUCCESS_KEYS / SUBSCRIBE_FAILURE_KEYS; put their ids in .env and deploy again.',
  );
  out('  3. Database: npm run db:init (collections, indexes, security rules).');
  out('  4. npm run smoke: the route, the secret and one task through the real workflow.');
}
