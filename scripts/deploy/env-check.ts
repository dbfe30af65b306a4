/**
 * Every key the functions and the deploy read: present when required, well-formed (through the one
 * schema in shared/config.ts), safe to insert unescaped into cloudbaserc.json, and not a sample.
 */
import { CONFIG_KEYS, configSchema, readConfig, type Config } from '../../shared/config';
import type { EnvSource } from '../env-file';
import { blank, err, warn, type Issue } from './issues';
import { checkDeployKeys, type DeployKeys } from './keys';

/** Keys whose `.env.example` value is a placeholder: a real deploy refuses to ship it. */
const SAMPLE_GUARDED_KEYS = [
  'ENV_ID',
  'COZE_API_TOKEN',
  'COZE_WORKFLOW_ID',
  'WEBHOOK_URL',
  'WEBHOOK_SECRET',
  'WEBHOOK_SECRET_PREVIOUS',
  'SUBSCRIBE_TEMPLATE_SUCCESS_ID',
  'SUBSCRIBE_TEMPLATE_FAILURE_ID',
  'TCB_API_KEY_ID',
  'TCB_API_KEY',
] as const;

/** Every key `{{env.X}}` may reference in cloudbaserc.json. */
export const TEMPLATE_KEYS: readonly string[] = ['ENV_ID', ...CONFIG_KEYS];

const CONTROL_CHARS = new RegExp(`[${String.fromCharCode(0)}-${String.fromCharCode(31)}]`);

export function isRequired(key: keyof Config): boolean {
  return !configSchema.shape[key].safeParse(undefined).success;
}

export function hasDefault(key: keyof Config): boolean {
  const r = configSchema.shape[key].safeParse(undefined);
  return r.success && r.data !== undefined;
}

export interface EnvCheckOptions {
  /** `.env.example` values, to catch placeholders that were never replaced. */
  samples?: Record<string, string>;
  source?: Record<string, EnvSource>;
}

export interface EnvCheck {
  /** The whole configuration, when every key is valid. */
  config?: Config;
  /** Every valid key, so the checks between settings run even while others are wrong. */
  values: Partial<Config>;
  deploy?: DeployKeys;
  issues: Issue[];
}

/**
 * Every key the functions and the deploy read: present when required, well-formed (through the one
 * schema in shared/config.ts), safe to insert unescaped into cloudbaserc.json, not a sample, and
 * fit for the cloud. Every problem is reported at once; a dry run and a deploy check the same.
 */
export function checkEnvironment(
  env: Record<string, string | undefined>,
  opts: EnvCheckOptions,
): EnvCheck {
  const issues: Issue[] = [];
  const flagged = new Set<string>();
  const from = (key: string) =>
    opts.source?.[key] === 'environment'
      ? ' (set in the process environment, which overrides .env)'
      : '';

  // 1. What tcb would insert unescaped into the JSON.
  for (const key of TEMPLATE_KEYS) {
    const v = env[key];
    if (v === undefined || v === '') continue;
    if (/["\\]/.test(v) || CONTROL_CHARS.test(v)) {
      issues.push(
        err(
          `${key} contains " or \\ or a control character: tcb inserts values unescaped into cloudbaserc.json, which would break the JSON${from(key)}`,
          key,
        ),
      );
      flagged.add(key);
      continue;
    }
    const t = v.trim();
    if (t === 'null' || t.startsWith('{') || t.startsWith('[')) {
      let parsesAsObject: boolean;
      try {
        const parsed: unknown = JSON.parse(t);
        parsesAsObject = typeof parsed === 'object';
      } catch {
        parsesAsObject = false;
      }
      if (parsesAsObject) {
        issues.push(
          err(`${key} parses as JSON null/object/array: tcb would replace the string with it`, key),
        );
        flagged.add(key);
      }
    }
  }

  // 2. The functions' configuration, through the one schema, key by key.
  const reading = readConfig(env);
  for (const { key, problem } of reading.problems) {
    if (flagged.has(key)) continue;
    issues.push(err(`${key} ${problem}${from(key)}`, key));
    flagged.add(key);
  }
  const values = reading.values;
  const config = reading.problems.length === 0 ? (values as Config) : undefined;

  // 3. Deploy-only keys.
  const keys = checkDeployKeys(env, { skip: flagged, from });
  issues.push(...keys.issues);
  const deploy = keys.deploy;

  // 4. Placeholders from .env.example that were never replaced.
  for (const key of SAMPLE_GUARDED_KEYS) {
    const sample = opts.samples?.[key];
    const v = env[key];
    if (!sample || blank(v) || v?.trim() !== sample.trim()) continue;
    issues.push(err(`${key} is still the .env.example sample value: replace it`, key));
  }

  // 5. What the cloud cannot use, and what deploys but probably should not.
  if (values.COZE_API_BASE !== undefined) {
    const base = new URL(values.COZE_API_BASE);
    if (['localhost', '127.0.0.1', '::1', '[::1]'].includes(base.hostname)) {
      issues.push(
        err('COZE_API_BASE points at this machine: the cloud cannot reach it', 'COZE_API_BASE'),
      );
    } else if (base.protocol !== 'https:') {
      issues.push(err('COZE_API_BASE must be https in the cloud', 'COZE_API_BASE'));
    }
  }
  if (values.COZE_API_TOKEN?.startsWith('pat_')) {
    issues.push(
      warn(
        'COZE_API_TOKEN is a personal token (pat_), which expires within 30 days: use a service token (sat_)',
        'COZE_API_TOKEN',
      ),
    );
  }
  if (values.WEBHOOK_SECRET_PREVIOUS !== undefined) {
    issues.push(
      values.WEBHOOK_SECRET_PREVIOUS === values.WEBHOOK_SECRET
        ? warn('WEBHOOK_SECRET_PREVIOUS equals WEBHOOK_SECRET', 'WEBHOOK_SECRET_PREVIOUS')
        : warn(
            'WEBHOOK_SECRET_PREVIOUS is set: a rotation is in progress; empty it and deploy again once Coze signs with the new secret',
            'WEBHOOK_SECRET_PREVIOUS',
          ),
    );
  }
  for (const key of ['SUBSCRIBE_TEMPLATE_SUCCESS_ID', 'SUBSCRIBE_TEMPLATE_FAILURE_ID'] as const) {
    if (!flagged.has(key) && values[key] === undefined) {
      issues.push(
        warn(`${key} is not set: no subscription message of that kind will be sent`, key),
      );
    }
  }
  if (values.MINIPROGRAM_STATE !== undefined && values.MINIPROGRAM_STATE !== 'formal') {
    issues.push(
      warn(
        `MINIPROGRAM_STATE is ${values.MINIPROGRAM_STATE}: notices open that version, not the released one`,
        'MINIPROGRAM_STATE',
      ),
    );
  }
  return { ...(config ? { config } : {}), values, ...(deploy ? { deploy } : {}), issues };
}
