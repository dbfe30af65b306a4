/**
 * The deploy, step by step: build → check the configuration offline → (dry run: print the plan,
 * stop) → check the tcb login → `tcb fn deploy <name> --force` per function, each with a timeout
 * and its outcome checked → check the HTTP route → print the webhook URL and what only the
 * consoles can do.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { SECRET_KEYS } from '../../shared/config';
import { parseEnvFile, resolveEnv } from '../env-file';
import { USAGE, parseArgs } from './args';
import { checkBundles, checkCli, sourceFunctions, type BundleInfo } from './bundles';
import { checkProject } from './cross-checks';
import { checkEnvironment } from './env-check';
import { DIST_FUNCTIONS, RC_FILE, ROOT, ROUTE } from './facts';
import { blank, err, errorsOf, warn, type Issue } from './issues';
import { DEPLOY_SECRET_KEYS } from './keys';
import { formatPlan } from './plan';
import { buildTargetMajor, checkRc } from './rc';
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

export const TIMEOUTS = { envList: 90_000, login: 120_000, deploy: 600_000, service: 90_000 };

async function defaultBuild(root: string): Promise<Record<string, number>> {
  const mod = (await import(pathToFileURL(path.join(root, 'scripts', 'build.mjs')).href)) as {
    buildFunctions: (o?: { quiet?: boolean }) => Promise<Record<string, number>>;
  };
  return mod.buildFunctions({ quiet: true });
}

export async function main(opts: MainOptions): Promise<number> {
  const root = opts.root ?? ROOT;
  const out = opts.out ?? ((l: string) => console.log(l));
  const parsedArgs = parseArgs(opts.argv);
  if (!parsedArgs.args) {
    const errOut = opts.errOut ?? ((l: string) => console.error(l));
    errOut(`npm run deploy: ${parsedArgs.error ?? 'bad arguments'}`);
    errOut(USAGE);
    return 2;
  }
  const args = parsedArgs.args;
  if (args.help) {
    out(USAGE);
    return 0;
  }
  out(args.dryRun ? 'deploy --dry-run: offline checks, nothing is deployed' : 'deploy');

  const env = resolveEnv(root, opts.processEnv);
  const issues: Issue[] = env.notes.map((n) =>
    warn(`${n.file}:${n.line}${n.key ? ` (${n.key})` : ''} ${n.message}`, n.key),
  );

  // 1. Build.
  let built = false;
  if (!args.skipBuild) {
    try {
      const sizes = await (opts.build ?? defaultBuild)(root);
      built = true;
      out(`build: ${Object.keys(sizes).length} function bundle(s) in ${DIST_FUNCTIONS}`);
    } catch (e) {
      out(`build failed: ${e instanceof Error ? e.message : String(e)}`);
      return 1;
    }
  }

  // 2. Checks, all offline.
  let samples: Record<string, string> = {};
  try {
    samples = parseEnvFile(fs.readFileSync(path.join(root, '.env.example'), 'utf8')).values;
  } catch {
    issues.push(warn('.env.example is missing'));
  }
  const envCheck = checkEnvironment(env.values, {
    forDeploy: !args.dryRun,
    samples,
    source: env.source,
  });
  issues.push(...envCheck.issues);

  let rcText = '';
  try {
    rcText = fs.readFileSync(path.join(root, RC_FILE), 'utf8');
  } catch {
    issues.push(err(`${RC_FILE} is missing`));
  }
  const sources = sourceFunctions(root);
  const rcCheck = rcText
    ? checkRc(rcText, { sourceFunctions: sources, targetMajor: buildTargetMajor(root), root })
    : { issues: [] as Issue[] };
  issues.push(...rcCheck.issues);
  const rc = rcCheck.rc;
  if (rcText) {
    const flagged = new Set(issues.filter((i) => i.key).map((i) => i.key));
    for (const i of renderLikeTcb(rcText, env.values).issues) {
      if (!i.key || !flagged.has(i.key)) issues.push(i);
    }
  }
  if (rc && envCheck.config) issues.push(...checkProject(rc, envCheck.config, envCheck.deploy));
  if (rc && args.only) {
    for (const n of args.only) {
      if (!rc.functions.some((f) => f.name === n))
        issues.push(err(`--only ${n}: no such function`));
    }
  }
  issues.push(...checkCli(root));

  const distRoot = path.join(root, DIST_FUNCTIONS);
  let bundles: Record<string, BundleInfo> | undefined;
  const bundlesChecked = built || fs.existsSync(distRoot);
  if (rc && bundlesChecked) {
    const b = checkBundles(
      distRoot,
      rc.functions.map((f) => f.name),
    );
    bundles = b.info;
    issues.push(...b.issues);
  } else if (!bundlesChecked) {
    issues.push(
      args.dryRun
        ? warn(`bundles not checked: ${DIST_FUNCTIONS} does not exist (--skip-build)`)
        : err(`${DIST_FUNCTIONS} does not exist: build first (drop --skip-build)`),
    );
  }

  const envId =
    envCheck.deploy?.ENV_ID ?? (blank(env.values.ENV_ID) ? undefined : env.values.ENV_ID);
  const region = envCheck.deploy?.TCB_REGION;
  out('');
  for (const l of formatPlan({
    dryRun: args.dryRun,
    ...(rc ? { rc } : {}),
    ...(envId ? { envId } : {}),
    ...(region ? { region } : {}),
    env,
    ...(bundles ? { bundles } : {}),
    bundlesChecked,
    ...(args.only ? { only: args.only } : {}),
    issues,
  })) {
    out(l);
  }

  const warnings = issues.filter((i) => i.level === 'warning');
  const errors = errorsOf(issues);
  if (warnings.length) {
    out('');
    out(`Warnings (${warnings.length}):`);
    for (const w of warnings) out(`  - ${w.message}`);
  }
  if (errors.length) {
    out('');
    out(`Errors (${errors.length}):`);
    for (const e of errors) out(`  - ${e.message}`);
    const keys = [...new Set(errors.map((e) => e.key).filter((k): k is string => Boolean(k)))];
    out('');
    out(
      `Not deployed: fix the errors above${keys.length ? ` (keys: ${keys.join(', ')})` : ''}. Values are never printed.`,
    );
    return 1;
  }
  if (!rc || !envCheck.config || !envCheck.deploy || !envId) {
    out('Not deployed: the configuration could not be read.');
    return 1;
  }

  const steps = [
    `tcb${region ? ` -r ${region}` : ''} env list  (login check; must list ${envId})`,
    ...rc.functions
      .filter((f) => !args.only || args.only.includes(f.name))
      .map((f) => `tcb${region ? ` -r ${region}` : ''} fn deploy ${f.name} --force -e ${envId}`),
    `tcb${region ? ` -r ${region}` : ''} service list -e ${envId}  (route ${ROUTE.path} -> ${ROUTE.fn})`,
  ];
  out('');
  out('Steps:');
  steps.forEach((s, i) => out(`  ${i + 1}. ${s}`));
  if (args.dryRun) {
    out('');
    out('Dry run OK: every check passed offline. Nothing was deployed; tcb was not called.');
    return 0;
  }

  // 3. Login, then deploy.
  const secrets: Record<string, string | undefined> = {};
  for (const k of [...SECRET_KEYS, ...DEPLOY_SECRET_KEYS]) secrets[k] = env.values[k];
  const print = (l: string) => out(`    | ${redact(l, secrets)}`);
  const run = opts.runner ?? createTcbRunner(root, opts.processEnv, print);
  const regionArgs = region ? ['-r', region] : [];
  const deployKeys = envCheck.deploy;

  out('');
  out('Checking the tcb login (tcb env list)...');
  let login = interpretEnvList(
    await run([...regionArgs, 'env', 'list'], { timeoutMs: TIMEOUTS.envList }),
    envId,
  );
  if (login.state === 'not-logged-in' && deployKeys.TCB_API_KEY_ID && deployKeys.TCB_API_KEY) {
    out('Not logged in: tcb login --apiKeyId <TCB_API_KEY_ID> --apiKey <TCB_API_KEY>');
    const l = interpretLogin(
      await run(
        [
          ...regionArgs,
          'login',
          '--apiKeyId',
          deployKeys.TCB_API_KEY_ID,
          '--apiKey',
          deployKeys.TCB_API_KEY,
        ],
        { timeoutMs: TIMEOUTS.login },
      ),
    );
    if (!l.ok) {
      out(`Not deployed: ${redact(l.reason, secrets)}`);
      return 1;
    }
    login = interpretEnvList(
      await run([...regionArgs, 'env', 'list'], { timeoutMs: TIMEOUTS.envList }),
      envId,
    );
  }
  if (login.state !== 'ok') {
    out(
      login.state === 'not-logged-in'
        ? 'Not deployed: tcb is not logged in. Run `npx tcb login` (browser), or set TCB_API_KEY_ID and TCB_API_KEY (CI).'
        : `Not deployed: ${redact(login.reason, secrets)}`,
    );
    return 1;
  }
  out(`Logged in; ${envId} is visible.`);

  const targets = rc.functions.filter((f) => !args.only || args.only.includes(f.name));
  const done: string[] = [];
  let link: string | undefined;
  for (const f of targets) {
    out('');
    out(`Deploying ${f.name} (tcb fn deploy ${f.name} --force -e ${envId})...`);
    const r = await run([...regionArgs, 'fn', 'deploy', f.name, '--force', '-e', envId], {
      timeoutMs: TIMEOUTS.deploy,
    });
    const verdict = interpretDeploy(f.name, r);
    if (!verdict.ok) {
      out(`FAILED: ${redact(verdict.reason, secrets)}`);
      out(
        `Deployed before the failure: ${done.length ? done.join(', ') : 'none'}. Fix and run again.`,
      );
      return 1;
    }
    if (f.path) link = printedServiceLink(r.output) ?? link;
    done.push(f.name);
    out(`OK: ${f.name}`);
  }

  // 4. The route: applied by fn deploy from "path"; created by hand if it is not there.
  const routeFn = rc.functions.find((f) => f.name === ROUTE.fn);
  if (routeFn?.path && (!args.only || args.only.includes(ROUTE.fn))) {
    out('');
    out(`Checking the HTTP route ${routeFn.path} -> ${routeFn.name}...`);
    const list = () =>
      run([...regionArgs, 'service', 'list', '-e', envId], { timeoutMs: TIMEOUTS.service });
    let routed = interpretServiceList(await list(), routeFn.path, routeFn.name);
    if (!routed) {
      out(`Route missing: tcb service create -p ${routeFn.path} -f ${routeFn.name} -e ${envId}`);
      await run(
        [...regionArgs, 'service', 'create', '-p', routeFn.path, '-f', routeFn.name, '-e', envId],
        {
          timeoutMs: TIMEOUTS.service,
        },
      );
      routed = interpretServiceList(await list(), routeFn.path, routeFn.name);
    }
    if (!routed) {
      out(
        `FAILED: the route ${routeFn.path} -> ${routeFn.name} is not listed by tcb service list.`,
      );
      return 1;
    }
    out('Route OK.');
  }

  const config = envCheck.config;
  const webhook = config.WEBHOOK_URL;
  out('');
  out(`Deployed to ${envId}: ${done.join(', ')}.`);
  out('');
  out('Webhook URL (WEBHOOK_URL, handed to every Coze run as callback_url):');
  out(`  ${webhook}`);
  if (link && link.replace(/\/$/, '') !== webhook.replace(/\/$/, '')) {
    out(
      `  tcb printed ${link} for the route: if that is the working domain, set WEBHOOK_URL to it and deploy again.`,
    );
  }
  out(
    '  In the Coze workflow, make it the default of the start input callback_url (for test runs);',
  );
  out(
    '  the HTTP node posts to {{callback_url}}. Check: curl -i -X POST <url> -d {} answers 401, not 404/5xx.',
  );
  out('');
  out('Still to do by hand (the CLI cannot):');
  out(
    `  1. Cloud-call permission (openapi subscribeMessage.send, from each config.json): in WeChat DevTools,`,
  );
  out(
    `     with cloudfunctionRoot at ${DIST_FUNCTIONS}/, right-click each function -> 上传并部署 (cloud installs deps).`,
  );
  out(
    '     Without it notices fail with -604101. Then check the variables are still set (console -> 云函数 -> 配置).',
  );
  out(
    '  2. Subscription templates: mini-program console -> 订阅消息 -> pick templates whose keywords match',
  );
  out(
    '     SUBSCRIBE_SUCCESS_KEYS / SUBSCRIBE_FAILURE_KEYS; put their ids in .env and deploy again.',
  );
  out('  3. Database: npm run db:init (collections, indexes, security rules).');
  out('  4. Smoke test: docs/operations.md, "Smoke test".');
  return 0;
}
