/**
 * Every environment variable the functions read, validated once at cold start. A missing or
 * malformed variable stops the function with an error naming it (never its value). Secrets have
 * no default: the local stack passes its own local values explicitly.
 *
 * Each function is given only the settings it needs (FUNCTION_SETTINGS below, which
 * cloudbaserc.json's `envVariables` must match), validates only those at cold start, and cannot
 * read another: the public webhook never holds the Coze token.
 */
import { parseTemplateKeys } from './notice';
import * as z from './zod';

const int = (min: number, max: number, def: number) =>
  z._default(
    z.pipe(
      z.pipe(
        z.string().check(z.trim(), z.regex(/^\d+$/, 'must be a whole number')),
        z.transform(Number),
      ),
      z.number().check(z.int(), z.minimum(min), z.maximum(max)),
    ),
    def,
  );

const secret = (prefix?: RegExp) =>
  z.string().check(
    z.trim(),
    z.minLength(1, 'is required'),
    z.refine((v) => !/["\\\s]/.test(v), 'must not contain quotes, backslashes or spaces'),
    z.refine((v) => (prefix ? prefix.test(v) : true), 'has the wrong format'),
  );

const webhookSecret = secret(/^whsec_[A-Za-z0-9+/]+={0,2}$/);

/**
 * The subscription templates' keyword lists when none is set: the one home of these defaults
 * (`.env.example`, the local stack and the docs are held to it by tests).
 */
export const DEFAULT_TEMPLATE_KEYS = {
  success: 'title:thing1,status:phrase2,time:time3,note:thing4',
  failure: 'title:thing1,status:phrase2,reason:thing3,time:time4',
} as const;

/**
 * A template's keyword list, parsed by the same parser the send uses (shared/notice.ts), so a list
 * the send would refuse (no `time`, an unknown keyword type) stops the function at cold start, the
 * deploy dry run and `npm start`, naming the key, instead of failing every notice.
 */
const templateKeys = (def: string) =>
  z.prefault(
    z.pipe(
      z.string().check(z.trim()),
      z.transform((spec, ctx) => {
        try {
          return parseTemplateKeys(spec);
        } catch (e) {
          const why = (e instanceof Error ? e.message : String(e)).replace(
            /^template keys:\s*/,
            '',
          );
          ctx.issues.push({
            code: 'custom',
            message: `is not a valid keyword list: ${why}`,
            input: spec,
          });
          return z.NEVER;
        }
      }),
    ),
    def,
  );

const emptyAsMissing = (v: string) => (v === '' ? undefined : v);

const optionalText = z.optional(z.pipe(z.string().check(z.trim()), z.transform(emptyAsMissing)));

/**
 * The functions' timeouts as deployed (`timeout` in cloudbaserc.json, which the local stack
 * enforces too; a test keeps the two equal). The config cannot see them at run time, so the rules
 * that depend on them use this documented floor.
 */
export const FUNCTION_TIMEOUT_S = { extractText: 10, webhookHandler: 10, taskSweeper: 70 } as const;

/**
 * What a sweep needs after its launch window: calls in flight finish within COZE_TIMEOUT_MS, and
 * the last writes and the log line within this.
 */
export const SWEEP_TAIL_MS = 2000;

/**
 * A notice claim is taken over once older than NOTICE_CLAIM_STALE_S, so it must outlive every
 * sender that can hold one. The webhook and extractText (a start refused for good fails the task)
 * hold a claim at most for their timeout. The sweeper lives longer, but each send is bounded by
 * NOTICE_SEND_TIMEOUT_MS (below this floor) and its claim ends right after: so the floor is the
 * longest timeout of the short-lived senders.
 */
export const NOTICE_SEND_TIMEOUT_MS = 5000;
export const NOTICE_SENDER_MAX_S = Math.max(
  FUNCTION_TIMEOUT_S.webhookHandler,
  FUNCTION_TIMEOUT_S.extractText,
);

/** The hosts of Coze's API (coze.cn and coze.com); anything else needs COZE_API_BASE_CUSTOM. */
export const COZE_API_HOSTS = ['https://api.coze.cn', 'https://api.coze.com'] as const;

const flag = z._default(
  z.pipe(
    z.string().check(z.trim(), z.regex(/^(true|false)$/, 'must be true or false')),
    z.transform((v) => v === 'true'),
  ),
  false,
);

export const configSchema = z.object({
  /** Where Coze runs: https://api.coze.cn (CN) or https://api.coze.com (global); see COZE_API_BASE_CUSTOM. */
  COZE_API_BASE: z._default(z.url({ protocol: /^https?$/ }), 'https://api.coze.cn'),
  /**
   * true: COZE_API_BASE may be any http(s) URL (a self-hosted Coze, or the local stand-in);
   * false: it must be one of COZE_API_HOSTS, so the website (www.coze.cn) is refused.
   */
  COZE_API_BASE_CUSTOM: flag,
  COZE_API_TOKEN: secret(),
  COZE_WORKFLOW_ID: z
    .string()
    .check(z.trim(), z.regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be the workflow id from the Coze URL')),
  /** Bound on the start call inside `create`, so the user is answered within a second. */
  COZE_START_TIMEOUT_MS: int(100, 10_000, 700),
  /** Bound on start and history calls made by the sweeper. */
  COZE_TIMEOUT_MS: int(500, 30_000, 5000),
  /**
   * Calls a second the plan's one bucket allows, run starts and history reads together (50, 100,
   * 200 or 500 by Coze plan): the dispatcher keeps under it and lowers itself when Coze refuses.
   */
  COZE_QPS: int(1, 500, 50),
  /**
   * The longest a task waits in the queue to start. A submit whose estimated wait is longer is
   * refused at once (TOO_BUSY, nothing charged); a task still waiting past it ends TOO_BUSY with
   * its quota unit given back, never `timeout`.
   */
  QUEUE_MAX_WAIT_S: int(30, 86_400, 600),

  /** Public URL of the webhook route, handed to the workflow as `callback_url`. */
  WEBHOOK_URL: z.url({ protocol: /^https?$/ }),
  WEBHOOK_SECRET: webhookSecret,
  /** The previous secret during a rotation; both verify. */
  WEBHOOK_SECRET_PREVIOUS: z.optional(
    z.pipe(
      z.pipe(z.string().check(z.trim()), z.transform(emptyAsMissing)),
      z.optional(webhookSecret),
    ),
  ),

  SUBSCRIBE_TEMPLATE_SUCCESS_ID: optionalText,
  SUBSCRIBE_TEMPLATE_FAILURE_ID: optionalText,
  SUBSCRIBE_SUCCESS_KEYS: templateKeys(DEFAULT_TEMPLATE_KEYS.success),
  SUBSCRIBE_FAILURE_KEYS: templateKeys(DEFAULT_TEMPLATE_KEYS.failure),
  MINIPROGRAM_STATE: z._default(z.enum(['developer', 'trial', 'formal']), 'formal'),

  MAX_ACTIVE_TASKS_PER_USER: int(1, 100, 3),
  DAILY_QUOTA_PER_USER: int(1, 100_000, 50),

  RECONCILE_AFTER_S: int(5, 86_400, 60),
  TASK_TIMEOUT_S: int(30, 86_400, 300),
  /** Must exceed NOTICE_SENDER_MAX_S: a live sender's claim is never taken over. */
  NOTICE_CLAIM_STALE_S: int(5, 3600, 60),
  SWEEP_BATCH_LIMIT: int(1, 1000, 50),
  /** How long a sweep dispatches: until the next minute's sweep takes over. */
  SWEEP_BUDGET_MS: int(1000, 900_000, 59_000),
  TASK_RETENTION_DAYS: int(1, 3650, 90),
});

export type Config = z.infer<typeof configSchema>;
export type ConfigKey = keyof Config;

export const CONFIG_KEYS = Object.keys(configSchema.shape) as ConfigKey[];

/** Names of the variables that hold secrets: never logged, never given defaults. */
export const SECRET_KEYS = [
  'COZE_API_TOKEN',
  'WEBHOOK_SECRET',
  'WEBHOOK_SECRET_PREVIOUS',
] as const satisfies readonly ConfigKey[];

/**
 * Rules between settings, each checked once every key it needs is valid, and reported on `key`.
 * They are part of the schema: cold start, `npm start` and the deploy all apply them.
 */
const CROSS_RULES: {
  key: ConfigKey;
  needs: readonly ConfigKey[];
  problem(c: Config): string | null;
}[] = [
  {
    key: 'NOTICE_CLAIM_STALE_S',
    needs: ['NOTICE_CLAIM_STALE_S'],
    problem: (c) =>
      c.NOTICE_CLAIM_STALE_S <= NOTICE_SENDER_MAX_S
        ? `must be more than ${NOTICE_SENDER_MAX_S} (the longest a notice sender runs), or a live send is taken over`
        : null,
  },
  {
    key: 'SWEEP_BUDGET_MS',
    needs: ['SWEEP_BUDGET_MS', 'COZE_TIMEOUT_MS'],
    problem: (c) =>
      c.SWEEP_BUDGET_MS + c.COZE_TIMEOUT_MS + SWEEP_TAIL_MS > FUNCTION_TIMEOUT_S.taskSweeper * 1000
        ? `plus COZE_TIMEOUT_MS and ${SWEEP_TAIL_MS} ms must stay within taskSweeper's ${FUNCTION_TIMEOUT_S.taskSweeper} s timeout`
        : null,
  },
  {
    key: 'COZE_API_BASE',
    needs: ['COZE_API_BASE', 'COZE_API_BASE_CUSTOM'],
    problem: (c) =>
      c.COZE_API_BASE_CUSTOM ||
      (COZE_API_HOSTS as readonly string[]).includes(c.COZE_API_BASE.replace(/\/+$/, ''))
        ? null
        : `must be ${COZE_API_HOSTS.join(' or ')}, Coze's API host, not its website (a self-hosted or local Coze: set COZE_API_BASE_CUSTOM=true)`,
  },
];

/**
 * The settings each function is given and reads: the one declared list per function. Its
 * cloudbaserc.json `envVariables` are exactly these (the deploy checks), it validates only these
 * at cold start, and reading any other setting throws (see loadFunctionConfig).
 */
const NOTICE_SETTINGS = [
  'SUBSCRIBE_TEMPLATE_SUCCESS_ID',
  'SUBSCRIBE_TEMPLATE_FAILURE_ID',
  'SUBSCRIBE_SUCCESS_KEYS',
  'SUBSCRIBE_FAILURE_KEYS',
  'MINIPROGRAM_STATE',
] as const satisfies readonly ConfigKey[];
const COZE_SETTINGS = [
  'COZE_API_BASE',
  'COZE_API_BASE_CUSTOM',
  'COZE_API_TOKEN',
  'COZE_WORKFLOW_ID',
] as const satisfies readonly ConfigKey[];

export const FUNCTION_SETTINGS = {
  extractText: [
    ...COZE_SETTINGS,
    'COZE_START_TIMEOUT_MS',
    'COZE_QPS',
    'QUEUE_MAX_WAIT_S',
    'WEBHOOK_URL',
    'MAX_ACTIVE_TASKS_PER_USER',
    'DAILY_QUOTA_PER_USER',
    'TASK_TIMEOUT_S',
    ...NOTICE_SETTINGS,
  ],
  // Reachable from the internet: the webhook secrets and the notice, nothing of Coze.
  webhookHandler: ['WEBHOOK_SECRET', 'WEBHOOK_SECRET_PREVIOUS', ...NOTICE_SETTINGS],
  taskSweeper: [
    ...COZE_SETTINGS,
    'COZE_TIMEOUT_MS',
    'COZE_QPS',
    'WEBHOOK_URL',
    'RECONCILE_AFTER_S',
    'TASK_TIMEOUT_S',
    'NOTICE_CLAIM_STALE_S',
    'SWEEP_BATCH_LIMIT',
    'SWEEP_BUDGET_MS',
    'TASK_RETENTION_DAYS',
    ...NOTICE_SETTINGS,
  ],
} as const satisfies Record<keyof typeof FUNCTION_TIMEOUT_S, readonly ConfigKey[]>;

export type FunctionName = keyof typeof FUNCTION_SETTINGS;

export class ConfigError extends Error {
  readonly keys: string[];
  readonly problems: { key: string; problem: string }[];
  constructor(problems: { key: string; problem: string }[]) {
    super(`Invalid configuration: ${problems.map((p) => `${p.key} ${p.problem}`).join('; ')}`);
    this.name = 'ConfigError';
    this.keys = problems.map((p) => p.key);
    this.problems = problems;
  }
}

export interface ConfigReading {
  /** Every key of `keys` that is valid (defaults applied). */
  values: Partial<Config>;
  /** One problem per bad key, `KEY problem` in words, never the value. */
  problems: { key: ConfigKey; problem: string }[];
}

/**
 * Reads `keys` (all by default) key by key, so every bad setting is named in one pass and the
 * valid ones are still known; then the rules between settings whose keys are all valid. Empty
 * strings count as missing (tcb fills unset `{{env.X}}` with '').
 */
export function readConfig(
  env: Record<string, string | undefined>,
  keys: readonly ConfigKey[] = CONFIG_KEYS,
): ConfigReading {
  const values: Record<string, unknown> = {};
  const problems: ConfigReading['problems'] = [];
  for (const key of keys) {
    const raw = env[key];
    const given = raw !== undefined && raw.trim() !== '' ? raw : undefined;
    const parsed = configSchema.shape[key].safeParse(given);
    if (parsed.success) {
      values[key] = parsed.data;
      continue;
    }
    const message = parsed.error.issues[0]?.message.replace(/^Invalid input:?\s*/, '') ?? '';
    problems.push({
      key,
      problem: given === undefined ? 'is required' : message || 'is malformed',
    });
  }
  for (const rule of CROSS_RULES) {
    if (!keys.includes(rule.key) || !rule.needs.every((k) => k in values)) continue;
    const problem = rule.problem(values as Config);
    if (problem) {
      delete values[rule.key];
      problems.push({ key: rule.key, problem });
    }
  }
  return { values: values as Partial<Config>, problems };
}

/** Every setting, validated; throws a ConfigError naming each bad key. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const { values, problems } = readConfig(env);
  if (problems.length) throw new ConfigError(problems);
  return values as Config;
}

/**
 * A function's own settings (FUNCTION_SETTINGS), validated at its cold start. Reading a setting
 * the function was not given throws, naming it: in the cloud it is not there, and a silent
 * `undefined` would be worse than a loud stop.
 */
export function loadFunctionConfig(
  fn: FunctionName,
  env: Record<string, string | undefined>,
): Config {
  const declared: readonly ConfigKey[] = FUNCTION_SETTINGS[fn];
  const { values, problems } = readConfig(env, declared);
  if (problems.length) throw new ConfigError(problems);
  const known = new Set<string>(CONFIG_KEYS);
  const given = new Set<string>(declared);
  return new Proxy(values as Config, {
    get(target, prop, receiver) {
      if (typeof prop === 'string' && known.has(prop) && !given.has(prop)) {
        throw new Error(
          `${fn} reads ${prop}, which is not one of its settings (FUNCTION_SETTINGS in shared/config.ts)`,
        );
      }
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
}

/** The secrets that verify a callback: the current one first, then the one being rotated out. */
export function webhookSecrets(
  config: Pick<Config, 'WEBHOOK_SECRET' | 'WEBHOOK_SECRET_PREVIOUS'>,
): string[] {
  return [config.WEBHOOK_SECRET, config.WEBHOOK_SECRET_PREVIOUS].filter(
    (s): s is string => typeof s === 'string' && s.length > 0,
  );
}
