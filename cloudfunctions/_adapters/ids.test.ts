import { hashCallbackToken, tokensMatch } from '../../shared/signing';
import { mintCallbackToken, taskIdForRequest } from './ids';

describe('mintCallbackToken', () => {
  it('keeps the hash the webhook checks (shared/signing.ts), for every token it mints', () => {
    for (let i = 0; i < 50; i++) {
      const { token, hash } = mintCallbackToken();
      expect(hash).toBe(hashCallbackToken(token));
      expect(tokensMatch(token, hash)).toBe(true);
    }
  });

  it('mints 256 random bits, never the same twice', () => {
    const a = mintCallbackToken();
    const b = mintCallbackToken();
    expect(Buffer.from(a.token, 'base64url')).toHaveLength(32);
    expect(a.token).not.toBe(b.token);
  });
});

describe('taskIdForRequest', () => {
  it('names the same task for the same user and request, another for anything else', () => {
    const id = taskIdForRequest('o_1', 'req-1');
    expect(taskIdForRequest('o_1', 'req-1')).toBe(id);
    expect(taskIdForRequest('o_2', 'req-1')).not.toBe(id);
    expect(taskIdForRequest('o_1', 'req-2')).not.toBe(id);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
