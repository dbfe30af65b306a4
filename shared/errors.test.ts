import {
  AppError,
  ERROR_CODES,
  ERROR_MESSAGES,
  FAILURE_CODES,
  FAILURE_MESSAGES,
  describeError,
  errorAnswer,
  workflowFailureCode,
  isErrorCode,
  redactSecrets,
  toErrorAnswer,
} from './errors';

const hasChinese = /[\u4e00-\u9fff]/;

describe('error catalogue', () => {
  it('every code has a Chinese message', () => {
    for (const code of ERROR_CODES) expect(ERROR_MESSAGES[code]).toMatch(hasChinese);
    for (const code of FAILURE_CODES) expect(FAILURE_MESSAGES[code]).toMatch(hasChinese);
  });

  it('keeps the codes of the contract', () => {
    expect(ERROR_CODES).toEqual([
      'NO_LINK',
      'UNSUPPORTED_PLATFORM',
      'INVALID_INPUT',
      'NOT_FOUND',
      'RATE_LIMITED',
      'QUOTA_EXCEEDED',
      'TOO_BUSY',
      'CONFLICT',
      'UPSTREAM_UNAVAILABLE',
      'INTERNAL',
      'SHARE_EXPIRED',
      'SHARE_REVOKED',
      'SHARE_GONE',
    ]);
    expect(isErrorCode('NO_LINK')).toBe(true);
    expect(isErrorCode('nope')).toBe(false);
  });

  it('an AppError keeps its code and the catalogue message, never its detail', () => {
    const answer = toErrorAnswer(new AppError('NOT_FOUND', 'task abc of user xyz'));
    expect(answer).toEqual({
      ok: false,
      error: { code: 'NOT_FOUND', message: ERROR_MESSAGES.NOT_FOUND },
    });
    expect(JSON.stringify(answer)).not.toContain('xyz');
  });

  it('anything else becomes INTERNAL without message or stack', () => {
    const err = new Error('connect ECONNREFUSED secretKey=abc123');
    const answer = toErrorAnswer(err);
    expect(answer.error.code).toBe('INTERNAL');
    const text = JSON.stringify(answer);
    expect(text).not.toContain('ECONNREFUSED');
    expect(text).not.toContain('abc123');
    expect(text).not.toContain('at ');
    expect(toErrorAnswer('a string').error.code).toBe('INTERNAL');
    expect(toErrorAnswer(undefined)).toEqual(errorAnswer('INTERNAL'));
  });

  it('a busy refusal says when to try again, in whole seconds', () => {
    const answer = toErrorAnswer(new AppError('TOO_BUSY', 'wait 512.3 s', { retryAfterS: 92.3 }));
    expect(answer).toEqual({
      ok: false,
      error: { code: 'TOO_BUSY', message: ERROR_MESSAGES.TOO_BUSY, retryAfterS: 93 },
    });
  });

  it('maps workflow failure codes, unknown ones to PROVIDER_ERROR', () => {
    expect(workflowFailureCode('no_speech')).toBe('NO_SPEECH');
    expect(workflowFailureCode('PHOTO_NOTE')).toBe('PHOTO_NOTE');
    expect(workflowFailureCode('E1234')).toBe('PROVIDER_ERROR');
    expect(workflowFailureCode(undefined)).toBe('PROVIDER_ERROR');
    expect(workflowFailureCode('CANCELLED')).toBe('PROVIDER_ERROR');
    // Our side's codes: a workflow cannot claim them, by callback or by run history alike.
    expect(workflowFailureCode('TIMEOUT')).toBe('PROVIDER_ERROR');
    expect(workflowFailureCode('UPSTREAM_UNAVAILABLE')).toBe('PROVIDER_ERROR');
  });

  it('redacts secrets from log text', () => {
    const line = redactSecrets(
      'Authorization: Bearer sat_abcdefghijklmnop whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw token=xyz "secretKey":"k1"',
    );
    expect(line).not.toMatch(/sat_abc|MfKQ9|xyz|k1/);
    expect(
      describeError(Object.assign(new Error('fail pat_12345678901234567890'), { errCode: -1 })),
    ).toBe('Error(-1): fail pat_***');
  });
});
