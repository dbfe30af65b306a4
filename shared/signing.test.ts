import { Webhook } from 'standardwebhooks';
import vectors from './fixtures/standard-webhooks-vectors.json';
import {
  TIMESTAMP_TOLERANCE_S,
  callbackHeaders,
  hashCallbackToken,
  signCallback,
  signedHeaders,
  tokensMatch,
  verifyCallback,
} from './signing';

// An independent oracle (WebCrypto, a Jest global in Node 20) for what the pure-JS code computes.
async function oracleHmacBase64(keyB64: string, content: Uint8Array): Promise<string> {
  const key = await crypto.subtle.importKey(
    'raw',
    Buffer.from(keyB64, 'base64'),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  return Buffer.from(await crypto.subtle.sign('HMAC', key, content)).toString('base64');
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts));
}

const SECRET_B64 = Buffer.from('a 32-byte key for callback tests').toString('base64');
const SECRET = `whsec_${SECRET_B64}`;
const OTHER_SECRET = `whsec_${Buffer.from('another key, for the rotation!!!').toString('base64')}`;
const ID = 'msg_2mXfA9kq1Tz7';
const TS = 1_780_000_000;
const BODY = JSON.stringify({
  type: 'workflow.execution.completed',
  data: {
    task_id: '0b6c4a52-2c1e-4e8f-9a53-7d1f0e6b2a10',
    execute_id: '7451234567890123456',
    callback_token: 'tok_abc',
    progress: 100,
    output: {
      title: '小猫的作品 🐱',
      content: '大家好，今天教大家做红烧肉😋',
      cover: '',
      video_url: '',
    },
  },
});

type Headers = Record<string, string | string[] | undefined>;

/** The correctly signed fixture's headers, with one field broken by `overrides`. */
function correctHeaders(overrides: Partial<Record<string, string | undefined>> = {}): Headers {
  return { ...signedHeaders(SECRET, ID, TS, BODY), ...overrides };
}

describe('published Standard Webhooks vectors', () => {
  const sw1 = vectors.standard_webhooks_v1[0]!;

  it.each(vectors.standard_webhooks_v1.map((v) => [v.name, v] as const))(
    '%s signs and verifies bit for bit',
    (_name, v) => {
      expect(signCallback(v.secret, v.msg_id, v.timestamp, v.payload)).toBe(v.expected_signature);
      expect(
        signCallback(v.secret, v.msg_id, v.timestamp, new TextEncoder().encode(v.payload)),
      ).toBe(v.expected_signature);
      const headers = {
        'webhook-id': v.msg_id,
        'webhook-timestamp': String(v.timestamp),
        'webhook-signature': v.expected_signature,
      };
      expect(verifyCallback([v.secret], headers, v.payload, v.timestamp)).toEqual({ ok: true });
      expect(verifyCallback([v.secret], headers, Buffer.from(v.payload), v.timestamp)).toEqual({
        ok: true,
      });
    },
  );

  it('SW-1 signs exactly its published signed content', async () => {
    const content = new TextEncoder().encode(sw1.signed_content!);
    const oracle = await oracleHmacBase64(sw1.secret.slice('whsec_'.length), content);
    expect(`v1,${oracle}`).toBe(sw1.expected_signature);
  });

  const neg = vectors.standard_webhooks_negative_signatures;
  it.each([
    ['near miss in the last character', neg.near_miss_of_SW1_last_char],
    ['a random v1 signature', neg.random_v1],
    ['a wrong version with valid base64', neg.wrong_version_same_bytes],
    ['a wrong version with the right bytes', sw1.expected_signature.replace('v1,', 'v2,')],
    ['partial "v1,"', neg.partial[0]!],
    ['the first 8 characters of a valid header', sw1.expected_signature.slice(0, 8)],
    ['garbage', neg.garbage],
    ['the signature without its version', sw1.expected_signature.slice(3)],
  ])('SW-1 with %s → bad_signature', (_label, signature) => {
    const headers = {
      'webhook-id': sw1.msg_id,
      'webhook-timestamp': String(sw1.timestamp),
      'webhook-signature': signature,
    };
    expect(verifyCallback([sw1.secret], headers, sw1.payload, sw1.timestamp)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it('agrees with the reference package on UTF-8 bodies', () => {
    const reference = new Webhook(SECRET);
    for (const body of [BODY, '', '{"a":"é"}', '{"emoji":"👨‍👩‍👧 🐱"}', ' \n{"x": 1}\n']) {
      expect(signCallback(SECRET, ID, TS, body)).toBe(
        reference.sign(ID, new Date(TS * 1000), body),
      );
    }
  });
});

describe('verifyCallback: a correct fixture, then one field broken at a time', () => {
  it('accepts the correctly signed fixture (Chinese text and emoji in the body)', () => {
    expect(verifyCallback([SECRET], correctHeaders(), BODY, TS)).toEqual({ ok: true });
    expect(verifyCallback([SECRET], correctHeaders(), Buffer.from(BODY, 'utf8'), TS)).toEqual({
      ok: true,
    });
    expect(verifyCallback([SECRET], correctHeaders(), new TextEncoder().encode(BODY), TS)).toEqual({
      ok: true,
    });
  });

  it.each([
    ['the id', { 'webhook-id': 'msg_2mXfA9kq1Tz8' }],
    ['the timestamp (still within tolerance)', { 'webhook-timestamp': String(TS + 1) }],
    [
      'the signature version',
      { 'webhook-signature': signCallback(SECRET, ID, TS, BODY).replace('v1,', 'v2,') },
    ],
    ['the secret', { 'webhook-signature': signCallback(OTHER_SECRET, ID, TS, BODY) }],
    ['the signature (garbage)', { 'webhook-signature': 'v1,dawfeoifkpqwoekfpqoekf' }],
    ['the signature (partial "v1,")', { 'webhook-signature': 'v1,' }],
  ])('changed %s → bad_signature', (_label, override) => {
    expect(verifyCallback([SECRET], correctHeaders(override), BODY, TS)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it('a near miss in the last base64 character → bad_signature', () => {
    const good = signCallback(SECRET, ID, TS, BODY);
    const last = good.slice(-2, -1); // the character before the '=' padding
    const nearMiss = good.slice(0, -2) + (last === 'A' ? 'B' : 'A') + good.slice(-1);
    expect(nearMiss).not.toBe(good);
    expect(
      verifyCallback([SECRET], correctHeaders({ 'webhook-signature': nearMiss }), BODY, TS),
    ).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('one byte of the body changed → bad_signature', () => {
    const bytes = Buffer.from(BODY, 'utf8');
    for (const index of [0, Math.floor(bytes.length / 2), bytes.length - 1]) {
      const tampered = Uint8Array.from(bytes);
      tampered[index] = tampered[index]! ^ 0x01;
      expect(verifyCallback([SECRET], correctHeaders(), tampered, TS)).toEqual({
        ok: false,
        reason: 'bad_signature',
      });
    }
  });

  it('a re-serialized body does not verify: only the raw bytes do', () => {
    const sw1 = vectors.standard_webhooks_v1[0]!;
    const headers = {
      'webhook-id': sw1.msg_id,
      'webhook-timestamp': String(sw1.timestamp),
      'webhook-signature': sw1.expected_signature,
    };
    const reserialized = JSON.stringify(JSON.parse(sw1.payload));
    expect(reserialized).not.toBe(sw1.payload);
    expect(verifyCallback([sw1.secret], headers, reserialized, sw1.timestamp)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it.each(['webhook-id', 'webhook-timestamp', 'webhook-signature'])(
    'header %s missing or empty → missing_headers',
    (name) => {
      expect(verifyCallback([SECRET], correctHeaders({ [name]: undefined }), BODY, TS)).toEqual({
        ok: false,
        reason: 'missing_headers',
      });
      expect(verifyCallback([SECRET], correctHeaders({ [name]: '  ' }), BODY, TS)).toEqual({
        ok: false,
        reason: 'missing_headers',
      });
    },
  );

  it('no headers at all → missing_headers', () => {
    expect(verifyCallback([SECRET], {}, BODY, TS)).toEqual({
      ok: false,
      reason: 'missing_headers',
    });
  });

  it.each([
    'abc',
    '1780000000abc',
    '-1780000000',
    '1780000000.5',
    '1e9',
    '0x6A1A0B00',
    '1234567890123',
  ])('timestamp %j → bad_timestamp', (timestamp) => {
    expect(
      verifyCallback([SECRET], correctHeaders({ 'webhook-timestamp': timestamp }), BODY, TS),
    ).toEqual({ ok: false, reason: 'bad_timestamp' });
  });

  it('timestamps up to the tolerance either way pass; one second more is refused', () => {
    expect(TIMESTAMP_TOLERANCE_S).toBe(300);
    const h = correctHeaders();
    expect(verifyCallback([SECRET], h, BODY, TS + 300)).toEqual({ ok: true });
    expect(verifyCallback([SECRET], h, BODY, TS - 300)).toEqual({ ok: true });
    expect(verifyCallback([SECRET], h, BODY, TS + 301)).toEqual({
      ok: false,
      reason: 'timestamp_too_old',
    });
    expect(verifyCallback([SECRET], h, BODY, TS - 301)).toEqual({
      ok: false,
      reason: 'timestamp_too_new',
    });
    // A fractional clock is floored, as seconds are.
    expect(verifyCallback([SECRET], h, BODY, TS + 300.9)).toEqual({ ok: true });
  });

  it('an old timestamp is refused even with a valid signature for it', () => {
    const old = TS - 3600;
    const headers = correctHeaders({
      'webhook-timestamp': String(old),
      'webhook-signature': signCallback(SECRET, ID, old, BODY),
    });
    expect(verifyCallback([SECRET], headers, BODY, TS)).toEqual({
      ok: false,
      reason: 'timestamp_too_old',
    });
  });

  it.each([
    ['no secrets', []],
    ['an empty secret', ['']],
    ['a bare prefix', ['whsec_']],
    ['a secret that is not base64', ['whsec_not base64!!']],
  ])('%s → no_secret', (_label, secrets) => {
    expect(verifyCallback(secrets, correctHeaders(), BODY, TS)).toEqual({
      ok: false,
      reason: 'no_secret',
    });
  });

  it('refuses a clock that is not a number', () => {
    expect(() => verifyCallback([SECRET], correctHeaders(), BODY, Number.NaN)).toThrow(TypeError);
  });
});

describe('verifyCallback: headers', () => {
  it('looks header names up case-insensitively', () => {
    const h = correctHeaders();
    const mixed = {
      'Webhook-Id': h['webhook-id'],
      'WEBHOOK-TIMESTAMP': h['webhook-timestamp'],
      'webhook-Signature': h['webhook-signature'],
    };
    expect(verifyCallback([SECRET], mixed, BODY, TS)).toEqual({ ok: true });
  });

  it('takes the first value of an array header', () => {
    const good = signCallback(SECRET, ID, TS, BODY);
    expect(verifyCallback([SECRET], correctHeaders({}), BODY, TS)).toEqual({ ok: true });
    const asArray = (first: string, second: string): Headers => ({
      ...correctHeaders(),
      'webhook-signature': [first, second],
    });
    expect(verifyCallback([SECRET], asArray(good, 'v1,bad'), BODY, TS)).toEqual({ ok: true });
    expect(verifyCallback([SECRET], asArray('v1,bad', good), BODY, TS)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
    expect(
      verifyCallback([SECRET], { ...correctHeaders(), 'webhook-id': [] as string[] }, BODY, TS),
    ).toEqual({ ok: false, reason: 'missing_headers' });
  });

  it('callbackHeaders reads the three headers', () => {
    expect(
      callbackHeaders({ 'Webhook-Id': ['a', 'b'], 'webhook-timestamp': ' 12 ', other: 'x' }),
    ).toEqual({ id: 'a', timestamp: '12', signature: '' });
  });
});

describe('verifyCallback: secret rotation and formats', () => {
  it('passes with the second of two secrets', () => {
    const h = correctHeaders({ 'webhook-signature': signCallback(OTHER_SECRET, ID, TS, BODY) });
    expect(verifyCallback([SECRET, OTHER_SECRET], h, BODY, TS)).toEqual({ ok: true });
    expect(verifyCallback([SECRET], h, BODY, TS)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('passes a signature list with one bad and one good entry, in either order', () => {
    const good = signCallback(SECRET, ID, TS, BODY);
    const bad = signCallback(OTHER_SECRET, ID, TS, BODY);
    for (const list of [`${bad} ${good}`, `${good} ${bad}`, `v1a,xyz  ${good}`]) {
      expect(
        verifyCallback([SECRET], correctHeaders({ 'webhook-signature': list }), BODY, TS),
      ).toEqual({ ok: true });
    }
    expect(
      verifyCallback([SECRET], correctHeaders({ 'webhook-signature': `${bad} v1,` }), BODY, TS),
    ).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('skips an unusable secret among usable ones', () => {
    expect(verifyCallback(['whsec_!!', SECRET], correctHeaders(), BODY, TS)).toEqual({ ok: true });
  });

  it('accepts the secret without its whsec_ prefix (plain base64)', () => {
    expect(signCallback(SECRET_B64, ID, TS, BODY)).toBe(signCallback(SECRET, ID, TS, BODY));
    expect(verifyCallback([SECRET_B64], correctHeaders(), BODY, TS)).toEqual({ ok: true });
  });
});

describe('raw bytes that are not UTF-8', () => {
  const bytes = Uint8Array.from([0x7b, 0xff, 0xfe, 0x00, 0x80, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0x7d]);

  it('signs the exact bytes and verifies them as bytes', async () => {
    const signature = signCallback(SECRET, ID, TS, bytes);
    const oracle = await oracleHmacBase64(
      SECRET_B64,
      concat(new TextEncoder().encode(`${ID}.${TS}.`), bytes),
    );
    expect(signature).toBe(`v1,${oracle}`);
    const headers = correctHeaders({ 'webhook-signature': signature });
    expect(verifyCallback([SECRET], headers, bytes, TS)).toEqual({ ok: true });
    expect(verifyCallback([SECRET], headers, Buffer.from(bytes), TS)).toEqual({ ok: true });
  });

  it('does not verify the bytes once decoded to a string (the trap of Buffer.toString)', () => {
    const headers = correctHeaders({ 'webhook-signature': signCallback(SECRET, ID, TS, bytes) });
    const decoded = Buffer.from(bytes).toString('utf8');
    expect(verifyCallback([SECRET], headers, decoded, TS)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
    // The reference package signs a Buffer as its UTF-8 decoding, hence not through it.
    expect(new Webhook(SECRET).sign(ID, new Date(TS * 1000), Buffer.from(bytes))).not.toBe(
      signCallback(SECRET, ID, TS, bytes),
    );
  });

  it('verifies a Buffer view that does not start at offset 0 of its memory', () => {
    const backing = Buffer.from(`garbage-before|${BODY}|after`, 'utf8');
    const start = Buffer.byteLength('garbage-before|');
    const view = backing.subarray(start, start + Buffer.byteLength(BODY));
    expect(view.byteOffset).toBeGreaterThan(0);
    expect(verifyCallback([SECRET], correctHeaders(), view, TS)).toEqual({ ok: true });
  });
});

describe('signCallback', () => {
  it('produces "v1," + base64 of 32 bytes', () => {
    expect(signCallback(SECRET, ID, TS, BODY)).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
  });

  it.each([[''], ['whsec_'], ['whsec_***'], ['whsec_abc']])(
    'throws on an unusable secret %j without echoing it',
    (secret) => {
      expect(() => signCallback(secret, ID, TS, BODY)).toThrow(/secret/);
      try {
        signCallback(secret, ID, TS, BODY);
      } catch (e) {
        if (secret.length > 6) expect((e as Error).message).not.toContain(secret);
      }
    },
  );

  it.each([[1.5], [-1], [Number.NaN]])('throws on timestamp %p', (ts) => {
    expect(() => signCallback(SECRET, ID, ts, BODY)).toThrow(/timestamp/);
  });
});

describe('signedHeaders', () => {
  it('sets the three headers a receiver reads, and they verify', () => {
    const headers = signedHeaders(SECRET, ID, TS, BODY);
    expect(callbackHeaders(headers)).toEqual({
      id: ID,
      timestamp: String(TS),
      signature: signCallback(SECRET, ID, TS, BODY),
    });
    expect(verifyCallback([SECRET], headers, BODY, TS)).toEqual({ ok: true });
  });
});

describe('callback token hashing', () => {
  it('is the hex SHA-256 of the token', async () => {
    expect(hashCallbackToken('abc')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    expect(hashCallbackToken('')).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    const token = 'tok_回调令牌_🔑_0123456789abcdef';
    const oracle = Buffer.from(
      await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token)),
    ).toString('hex');
    expect(hashCallbackToken(token)).toBe(oracle);
  });

  it('matches the right token only', () => {
    const stored = hashCallbackToken('tok_abc123');
    expect(tokensMatch('tok_abc123', stored)).toBe(true);
    expect(tokensMatch('tok_abc123', stored.toUpperCase())).toBe(true);
    expect(tokensMatch('tok_abc124', stored)).toBe(false);
    expect(tokensMatch('tok_abc123 ', stored)).toBe(false);
    const flipped = stored.slice(0, -1) + (stored.endsWith('0') ? '1' : '0');
    expect(tokensMatch('tok_abc123', flipped)).toBe(false);
  });

  it('never matches an empty token or a malformed stored hash', () => {
    expect(tokensMatch('', hashCallbackToken(''))).toBe(false);
    expect(tokensMatch('tok', '')).toBe(false);
    expect(tokensMatch('tok', hashCallbackToken('tok').slice(0, 63))).toBe(false);
    expect(tokensMatch('tok', 'tok')).toBe(false);
  });
});
