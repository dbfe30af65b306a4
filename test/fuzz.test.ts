/**
 * Fuzz of the two public entry points on the local stack, through HTTP: the webhook route and
 * `extractText` (create above all). Hundreds of malformed inputs per run, from a seeded PRNG (the
 * seed is in the suite's name: set FUZZ_SEED to replay it, FUZZ_CASES for more than 250 per entry
 * point in a longer hunt). Each refusal the contract knows is drawn at least once, whatever the
 * seed. For every one: never a 5xx, never a crash (`INTERNAL`), the answer the
 * contract requires, no echo of what was sent; and for all of them together: not one byte written
 * to the database (tasks, callback events, quota), no notice sent.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signedHeaders } from '../shared/signing';
import { callFunction } from '../emulator/client';
import { COLLECTIONS } from '../cloudfunctions/_adapters/database';
import { freePort, startProductStack, type ProductStack } from '../scripts/local-stack';
import { FAST_ENV } from './support/fault-world';
import {
  extractCase,
  prng,
  webhookCase,
  type CreateCase,
  type Rand,
  type WebhookCase,
} from './support/fuzz-gen';
import { journalFingerprint } from './support/journal';

const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
// Per entry point: every case is a function invocation, so the default is what the suite can pay
// for on every run (a new seed each time); FUZZ_CASES raises it for a longer hunt.
const CASES = Number(process.env.FUZZ_CASES ?? 250);
const WEBHOOK_CASES = CASES;
const EXTRACT_CASES = CASES;
// Deadlines (here and on each test, 600 s) only end a hang: a busy machine makes the fuzz
// slower, never wrong.
const FUZZ_TIMEOUT_MS = 600_000;
const CONCURRENCY = 8;
// The refusals every run must cover (413: the two oversized bodies, added to every run).
const WEBHOOK_REFUSALS = [400, 401, 404, 405];
const EXTRACT_REFUSALS = ['INVALID_INPUT', 'NO_LINK', 'UNSUPPORTED_PLATFORM', 'NOT_FOUND'];
const OWNER = 'fuzz-owner';
const CALLER = 'fuzz-caller';

let product: ProductStack;
let dataDir: string;
const seeded: { id: string; token: string }[] = [];
const logs: string[] = [];

/**
 * `count` cases from the generator, and more until each of `wanted` (the refusals the checks below
 * require to be covered) was drawn: the coverage holds for every seed, not only likely ones.
 */
function draw<C extends { expect: string | number }>(
  count: number,
  wanted: (string | number)[],
  next: () => C | null,
): C[] {
  const cases: C[] = [];
  const missing = new Set(wanted);
  for (let tries = 0; cases.length < count || missing.size > 0; tries++) {
    if (tries > 1000 * (count + wanted.length)) {
      throw new Error(`the generator never drew ${[...missing].join(', ')}`);
    }
    const c = next();
    if (!c) continue;
    // Past `count`, only a case of a refusal not drawn yet.
    if (missing.delete(c.expect) || cases.length < count) cases.push(c);
  }
  return cases;
}

async function pool<T>(items: T[], n: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

function state(): string {
  return `${journalFingerprint(dataDir, COLLECTIONS)}\noutbox:${product.outbox().length}`;
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'svt-fuzz-'));
  // Callbacks dropped and no sweeper: seeded tasks stay processing, the most exposed state.
  product = await startProductStack({
    port: await freePort(),
    dataDir,
    env: { ...FAST_ENV, COZE_STANDIN_CALLBACK: 'drop' },
    timersEnabled: false,
    instancesPerFunction: 2,
    // A starved machine makes an invocation slow, never a verdict: the cloud's 10 s is not
    // what these suites test.
    minFunctionTimeoutS: 120,
    log: (l) => logs.push(l),
  });
  product.stack.grant(OWNER);
  for (let i = 0; i < 4; i++) {
    const a = (await callFunction(
      product.url,
      'extractText',
      {
        action: 'create',
        shareText: `https://v.douyin.com/fuzz${i}seed/`,
        subscribed: { success: true, failure: true },
      },
      OWNER,
    )) as { ok: boolean; task: { _id: string } };
    expect(a.ok).toBe(true);
    await product.standin!.settle();
    const run = product.standin!.runs().find((r) => r.taskId === a.task._id);
    seeded.push({ id: a.task._id, token: run!.callbackToken });
  }
  // One seeded task finished by its genuine callback, so both live and finished ones are targets.
  const first = seeded[0]!;
  const body = JSON.stringify({
    type: 'workflow.execution.completed',
    data: {
      task_id: first.id,
      execute_id: '',
      callback_token: first.token,
      output: { title: 'seed', content: 'seed', cover: '', video_url: '' },
    },
  });
  const ts = Math.floor(Date.now() / 1000);
  const res = await fetch(`${product.url}/webhook/coze`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...signedHeaders(product.env.WEBHOOK_SECRET!, 'msg_seed', ts, body),
    },
    body,
  });
  expect(res.status).toBe(200);
}, FUZZ_TIMEOUT_MS);

afterAll(async () => {
  await product?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

function secretsIn(text: string): string[] {
  const secret = product.env.WEBHOOK_SECRET ?? '';
  const values = [
    secret,
    secret.replace(/^whsec_/, ''),
    product.env.COZE_API_TOKEN ?? '',
    ...seeded.map((s) => s.token),
  ].filter((s) => s.length >= 8);
  return values.filter((s) => text.includes(s));
}

describe(`fuzz (FUZZ_SEED=${SEED})`, () => {
  test('the webhook route: hundreds of malformed callbacks, never a 5xx, never a write', async () => {
    const before = state();
    const r: Rand = prng(SEED);
    const nowS = Math.floor(Date.now() / 1000);
    const cases: WebhookCase[] = draw(WEBHOOK_CASES, WEBHOOK_REFUSALS, () =>
      webhookCase(r, { secret: product.env.WEBHOOK_SECRET!, tasks: seeded }, nowS),
    );
    // Two bodies over the limits: the function's 1 MiB and the gateway's 6 MiB.
    for (const size of [1024 * 1024 + 1, 6 * 1024 * 1024 + 1]) {
      cases.push({
        kind: 'oversized',
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: randomBytes(size),
        expect: 413,
      });
    }
    const wrong: string[] = [];
    const statuses = new Map<number, number>();
    await pool(cases, CONCURRENCY, async (c) => {
      const res = await fetch(`${product.url}/webhook/coze`, {
        method: c.method,
        headers: c.headers,
        ...(c.body ? { body: c.body } : {}),
      });
      const text = await res.text();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      const sig = c.headers['webhook-signature'];
      const problems = [
        res.status >= 500 ? '5xx' : '',
        res.status !== c.expect ? `expected ${c.expect}` : '',
        sig && sig.length > 8 && text.includes(sig) ? 'echoes the signature' : '',
        /\bat .+:\d+:\d+/.test(text) ? 'a stack trace' : '',
        ...secretsIn(text).map(() => 'a secret'),
      ].filter(Boolean);
      if (problems.length)
        wrong.push(`${c.kind}: ${res.status} ${problems.join(', ')} ${text.slice(0, 80)}`);
    });
    if (process.env.FUZZ_DEBUG) console.log(JSON.stringify([...statuses]));
    expect(wrong.slice(0, 20)).toEqual([]);
    expect(state()).toBe(before);
    // The mix really covered every refusal.
    expect([...statuses.keys()].sort()).toEqual([...WEBHOOK_REFUSALS, 413]);
    // And the fingerprint does see a write: one genuine progress callback changes it.
    const live = seeded[1]!;
    const body = JSON.stringify({
      type: 'workflow.execution.progress',
      data: { task_id: live.id, execute_id: '', callback_token: live.token, progress: 50 },
    });
    const ts = Math.floor(Date.now() / 1000);
    const res = await fetch(`${product.url}/webhook/coze`, {
      method: 'POST',
      headers: {
        ...signedHeaders(product.env.WEBHOOK_SECRET!, 'msg_probe', ts, body),
      },
      body,
    });
    expect(await res.text()).toContain('"processed"');
    expect(state()).not.toBe(before);
  }, 600_000);

  test('extractText: hundreds of malformed creates and other calls, never a 5xx, never a write', async () => {
    const before = state();
    const r: Rand = prng(SEED ^ 0x5eed);
    const foreign = seeded.map((s) => s.id);
    const cases: CreateCase[] = draw(EXTRACT_CASES, EXTRACT_REFUSALS, () =>
      extractCase(r, CALLER, foreign),
    );
    const wrong: string[] = [];
    const codes = new Map<string, number>();
    await pool(cases, CONCURRENCY, async (c) => {
      const res = await fetch(`${product.url}/functions/extractText`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(c.openid ? { 'x-wx-openid': c.openid } : {}),
        },
        body: JSON.stringify(c.event),
      });
      const text = await res.text();
      let code = `http ${res.status}`;
      try {
        const a = JSON.parse(text) as { ok?: boolean; error?: { code?: string } };
        code = a.ok === false ? String(a.error?.code) : `ok ${String(a.ok)}`;
      } catch {
        // kept as the status
      }
      codes.set(code, (codes.get(code) ?? 0) + 1);
      const problems = [
        res.status >= 500 ? '5xx' : '',
        code !== c.expect ? `expected ${c.expect}` : '',
        /\bat .+:\d+:\d+/.test(text) ? 'a stack trace' : '',
        ...secretsIn(text).map(() => 'a secret'),
      ].filter(Boolean);
      if (problems.length) {
        wrong.push(
          `${c.kind} ${JSON.stringify(c.event).slice(0, 60)}: ${code} ${problems.join(', ')}`,
        );
      }
    });
    // A body that is not JSON at all is the gateway's 400, never the function's 5xx.
    for (const raw of ['{', 'not json', '\u0000', '[1,']) {
      const res = await fetch(`${product.url}/functions/extractText`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-wx-openid': CALLER },
        body: raw,
      });
      if (res.status >= 500) wrong.push(`raw ${JSON.stringify(raw)}: ${res.status}`);
    }
    expect(wrong.slice(0, 20)).toEqual([]);
    expect(state()).toBe(before);
    if (process.env.FUZZ_DEBUG) console.log(JSON.stringify([...codes]));
    expect(codes.get('INTERNAL')).toBeUndefined();
    for (const code of EXTRACT_REFUSALS) {
      expect(codes.get(code) ?? 0).toBeGreaterThan(0);
    }
    // And the fingerprint does see a write: one well-formed create changes it.
    const ok = await callFunction(
      product.url,
      'extractText',
      { action: 'create', shareText: 'https://b23.tv/fuzzprobe' },
      CALLER,
    );
    expect(ok).toMatchObject({ ok: true });
    expect(state()).not.toBe(before);
  }, 600_000);

  test('no secret in any log line of the whole fuzz', () => {
    const leaks = logs.filter((l) => secretsIn(l).length > 0);
    expect(leaks.slice(0, 5)).toEqual([]);
  });
});
