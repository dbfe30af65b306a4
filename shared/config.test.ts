import {
  CONFIG_KEYS,
  ConfigError,
  NOTICE_SEND_TIMEOUT_MS,
  NOTICE_SENDER_MAX_S,
  SECRET_KEYS,
  configSchema,
  loadConfig,
  webhookSecrets,
} from './config';

const valid = {
  COZE_API_TOKEN: 'sat_local_token',
  COZE_WORKFLOW_ID: '7412345678901234567',
  WEBHOOK_URL: 'https://env-abc.service.tcloudbase.com/webhook/coze',
  WEBHOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
};

function errorOf(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('accepts the required keys and fills documented defaults', () => {
    const c = loadConfig(valid);
    expect(c.COZE_API_BASE).toBe('https://api.coze.cn');
    expect(c.COZE_START_TIMEOUT_MS).toBe(700);
    expect(c.MAX_ACTIVE_TASKS_PER_USER).toBe(3);
    expect(c.TASK_TIMEOUT_S).toBe(300);
    expect(c.RECONCILE_AFTER_S).toBe(60);
    expect(c.SUBSCRIBE_TEMPLATE_SUCCESS_ID).toBeUndefined();
  });

  it.each(['COZE_API_TOKEN', 'COZE_WORKFLOW_ID', 'WEBHOOK_URL', 'WEBHOOK_SECRET'])(
    'a missing %s is named',
    (key) => {
      const err = errorOf({ ...valid, [key]: undefined });
      expect(err.keys).toContain(key);
      expect(err.message).toContain(`${key} is required`);
    },
  );

  it('an empty value counts as missing (tcb fills unset placeholders with "")', () => {
    expect(errorOf({ ...valid, WEBHOOK_SECRET: '  ' }).keys).toEqual(['WEBHOOK_SECRET']);
  });

  it('names malformed values without echoing them', () => {
    const err = errorOf({
      ...valid,
      WEBHOOK_SECRET: 'plainsecret',
      MAX_ACTIVE_TASKS_PER_USER: 'many',
    });
    expect(err.keys.sort()).toEqual(['MAX_ACTIVE_TASKS_PER_USER', 'WEBHOOK_SECRET']);
    expect(err.message).not.toContain('plainsecret');
    expect(errorOf({ ...valid, WEBHOOK_URL: 'not a url' }).keys).toEqual(['WEBHOOK_URL']);
    expect(errorOf({ ...valid, TASK_TIMEOUT_S: '5' }).keys).toEqual(['TASK_TIMEOUT_S']);
    expect(errorOf({ ...valid, COZE_API_TOKEN: 'has"quote' }).keys).toEqual(['COZE_API_TOKEN']);
    expect(errorOf({ ...valid, SUBSCRIBE_SUCCESS_KEYS: 'title=thing1' }).keys).toEqual([
      'SUBSCRIBE_SUCCESS_KEYS',
    ]);
  });

  it('parses numbers and the optional rotation secret', () => {
    const c = loadConfig({
      ...valid,
      DAILY_QUOTA_PER_USER: '7',
      WEBHOOK_SECRET_PREVIOUS: 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD',
    });
    expect(c.DAILY_QUOTA_PER_USER).toBe(7);
    expect(webhookSecrets(c)).toEqual([
      valid.WEBHOOK_SECRET,
      'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD',
    ]);
    expect(webhookSecrets(loadConfig(valid))).toEqual([valid.WEBHOOK_SECRET]);
  });

  it('secrets have no default', () => {
    for (const key of SECRET_KEYS) {
      const shape = configSchema.shape[key];
      expect(shape.safeParse(undefined).success && key !== 'WEBHOOK_SECRET_PREVIOUS').toBe(false);
    }
    expect(CONFIG_KEYS).toEqual(expect.arrayContaining([...SECRET_KEYS]));
  });

  it('refuses a notice claim stale threshold a live sender could outlast', () => {
    const e = errorOf({ ...valid, NOTICE_CLAIM_STALE_S: '5' });
    expect(e.keys).toEqual(['NOTICE_CLAIM_STALE_S']);
    expect(e.message).toContain(`more than ${NOTICE_SENDER_MAX_S}`);
    expect(() =>
      loadConfig({ ...valid, NOTICE_CLAIM_STALE_S: String(NOTICE_SENDER_MAX_S) }),
    ).toThrow(ConfigError);
    expect(loadConfig({ ...valid, NOTICE_CLAIM_STALE_S: '11' }).NOTICE_CLAIM_STALE_S).toBe(11);
    // The sweeper outlives the floor, but each of its sends is bounded well below it.
    expect(NOTICE_SEND_TIMEOUT_MS).toBeLessThan(NOTICE_SENDER_MAX_S * 1000);
  });
});
