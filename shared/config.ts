/**
 * Every environment variable the functions read, validated once at cold start. A missing or
 * malformed variable stops the function with an error naming it (never its value). Secrets have
 * no default: the local stack passes its own local values explicitly.
 */
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

const keySpec = (def: string) =>
  z._default(
    z
      .string()
      .check(
        z.trim(),
        z.regex(
          /^[a-z]+:[a-z_]+\d+(,[a-z]+:[a-z_]+\d+)*$/,
          'must look like title:thing1,status:phrase2',
        ),
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

export const configSchema = z
  .object({
    /** Where Coze runs: https://api.coze.cn (CN), https://api.coze.com (global) or the local stand-in. */
    COZE_API_BASE: z._default(z.url({ protocol: /^https?$/ }), 'https://api.coze.cn'),
    COZE_API_TOKEN: secret(),
    COZE_WORKFLOW_ID: z
      .string()
      .check(
        z.trim(),
        z.regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be the workflow id from the Coze URL'),
      ),
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
    SUBSCRIBE_SUCCESS_KEYS: keySpec('title:thing1,status:phrase2,time:time3,note:thing4'),
    SUBSCRIBE_FAILURE_KEYS: keySpec('title:thing1,status:phrase2,reason:thing3,time:time4'),
    MINIPROGRAM_STATE: z._default(z.enum(['developer', 'trial', 'formal']), 'formal'),

    MAX_ACTIVE_TASKS_PER_USER: int(1, 100, 3),
    DAILY_QUOTA_PER_USER: int(1, 100_000, 50),

    RECONCILE_AFTER_S: int(5, 86_400, 60),
    TASK_TIMEOUT_S: int(30, 86_400, 300),
    /** Must exceed NOTICE_SENDER_MAX_S: a live sender's claim is never taken over. */
    NOTICE_CLAIM_STALE_S: int(5, 3600, 60),
    SWEEP_BATCH_LIMIT: int(1, 1000, 50),
    /** How long a sweep dispatches: until the next minute's sweep takes over. */
    SWEEP_BUDGET_MS: int(1000, 900_000, 58_000),
    TASK_RETENTION_DAYS: int(1, 3650, 90),
  })
  .check(
    z.superRefine((c, ctx) => {
      const sweepEnd = c.SWEEP_BUDGET_MS + c.COZE_TIMEOUT_MS + SWEEP_TAIL_MS;
      if (sweepEnd > FUNCTION_TIMEOUT_S.taskSweeper * 1000) {
        ctx.addIssue({
          code: 'custom',
          path: ['SWEEP_BUDGET_MS'],
          message: `plus COZE_TIMEOUT_MS and ${SWEEP_TAIL_MS} ms must stay within taskSweeper's ${FUNCTION_TIMEOUT_S.taskSweeper} s timeout`,
        });
      }
      if (c.NOTICE_CLAIM_STALE_S <= NOTICE_SENDER_MAX_S) {
        ctx.addIssue({
          code: 'custom',
          path: ['NOTICE_CLAIM_STALE_S'],
          message: `must be more than ${NOTICE_SENDER_MAX_S} (the longest a notice sender runs), or a live send is taken over`,
        });
      }
    }),
  );

export type Config = z.infer<typeof configSchema>;

/** Names of the variables that hold secrets: never logged, never given defaults. */
export const SECRET_KEYS = [
  'COZE_API_TOKEN',
  'WEBHOOK_SECRET',
  'WEBHOOK_SECRET_PREVIOUS',
] as const satisfies readonly (keyof Config)[];

export const CONFIG_KEYS = Object.keys(configSchema.shape) as (keyof Config)[];

export class ConfigError extends Error {
  readonly keys: string[];
  constructor(problems: { key: string; problem: string }[]) {
    super(`Invalid configuration: ${problems.map((p) => `${p.key} ${p.problem}`).join('; ')}`);
    this.name = 'ConfigError';
    this.keys = problems.map((p) => p.key);
  }
}

/** Validates the environment. Empty strings count as missing (tcb fills unset `{{env.X}}` with ''). */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const input: Record<string, string> = {};
  for (const key of CONFIG_KEYS) {
    const v = env[key];
    if (v !== undefined && v.trim() !== '') input[key] = v;
  }
  const parsed = configSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const key = String(issue.path[0] ?? 'config');
    const problem =
      input[key] === undefined ? 'is required' : issue.message.replace(/^Invalid input:?\s*/, '');
    return { key, problem: problem || 'is malformed' };
  });
  throw new ConfigError(dedupe(problems));
}

function dedupe(problems: { key: string; problem: string }[]) {
  const seen = new Set<string>();
  return problems.filter((p) => (seen.has(p.key) ? false : (seen.add(p.key), true)));
}

/** The secrets that verify a callback: the current one first, then the one being rotated out. */
export function webhookSecrets(config: Config): string[] {
  return [config.WEBHOOK_SECRET, config.WEBHOOK_SECRET_PREVIOUS].filter(
    (s): s is string => typeof s === 'string' && s.length > 0,
  );
}
