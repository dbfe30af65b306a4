/** The plan a deploy prints: functions, route, timer, and every key by state (names, never values). */
import { CONFIG_KEYS, FUNCTION_SETTINGS, SECRET_KEYS, type Config } from '../../shared/config';
import type { ResolvedEnv } from '../env-file';
import type { BundleInfo } from './bundles';
import { defaultServiceUrl } from './cross-checks';
import { hasDefault, isRequired } from './env-check';
import { blank, type Issue } from './issues';
import { DEPLOY_KEYS, DEPLOY_SECRET_KEYS } from './keys';
import { describeCron, type Rc } from './rc';

export type KeyState = 'set' | 'default' | 'unset' | 'missing';

function keyState(key: string, env: Record<string, string | undefined>): KeyState {
  if (!blank(env[key])) return 'set';
  if ((CONFIG_KEYS as string[]).includes(key)) {
    const k = key as keyof Config;
    if (hasDefault(k)) return 'default';
    return isRequired(k) ? 'missing' : 'unset';
  }
  return key === 'ENV_ID' ? 'missing' : 'unset';
}

export interface Plan {
  dryRun: boolean;
  rc?: Rc;
  envId?: string;
  region?: string;
  env: ResolvedEnv;
  bundles?: Record<string, BundleInfo>;
  bundlesChecked: boolean;
  only?: string[];
  issues: Issue[];
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

export function formatPlan(plan: Plan): string[] {
  const out: string[] = [];
  const { rc, env } = plan;
  const envId = plan.envId ?? '<ENV_ID>';
  out.push(
    `Environment: ${envId}, region ${plan.region ?? 'ap-shanghai (default)'}; keys read from ${
      env.files.length ? env.files.join(', ') + ' and ' : ''
    }the process environment`,
  );
  if (rc) {
    const runtimes = [...new Set(rc.functions.map((f) => f.runtime))].join(', ');
    out.push(
      `Functions (${rc.functions.length}, runtime ${runtimes} (fixed once created), code from ${rc.functionRoot}):`,
    );
    for (const f of rc.functions) {
      const skipped = plan.only && !plan.only.includes(f.name) ? '  [skipped: --only]' : '';
      const b = plan.bundles?.[f.name];
      const bundle = b ? `, bundle ${kb(b.bytes)}` : plan.bundlesChecked ? ', bundle MISSING' : '';
      const extra = [
        f.path ? `HTTP ${f.path}` : '',
        ...f.triggers.map((t) => `${t.type} "${t.name}" ${t.config}`),
      ].filter(Boolean);
      out.push(
        `  ${f.name.padEnd(15)} ${f.handler}, ${f.timeout} s, ${f.memorySize} MB, ` +
          `${f.installDependency ? 'cloud installs deps' : 'no dep install'}${bundle}` +
          (extra.length ? `; ${extra.join('; ')}` : '') +
          skipped,
      );
    }
    for (const f of rc.functions.filter((x) => x.path)) {
      out.push(`HTTP route: ${f.path} -> ${f.name} (${defaultServiceUrl(envId, f.path ?? '')})`);
    }
    for (const f of rc.functions) {
      for (const t of f.triggers) {
        out.push(
          `Timer trigger: "${t.name}" -> ${f.name}, cron ${t.config} (${describeCron(t.config)}, UTC+8)`,
        );
      }
    }
    const withPerm = rc.functions.filter((f) => (plan.bundles?.[f.name]?.openapi.length ?? 0) > 0);
    if (withPerm.length) {
      out.push(
        `Cloud-call permission (config.json, applied only by a DevTools upload): ${withPerm
          .map((f) => `${f.name} [${plan.bundles?.[f.name]?.openapi.join(', ')}]`)
          .join('; ')}`,
      );
    }
  }
  const secret = new Set<string>([...SECRET_KEYS, ...DEPLOY_SECRET_KEYS]);
  const line = (k: string, to = '') => {
    const state = keyState(k, env.values);
    const src = env.source[k];
    const where = state === 'set' && src ? ` (${src})` : state === 'unset' ? ' (optional)' : '';
    const head = `  ${k.padEnd(30)} ${secret.has(k) ? 'secret ' : '       '}${state}${where}`;
    return to ? `${head.padEnd(60)} -> ${to}` : head;
  };
  // Each function gets only its own settings (FUNCTION_SETTINGS in shared/config.ts).
  const receivers = (k: string) =>
    Object.entries(FUNCTION_SETTINGS)
      .filter(([, keys]) => (keys as readonly string[]).includes(k))
      .map(([fn]) => fn)
      .join(', ');
  out.push(
    `Variables (${CONFIG_KEYS.length}; names only, values never printed), each given only to the functions that read it:`,
  );
  for (const k of CONFIG_KEYS) out.push(line(k, receivers(k)));
  out.push('Deploy-only keys:');
  for (const k of DEPLOY_KEYS) out.push(line(k));
  return out;
}
