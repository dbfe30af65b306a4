/**
 * Generators of malformed inputs for the webhook route and for `extractText`, from a seeded PRNG
 * (the seed is printed on failure, so any case can be replayed). Each case carries what the
 * contract says it must be answered, computed from the domain's own rules.
 */
import { randomUUID } from 'node:crypto';
import { extractRequestSchema } from '../../shared/api';
import { MAX_CALLBACK_BYTES, parseCallbackBody } from '../../shared/callback';
import { TIMESTAMP_TOLERANCE_S, signedHeaders, verifyCallback } from '../../shared/signing';
import { parseShareText } from '../../shared/share-text';

export type Rand = () => number;

/** mulberry32: small, fast, good enough to spread cases. */
export function prng(seed: number): Rand {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const int = (r: Rand, n: number) => Math.floor(r() * n);
function pick<T>(r: Rand, xs: readonly T[]): T {
  return xs[int(r, xs.length)] as T;
}

const ALPHABETS = [
  'abcdefghijklmnopqrstuvwxyz0123456789',
  '复制打开抖音看看作品好可爱链接快手小红书哔哩',
  ' \t\n\r"\\\'{}[]:,./?#@!$&()*+;=%~-_<>|^`',
  '😀🎬\u0000\u0001\u200b\u202e\ufeff\ud800',
];

function junk(r: Rand, max = 64): string {
  const n = int(r, max + 1);
  let s = '';
  for (let i = 0; i < n; i++) {
    const a = pick(r, ALPHABETS);
    s += a[int(r, a.length)] ?? '';
  }
  return s;
}

function bytes(r: Rand, max = 512): Buffer {
  const n = int(r, max + 1);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = int(r, 256);
  return b;
}

/** A random JSON value, nested up to `depth`. */
function jsonValue(r: Rand, depth = 2): unknown {
  const k = int(r, depth > 0 ? 9 : 6);
  switch (k) {
    case 0:
      return null;
    case 1:
      return r() < 0.5;
    case 2:
      return pick(r, [0, -1, 1.5, 1e308, -0, 2 ** 53 + 1, 101, 99]);
    case 3:
      return junk(r);
    case 4:
      return '';
    case 5:
      return pick(r, ['$ne', '{openid}', 'workflow.execution.completed', randomUUID()]);
    case 6:
      return Array.from({ length: int(r, 4) }, () => jsonValue(r, depth - 1));
    case 7:
      return { $ne: null };
    default: {
      const o: Record<string, unknown> = {};
      for (let i = int(r, 4); i > 0; i--) o[junk(r, 8)] = jsonValue(r, depth - 1);
      return o;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Webhook route

export interface WebhookCase {
  kind: string;
  method: string;
  headers: Record<string, string>;
  body: Buffer | null;
  /** the status the contract requires */
  expect: number;
}

export interface WebhookFuzzContext {
  secret: string;
  /** seeded tasks and their genuine tokens */
  tasks: { id: string; token: string }[];
}

const TYPES = [
  'workflow.execution.progress',
  'workflow.execution.completed',
  'workflow.execution.failed',
];

/** A callback body mutated at random; usually breaks the schema, sometimes not. */
function mutatedBody(r: Rand, taskId: string, token: string, maxMutations = 3): unknown {
  const body: Record<string, unknown> = {
    type: pick(r, TYPES),
    data: {
      task_id: taskId,
      execute_id: '',
      callback_token: token,
      progress: int(r, 100),
      output: { title: 't', content: 'c', cover: '', video_url: '' },
      error: { code: '', message: '' },
    },
  };
  const data = body.data as Record<string, unknown>;
  const output = data.output as Record<string, unknown>;
  const mutations = maxMutations > 0 ? 1 + int(r, maxMutations) : 0;
  for (let i = 0; i < mutations; i++) {
    switch (int(r, 12)) {
      case 0:
        body.type = jsonValue(r);
        break;
      case 1:
        delete body.type;
        break;
      case 2:
        body.data = jsonValue(r);
        break;
      case 3:
        data.task_id = pick(r, [jsonValue(r), '', 'x'.repeat(65), 12345]);
        break;
      case 4:
        data.progress = pick(r, [-1, 101, 1.5, '50', null, 1e9]);
        break;
      case 5:
        data.callback_token = pick(r, [jsonValue(r), 'x'.repeat(300), 7]);
        break;
      case 6:
        output[pick(r, ['title', 'content', 'cover', 'video_url'])] = pick(r, [1, null, [], {}]);
        break;
      case 7:
        data.output = pick(r, [null, 'out', 3, []]);
        if (body.type === 'workflow.execution.completed') break;
        data.output = junk(r);
        break;
      case 8:
        data.error = pick(r, [{ code: 'x'.repeat(65), message: '' }, 'err', 5]);
        break;
      case 9:
        data.execute_id = pick(r, [5, 'e'.repeat(129), {}]);
        break;
      case 10:
        body.type = pick(r, ['workflow.execution.started', 'WORKFLOW.EXECUTION.COMPLETED', '']);
        break;
      default:
        delete data[pick(r, ['task_id', 'callback_token', 'output'])];
    }
  }
  return body;
}

/** What the contract answers a POST (the oracle: size, signature, schema, task, token). */
function expectedWebhookStatus(
  ctx: WebhookFuzzContext,
  headers: Record<string, string>,
  body: Buffer,
  nowS: number,
): number {
  if (body.length > MAX_CALLBACK_BYTES) return 413;
  if (!verifyCallback([ctx.secret], headers, body, nowS).ok) return 401;
  const parsed = parseCallbackBody(body.toString('utf8'));
  if (!parsed.ok) return 400;
  const task = ctx.tasks.find((t) => t.id === parsed.body.data.task_id);
  if (!task) return 404;
  return parsed.body.data.callback_token === task.token ? 200 : 401;
}

const msgId = (r: Rand) => `msg_${Math.floor(r() * 1e16).toString(36)}${int(r, 1e6)}`;

export function webhookCase(r: Rand, ctx: WebhookFuzzContext, nowS: number): WebhookCase | null {
  const seeded = pick(r, ctx.tasks);
  const taskId = r() < 0.6 ? seeded.id : pick(r, [randomUUID(), junk(r, 70), '']);
  const token = r() < 0.5 ? seeded.token : junk(r, 50);
  const sign = (id: string, ts: number, body: Buffer) => signedHeaders(ctx.secret, id, ts, body);
  const kind = int(r, 12);
  let headers: Record<string, string> = { 'content-type': 'application/json' };
  let body: Buffer;
  let label: string;
  switch (kind) {
    case 0: {
      label = 'random bytes, unsigned';
      body = bytes(r);
      if (r() < 0.5)
        headers['content-type'] = pick(r, ['application/octet-stream', 'text/plain', 'x/y']);
      if (r() < 0.5)
        headers = { ...headers, 'webhook-id': msgId(r), 'webhook-timestamp': String(nowS) };
      break;
    }
    case 1: {
      label = 'random bytes, signed';
      body = bytes(r);
      headers = { ...headers, ...sign(msgId(r), nowS, body) };
      if (r() < 0.5) headers['content-type'] = 'application/octet-stream';
      break;
    }
    case 2:
    case 3:
    case 4: {
      label = 'mutated body, signed';
      body = Buffer.from(JSON.stringify(mutatedBody(r, taskId, token)), 'utf8');
      headers = { ...headers, ...sign(msgId(r), nowS, body) };
      break;
    }
    case 5: {
      label = 'random JSON, signed';
      body = Buffer.from(JSON.stringify(jsonValue(r, 3)) ?? 'null', 'utf8');
      headers = { ...headers, ...sign(msgId(r), nowS, body) };
      break;
    }
    case 6: {
      label = 'bad timestamp';
      body = Buffer.from(JSON.stringify(mutatedBody(r, taskId, token)), 'utf8');
      const id = msgId(r);
      // Well away from the ±300 s edge, so a second ticking by cannot change the answer.
      const offsets = [
        -(TIMESTAMP_TOLERANCE_S + 5 + int(r, 1e6)),
        TIMESTAMP_TOLERANCE_S + 5 + int(r, 1e6),
      ];
      const ts = Math.max(0, nowS + pick(r, offsets));
      headers = { ...headers, ...sign(id, ts, body) };
      if (r() < 0.5) {
        headers['webhook-timestamp'] = pick(r, [
          '',
          '-1',
          '1.5',
          '1e9',
          ' 1',
          'abc',
          '9'.repeat(20),
          `${nowS}x`,
        ]);
      }
      break;
    }
    case 7: {
      label = 'bad signature header';
      body = Buffer.from(JSON.stringify(mutatedBody(r, taskId, token)), 'utf8');
      const good = sign(msgId(r), nowS, body);
      const sig = good['webhook-signature'];
      headers = {
        ...headers,
        ...good,
        'webhook-signature': pick(r, [
          '',
          'v1,',
          sig.replace('v1,', 'v2,'),
          sig.slice(0, -2),
          `${sig.slice(0, -4)}AAA=`,
          Array.from({ length: 50 }, () => 'v1,AAAA').join(' '),
          `v1,${'A'.repeat(4000)}`,
          sig.toLowerCase(),
        ]),
      };
      if (headers['webhook-signature'] === '') delete headers['webhook-signature'];
      break;
    }
    case 10: {
      label = 'well-formed, unknown task';
      const id = pick(r, [randomUUID(), junk(r, 64), 'a'.repeat(64), '..', '$ne', '{openid}']);
      body = Buffer.from(JSON.stringify(mutatedBody(r, id, token, 0)), 'utf8');
      headers = { ...headers, ...sign(msgId(r), nowS, body) };
      break;
    }
    case 11: {
      label = 'well-formed, wrong token';
      const wrong = pick(r, [junk(r, 43), pick(r, ctx.tasks).token, '', ' ']);
      body = Buffer.from(JSON.stringify(mutatedBody(r, seeded.id, wrong, 0)), 'utf8');
      headers = { ...headers, ...sign(msgId(r), nowS, body) };
      break;
    }
    case 8: {
      label = 'wrong method';
      return {
        kind: label,
        method: pick(r, ['GET', 'PUT', 'DELETE', 'PATCH']),
        headers,
        body: null,
        expect: 405,
      };
    }
    default: {
      label = 'base64-transported binary, signed';
      body = Buffer.concat([Buffer.from([0xff, 0xfe]), bytes(r, 64)]);
      headers = { 'content-type': 'application/octet-stream', ...sign(msgId(r), nowS, body) };
    }
  }
  const expect = expectedWebhookStatus(ctx, headers, body, nowS);
  // A genuine, well-formed callback would (rightly) change state: not a malformed input.
  if (expect === 200) return null;
  return { kind: label, method: 'POST', headers, body, expect };
}

// ---------------------------------------------------------------------------------------------
// extractText

export interface CreateCase {
  kind: string;
  /** undefined: no caller identity */
  openid: string | undefined;
  event: unknown;
  /** the error code the answer must carry */
  expect: string;
}

const LINKS = [
  'https://www.youtube.com/watch?v=abc',
  'https://v.douyin.com.evil.example/abc/',
  'https://evil.example/v.douyin.com/abc',
  'https://user@v.douyin.com/abc/',
  'https://v.douyin.com:8443/abc/',
  'javascript:alert(1)//v.douyin.com/abc',
  'ftp://v.douyin.com/abc',
  'https://www.bilibili.com/video/BV123',
  'https://www.douyin.com/user/123',
  'https://v.douyin.com/',
  'data:text/html,<script>1</script>',
  'https://xn--v-douyin-com.example/abc',
  'http://127.0.0.1:3000/admin',
];

function malformedShareText(r: Rand): unknown {
  switch (int(r, 7)) {
    case 0:
      return jsonValue(r);
    case 1:
      return junk(r, 200);
    case 2:
      return `${junk(r, 20)} ${pick(r, LINKS)} ${junk(r, 20)}`;
    case 3:
      return pick(r, ['', '   ', '\n\t', '链接']);
    case 4:
      return `https://v.douyin.com/${'a'.repeat(1990 + int(r, 3000))}/`;
    case 5:
      return 'x'.repeat(8001 + int(r, 100));
    default:
      return `复制打开抖音 ${junk(r, 30)}`;
  }
}

function expectedExtractCode(event: unknown, openid: string | undefined): string | 'valid' {
  if (!openid) return 'INVALID_INPUT';
  const parsed = extractRequestSchema.safeParse(event);
  if (!parsed.success) return 'INVALID_INPUT';
  const req = parsed.data;
  if (req.action === 'create') {
    const share = parseShareText(req.shareText);
    return share.ok ? 'valid' : share.code;
  }
  if (req.action === 'list')
    return req.cursor && !/^[0-9a-z]{1,12}\.[A-Za-z0-9_-]{1,64}$/.test(req.cursor)
      ? 'INVALID_INPUT'
      : 'valid';
  // get / cancel / retry of ids nobody owns (random or another user's).
  return 'NOT_FOUND';
}

export function extractCase(r: Rand, openid: string, foreignTaskIds: string[]): CreateCase | null {
  let event: unknown;
  let who: string | undefined = openid;
  let kind: string;
  const goodText = '复制打开抖音 https://v.douyin.com/iRNBho6u/';
  switch (int(r, 9)) {
    case 0:
      kind = 'not an object';
      event = pick(r, [null, 1, 'create', [], true, [{ action: 'create' }]]);
      break;
    case 1:
      kind = 'create, malformed shareText';
      event = { action: 'create', shareText: malformedShareText(r) };
      break;
    case 2:
    case 3:
      kind = 'create, malformed shareText and extras';
      event = {
        action: 'create',
        shareText: malformedShareText(r),
        requestId: r() < 0.5 ? junk(r, 70) : undefined,
        subscribed: r() < 0.5 ? jsonValue(r) : undefined,
        [junk(r, 6) || 'x']: jsonValue(r),
      };
      break;
    case 4:
      kind = 'create, good link, malformed fields';
      event = {
        action: 'create',
        shareText: goodText,
        ...pick(r, [
          {
            requestId: pick(r, [
              'short',
              'x'.repeat(65),
              'bad id!',
              12345678,
              '',
              ['..', '..', 'etc'].join('/'),
            ]),
          },
          { subscribed: pick(r, ['yes', 1, [], { success: 'true' }, { failure: 1 }]) },
          { shareText: [goodText] },
        ]),
      };
      break;
    case 5:
      kind = 'create, no caller';
      who = undefined;
      event = { action: 'create', shareText: goodText };
      break;
    case 6:
      kind = 'unknown or malformed action';
      event = {
        action: pick(r, [jsonValue(r), 'delete', 'CREATE', 'update', '__proto__', '']),
        shareText: goodText,
      };
      break;
    case 7:
      kind = 'get/cancel/retry, foreign or malformed id';
      event = {
        action: pick(r, ['get', 'cancel', 'retry']),
        taskId: pick(r, [
          ...foreignTaskIds,
          randomUUID(),
          { $ne: null },
          '',
          'x'.repeat(65),
          42,
          junk(r, 40),
        ]),
      };
      break;
    default:
      kind = 'list, malformed';
      event = {
        action: 'list',
        ...pick(r, [
          { cursor: junk(r, 40) },
          { cursor: 'x'.repeat(201) },
          { limit: pick(r, [0, 51, 1.5, '10', -1, null]) },
          { cursor: { $gt: '' } },
        ]),
      };
  }
  const expect = expectedExtractCode(event, who);
  if (expect === 'valid') return null;
  // A taskId that trims to a valid id would be looked up: still NOT_FOUND for this user.
  return { kind, openid: who, event, expect };
}
