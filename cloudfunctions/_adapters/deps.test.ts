import { coldStart } from './deps';

const WEBHOOK_ENV = {
  WEBHOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
};

describe('cold start', () => {
  it('a missing setting stops every invocation, naming the key, without failing the module load', () => {
    const lines: string[] = [];
    const deps = coldStart({ fn: 'extractText', env: {}, log: (l) => lines.push(l) });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('COZE_API_TOKEN is required');
    expect(JSON.parse(lines[0]!)).toMatchObject({ event: 'cold_start_failed' });
    // Each invocation gets no dependencies (the entry answers generically) and logs the keys again.
    expect(deps()).toBeNull();
    expect(deps()).toBeNull();
    expect(lines).toHaveLength(3);
    expect(JSON.parse(lines[2]!)).toMatchObject({ event: 'not_configured' });
    expect(JSON.parse(lines[2]!).keys).toContain('WEBHOOK_URL');
  });

  it('a malformed secret is named, its value never printed', () => {
    const lines: string[] = [];
    const deps = coldStart({
      fn: 'webhookHandler',
      env: { WEBHOOK_SECRET: 'not-a-whsec-value' },
      log: (l) => lines.push(l),
    });
    expect(deps()).toBeNull();
    expect(lines.join('')).toContain('WEBHOOK_SECRET');
    expect(lines.join('')).not.toContain('not-a-whsec-value');
  });

  it('a template keyword list the send would refuse stops the function at start, naming the key', () => {
    const lines: string[] = [];
    const deps = coldStart({
      fn: 'webhookHandler',
      env: { ...WEBHOOK_ENV, SUBSCRIBE_SUCCESS_KEYS: 'title:thing1,status:phrase2' },
      log: (l) => lines.push(l),
    });
    expect(deps()).toBeNull();
    expect(JSON.parse(lines[0]!)).toMatchObject({ keys: 'SUBSCRIBE_SUCCESS_KEYS' });
    expect(lines[0]).toContain('field \\"time\\" is missing');
  });

  it('the webhook starts with its own settings only: no Coze token, no Coze client', () => {
    const deps = coldStart({ fn: 'webhookHandler', env: WEBHOOK_ENV, log: () => undefined })();
    expect(deps).not.toBeNull();
    expect(deps).not.toHaveProperty('coze');
    // A setting it was not given cannot be read by mistake.
    expect(() => deps?.config.COZE_API_TOKEN).toThrow(
      'webhookHandler reads COZE_API_TOKEN, which is not one of its settings',
    );
    expect(deps?.config.WEBHOOK_SECRET).toBe(WEBHOOK_ENV.WEBHOOK_SECRET);
  });

  it('an entry that calls Coze passes in how to build its client, from its own settings', () => {
    const deps = coldStart({
      fn: 'extractText',
      env: {
        COZE_API_TOKEN: 'sat_x',
        COZE_WORKFLOW_ID: '123',
        WEBHOOK_URL: 'https://example.invalid/webhook/coze',
      },
      coze: (config) => ({ base: config.COZE_API_BASE, bound: config.COZE_START_TIMEOUT_MS }),
      log: () => undefined,
    })();
    expect(deps?.coze).toEqual({ base: 'https://api.coze.cn', bound: 700 });
  });
});
