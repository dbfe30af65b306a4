import {
  CONFIG_KEYS,
  COZE_API_HOSTS,
  ConfigError,
  DEFAULT_TEMPLATE_KEYS,
  FUNCTION_SETTINGS,
  NOTICE_SEND_TIMEOUT_MS,
  NOTICE_SENDER_MAX_S,
  SECRET_KEYS,
  configSchema,
  loadConfig,
  loadFunctionConfig,
  readConfig,
  webhookSecrets,
} from './config';
import { parseTemplateKeys } from './notice';

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

  it('parses the template keyword lists with the parser the send uses', () => {
    const c = loadConfig(valid);
    expect(c.SUBSCRIBE_SUCCESS_KEYS).toEqual(parseTemplateKeys(DEFAULT_TEMPLATE_KEYS.success));
    expect(c.SUBSCRIBE_FAILURE_KEYS).toEqual(parseTemplateKeys(DEFAULT_TEMPLATE_KEYS.failure));
    // A list without `time` passed the old pattern check and then failed every send.
    const e = errorOf({ ...valid, SUBSCRIBE_SUCCESS_KEYS: 'title:thing1,status:phrase2' });
    expect(e.keys).toEqual(['SUBSCRIBE_SUCCESS_KEYS']);
    expect(e.message).toContain(
      'SUBSCRIBE_SUCCESS_KEYS is not a valid keyword list: field "time" is missing',
    );
    expect(
      errorOf({ ...valid, SUBSCRIBE_FAILURE_KEYS: 'title:foo1,status:phrase2,time:time3' }).keys,
    ).toEqual(['SUBSCRIBE_FAILURE_KEYS']);
  });

  it("COZE_API_BASE is Coze's API host unless the custom-base override is set", () => {
    for (const host of COZE_API_HOSTS) {
      expect(loadConfig({ ...valid, COZE_API_BASE: host }).COZE_API_BASE).toBe(host);
      expect(() => loadConfig({ ...valid, COZE_API_BASE: `${host}/` })).not.toThrow();
    }
    for (const wrong of ['https://www.coze.cn', 'https://coze.cn', 'https://api.coze.cn/v1']) {
      const e = errorOf({ ...valid, COZE_API_BASE: wrong });
      expect(e.keys).toEqual(['COZE_API_BASE']);
      expect(e.message).toContain('COZE_API_BASE_CUSTOM=true');
    }
    const custom = loadConfig({
      ...valid,
      COZE_API_BASE: 'http://127.0.0.1:3000/coze',
      COZE_API_BASE_CUSTOM: 'true',
    });
    expect(custom.COZE_API_BASE_CUSTOM).toBe(true);
    expect(errorOf({ ...valid, COZE_API_BASE_CUSTOM: 'yes' }).keys).toEqual([
      'COZE_API_BASE_CUSTOM',
    ]);
  });

  it('names every bad key in one pass and still reads the good ones', () => {
    const r = readConfig({
      ...valid,
      WEBHOOK_SECRET: 'nope',
      TASK_TIMEOUT_S: '5',
      COZE_API_BASE: 'https://www.coze.cn',
      SUBSCRIBE_SUCCESS_KEYS: 'title:thing1',
      NOTICE_CLAIM_STALE_S: '5',
    });
    expect(r.problems.map((p) => p.key).sort()).toEqual([
      'COZE_API_BASE',
      'NOTICE_CLAIM_STALE_S',
      'SUBSCRIBE_SUCCESS_KEYS',
      'TASK_TIMEOUT_S',
      'WEBHOOK_SECRET',
    ]);
    expect(r.values.WEBHOOK_URL).toBe(valid.WEBHOOK_URL);
    expect(r.values).not.toHaveProperty('TASK_TIMEOUT_S');
  });
});

describe('settings per function', () => {
  it('every setting is given to some function, and each list names known keys once', () => {
    const given = new Set<string>(Object.values(FUNCTION_SETTINGS).flat());
    expect([...given].sort()).toEqual([...CONFIG_KEYS].sort());
    for (const keys of Object.values(FUNCTION_SETTINGS)) {
      expect(new Set(keys).size).toBe(keys.length);
    }
  });

  it('the public webhook holds no Coze setting; only the functions that call Coze do', () => {
    const coze = (fn: keyof typeof FUNCTION_SETTINGS) =>
      FUNCTION_SETTINGS[fn].filter((k) => k.startsWith('COZE_'));
    expect(coze('webhookHandler')).toEqual([]);
    expect(coze('extractText')).toContain('COZE_API_TOKEN');
    expect(coze('taskSweeper')).toContain('COZE_API_TOKEN');
    // Only the webhook verifies callbacks.
    expect(FUNCTION_SETTINGS.extractText).not.toContain('WEBHOOK_SECRET');
    expect(FUNCTION_SETTINGS.taskSweeper).not.toContain('WEBHOOK_SECRET');
  });

  it("a function validates only its own settings and cannot read another's", () => {
    const c = loadFunctionConfig('webhookHandler', { WEBHOOK_SECRET: valid.WEBHOOK_SECRET });
    expect(webhookSecrets(c)).toEqual([valid.WEBHOOK_SECRET]);
    expect(c.SUBSCRIBE_SUCCESS_KEYS.time).toBe('time3');
    expect(() => c.WEBHOOK_URL).toThrow(/webhookHandler reads WEBHOOK_URL/);
    expect(Object.keys(c).sort()).toEqual([...FUNCTION_SETTINGS.webhookHandler].sort());
    expect(() =>
      loadFunctionConfig('taskSweeper', { WEBHOOK_SECRET: valid.WEBHOOK_SECRET }),
    ).toThrow(/COZE_API_TOKEN is required/);
  });
});
