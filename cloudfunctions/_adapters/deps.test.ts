import { coldStart } from './deps';

describe('cold start', () => {
  it('a missing setting stops every invocation, naming the key, without failing the module load', () => {
    const lines: string[] = [];
    const deps = coldStart({
      fn: 'extractText',
      coze: 'start',
      env: {},
      log: (l) => lines.push(l),
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('WEBHOOK_SECRET is required');
    expect(JSON.parse(lines[0]!)).toMatchObject({ event: 'cold_start_failed' });
    // Each invocation gets no dependencies (the entry answers generically) and logs the keys again.
    expect(deps()).toBeNull();
    expect(deps()).toBeNull();
    expect(lines).toHaveLength(3);
    expect(JSON.parse(lines[2]!)).toMatchObject({ event: 'not_configured' });
    expect(JSON.parse(lines[2]!).keys).toContain('COZE_API_TOKEN');
  });

  it('a malformed secret is named, its value never printed', () => {
    const lines: string[] = [];
    const deps = coldStart({
      fn: 'webhookHandler',
      coze: 'background',
      env: {
        COZE_API_TOKEN: 'sat_x',
        COZE_WORKFLOW_ID: '123',
        WEBHOOK_URL: 'https://example.invalid/webhook/coze',
        WEBHOOK_SECRET: 'not-a-whsec-value',
      },
      log: (l) => lines.push(l),
    });
    expect(deps()).toBeNull();
    expect(lines.join('')).toContain('WEBHOOK_SECRET');
    expect(lines.join('')).not.toContain('not-a-whsec-value');
  });
});
