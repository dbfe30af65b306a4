/** The console's API on the real local stack: timelines from what the stack saw, knobs, replay, no secrets. */
import { rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProductStack, type ProductStack } from '../scripts/local-stack';

jest.setTimeout(60_000);

const SHARE = '7.94 复制打开抖音，看看【小猫的作品】好可爱 https://v.douyin.com/iRNBho6u/';

let product: ProductStack;
let dataDir: string;
/** Every answer and every live event the console gave, to search for secrets at the end. */
const seenText: string[] = [];
let events: AbortController;

async function api<T = unknown>(
  path: string,
  body?: unknown,
): Promise<{ status: number; data: T }> {
  const res = await fetch(`${product.url}/_console/api${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  seenText.push(text);
  return { status: res.status, data: JSON.parse(text) as T };
}

async function until<T>(
  probe: () => Promise<T | null | undefined | false>,
  what: string,
): Promise<T> {
  const deadline = Date.now() + 40_000;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Entry {
  kind: string;
  title: string;
  detail: string;
  rel: number;
}
interface Timeline {
  task: Record<string, unknown>;
  entries: Entry[];
  cost: { invocationCount: number; reads: number; writes: number };
}

const timelineOf = (id: string) => api<Timeline>(`/tasks/${id}`).then((r) => r.data);

async function submit(openid: string, text = SHARE): Promise<string> {
  const { data } = await api<{ ok: boolean; task: { _id: string } }>('/submit', {
    openid,
    shareText: text,
    subscribe: true,
  });
  expect(data.ok).toBe(true);
  return data.task._id;
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'console-test-'));
  product = await startProductStack({
    port: 0,
    dataDir,
    timersEnabled: false,
    instancesPerFunction: 2,
    env: { COZE_STANDIN_DELAY_MS: '300' },
  });
  // The live stream too must never carry a secret.
  events = new AbortController();
  void fetch(`${product.url}/_console/events`, { signal: events.signal })
    .then(async (res) => {
      const reader = res.body!.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        seenText.push(Buffer.from(value).toString('utf8'));
      }
    })
    .catch(() => undefined);
});

afterAll(async () => {
  events.abort();
  await product.close();
  rmSync(dataDir, { recursive: true, force: true });
});

it('serves the page at / and the front-end library from node_modules', async () => {
  const page = await fetch(`${product.url}/`);
  expect(page.headers.get('content-type')).toMatch(/text\/html/);
  expect(await page.text()).toContain('/_console/app.js');
  const lib = await fetch(`${product.url}/_console/vendor/preact.mjs`);
  expect(lib.status).toBe(200);
  // The icon browsers ask for on their own: no 404 in every page load.
  const icon = await fetch(`${product.url}/favicon.ico`);
  expect(icon.status).toBe(200);
  expect(icon.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
  expect(await icon.text()).toMatch(/^<svg /);
  // The function's HTTP route is not shadowed by the console at '/'.
  const hook = await fetch(`${product.url}/webhook/coze`, { method: 'POST', body: '{}' });
  expect(hook.status).toBe(401);
});

it('tells a task from submit to notice, with its cost', async () => {
  const id = await submit('console-a');
  const done = await until(async () => {
    const t = await timelineOf(id);
    // Log lines trail the writes they tell of: wait for the last ones, never race them.
    const settled =
      t.task.status === 'completed' &&
      t.entries.some((e) => e.title.startsWith('notice sent')) &&
      t.entries.some((e) => e.title === 'callback completed: processed');
    return settled ? t : null;
  }, 'the task to complete, its notice to be sent and its final callback logged');
  const titles = done.entries.map((e) => `${e.kind}: ${e.title}`);
  // Each step as what happened (the event, then what it changed)...
  const completed = 'transition: completed: status processing → completed';
  expect([...titles].sort()).toEqual(
    [
      'create: submitted: task created',
      'dispatch: run started: status pending → processing',
      'coze: Coze posted progress 30%',
      'callback: callback progress 30 %: processed',
      'transition: progress 30 % accepted',
      'coze: Coze posted progress 70%',
      'callback: callback progress 70 %: processed',
      'transition: progress 70 % accepted',
      'coze: Coze posted completed 100%',
      'callback: callback completed: processed',
      completed,
      'notice: notice claimed',
      'notice: notice sent (success)',
    ].sort(),
  );
  // ...in the order it happened, whatever the machine's load: the submit first; each post, then
  // its receipt, then the write it made; the notice claimed by the finishing write, then sent.
  const at = (title: string) => titles.indexOf(title);
  expect(at('create: submitted: task created')).toBe(0);
  for (const p of ['progress 30', 'progress 70']) {
    expect(at(`coze: Coze posted ${p}%`)).toBeLessThan(at(`callback: callback ${p} %: processed`));
    expect(at(`callback: callback ${p} %: processed`)).toBeLessThan(
      at(`transition: ${p} % accepted`),
    );
  }
  expect(at('callback: callback completed: processed')).toBeLessThan(at(completed));
  expect(at('notice: notice claimed')).toBe(at(completed) + 1);
  expect(at('notice: notice sent (success)')).toBeGreaterThan(at('notice: notice claimed'));
  expect(done).toMatchObject({ active: false, next: null });
  const dispatch = done.entries.find((e) => e.kind === 'dispatch')!;
  expect(dispatch.detail).toMatch(/execute_id 7\d{18}/);
  const callback = done.entries.find((e) => e.title === 'callback completed: processed')!;
  expect(callback.detail).toMatch(/webhook-id msg_[0-9a-f]{32}/);
  expect(done.entries.find((e) => e.title.startsWith('notice sent'))!.detail).toContain(
    'errcode 0',
  );
  expect(done.entries.every((e, i, all) => i === 0 || e.rel >= all[i - 1]!.rel)).toBe(true);
  // extractText once, webhookHandler once per callback (progress 30, 70, completed).
  expect(done.cost.invocationCount).toBeGreaterThanOrEqual(2);
  expect(done.cost.reads).toBeGreaterThan(0);
  expect(done.cost.writes).toBeGreaterThan(0);
  expect(done.task).not.toHaveProperty('callback_token_hash');

  const { data: list } = await api<{ _id: string }[]>('/tasks?user=console-a&status=completed');
  expect(list.map((t) => t._id)).toEqual([id]);
  const { data: none } = await api<unknown[]>('/tasks?user=console-a&status=failed');
  expect(none).toEqual([]);

  const { data: notices } = await api<{
    outbox: { touser: string; title: string; page: string; rows: { label: string }[] }[];
  }>('/notices');
  const mine = notices.outbox.find((m) => m.touser === 'console-a')!;
  expect(mine.title).toBe('文案提取完成通知');
  expect(mine.page).toContain(id);
  expect(mine.rows.map((r) => r.label)).toContain('视频标题');

  const { data: requests } =
    await api<{ type: string; action?: string; op?: string }[]>('/requests');
  expect(requests.some((e) => e.type === 'db' && e.op === 'write')).toBe(true);
  expect(requests.some((e) => e.type === 'invocation.finished')).toBe(true);

  const { data: logs } = await api<{ fields: { task?: string } }[]>(`/logs?task=${id}&level=info`);
  expect(logs.length).toBeGreaterThan(0);
  expect(logs.every((l) => l.fields.task === id || JSON.stringify(l).includes(id))).toBe(true);
});

it('subscribes the submitting user to both notices: a failed task sends the failure notice', async () => {
  const id = await submit('console-fail', SHARE.replace('iRNBho6u', 'failRun01'));
  const doc = product.stack.data.find('tasks', { _id: id })[0]!;
  expect(doc.subscribed).toEqual({ success: true, failure: true });
  const failureTemplate = product.env.SUBSCRIBE_TEMPLATE_FAILURE_ID!;
  await until(
    async () =>
      product.stack
        .outbox()
        .some((m) => m.touser === 'console-fail' && m.templateId === failureTemplate),
    'the failure notice to console-fail',
  );
});

it('refuses user ids the local stack rules out, with a 400 naming the rule, before anything happens', async () => {
  const before = product.stack.data.find('tasks').length;
  const cases: [string, RegExp][] = [
    ['<img src=x onerror=alert(1)>', /only letters, digits, _ and -/],
    // A path-shaped id, spelled in parts so no scan of this file reads it as a path of the repo.
    [['..', '..', 'etc'].join('/'), /only letters, digits, _ and -/],
    ['a'.repeat(5000), /5000 characters; a user id has at most 64/],
    ['alice\nbob', /only letters, digits, _ and -/],
    ['alice ', /only letters, digits, _ and -/],
    ['', /expected a user id/],
  ];
  for (const [openid, message] of cases) {
    const r = await api<{ ok: boolean; error: string }>('/submit', {
      openid,
      shareText: SHARE,
      subscribe: true,
    });
    expect(r.status).toBe(400);
    expect(r.data).toEqual({ ok: false, error: expect.stringMatching(message) });
    expect(r.data.error).not.toContain(openid || '\u0000');
    const g = await api<{ ok: boolean }>('/grants', { openid });
    expect(g.status).toBe(400);
  }
  const missing = await api('/submit', { shareText: SHARE });
  expect(missing.status).toBe(400);
  // Nothing was created and nobody was granted anything.
  expect(product.stack.data.find('tasks')).toHaveLength(before);
  expect(Object.keys(product.stack.grants()).some((u) => !/^[A-Za-z0-9_-]{1,64}$/.test(u))).toBe(
    false,
  );
  // The rule's own edge: 64 characters is a user id.
  await submit('u'.repeat(64));
});

it('replays a recorded callback byte for byte and shows it answered as a duplicate', async () => {
  const { data: recorded } =
    await api<{ seq: number; type: string; taskId: string }[]>('/callbacks');
  const final = recorded.find((c) => c.type === 'workflow.execution.completed')!;
  const { data: replay } = await api<{ httpStatus: number; answer: string }>(
    `/callbacks/${final.seq}/replay`,
    {},
  );
  expect(replay.httpStatus).toBe(200);
  expect(JSON.parse(replay.answer)).toEqual({ ok: true, outcome: 'duplicate' });
  await until(async () => {
    const t = await timelineOf(final.taskId);
    return t.entries.some((e) => e.title === 'callback completed: duplicate') &&
      t.entries.some((e) => e.title.startsWith(`replay of #${final.seq}`))
      ? t
      : null;
  }, 'the replay in the timeline');
});

it('changes the stand-in at run time: the next task gets duplicated callbacks', async () => {
  const bad = await api('/standin', { callbackMode: 'sideways' });
  expect(bad.status).toBe(400);
  const { data: knobs } = await api<{ callbackMode: string }>('/standin', {
    callbackMode: 'duplicate',
  });
  expect(knobs.callbackMode).toBe('duplicate');
  const id = await submit('console-b');
  await until(async () => {
    const t = await timelineOf(id);
    return t.task.status === 'completed' &&
      t.entries.some((e) => e.title === 'callback completed: duplicate')
      ? t
      : null;
  }, 'a duplicated final callback');
  await api('/standin', { callbackMode: 'normal' });
  const { data: sweep } = await api<{ ok: boolean }>('/sweep', {});
  expect(sweep.ok).toBe(true);
});

it('refuses a stand-in knob that is unknown, of the wrong type or out of range, and keeps the knobs', async () => {
  const before = product.standin!.settings();
  const cases: [unknown, RegExp][] = [
    [{ qps: -1 }, /qps must be 0\.\.1000 \(0: no limit\)/],
    [{ qps: 5000 }, /qps must be 0\.\.1000/],
    [{ qps: 0.5 }, /^qps: a whole number of calls a second/],
    [{ qps: '5' }, /^qps: expected a number$/],
    [{ qps: null }, /^qps: expected a number$/],
    [{ startAnswer: 'sideways' }, /unknown startAnswer sideways/],
    [{ startAnswer: 3 }, /^startAnswer: expected a mode name$/],
    [
      { qsp: 1 },
      /^qsp: no such knob \(the stand-in has callbackMode, createErrorRate, delayMs, startAnswer, qps\)$/,
    ],
  ];
  for (const [body, message] of cases) {
    const r = await api<{ ok: boolean; error: string }>('/standin', body);
    expect({ body, status: r.status, error: r.data.error }).toEqual({
      body,
      status: 400,
      error: expect.stringMatching(message),
    });
  }
  expect(product.standin!.settings()).toEqual(before);
  const { data: vocab } = await api<{ startAnswers: string[] }>('/vocab');
  expect(vocab.startAnswers).toEqual(['normal', 'truncated', 'empty', 'slow']);
  const { data: knobs } = await api<{ startAnswer: string; qps: number }>('/standin', {
    startAnswer: 'slow',
    qps: 7,
  });
  expect(knobs).toMatchObject({ startAnswer: 'slow', qps: 7 });
  await api('/standin', { startAnswer: 'normal', qps: 0 });
});

interface QueueAnswer {
  limits: { cozeQps: number; standinQps: number; coze: string };
  waitingCount: number;
  waiting: { id: string; place: number | null; waitS: number | null }[];
  createMode: string;
  dispatching: boolean;
  series: {
    waiting: number[];
    starts: number[];
    refusedStarts: number[];
    leases: { from: number; until: number }[];
  };
  upstream: { started: number[]; refusedStarts: number[] };
  state: { startedTotal: number; refusedTotal: number };
}
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

it('shows the queue: tasks waiting behind a refusing upstream, their places, what was refused, the drain', async () => {
  // Every start refused, whatever the timing: the bucket's one call a second, and Coze busy (5000)
  // for a start the bucket lets through. A refusal for rate or load is not an attempt: all wait.
  await api('/standin', { qps: 1, createErrorRate: 1 });
  const ids = await Promise.all(['q1', 'q2', 'q3', 'q4'].map((u) => submit(`console-${u}`)));
  const queued = await until(async () => {
    const { data } = await api<QueueAnswer>('/queue');
    // The functions' log lines trail their answers: every refusal the stand-in made is logged.
    const logged = sum(data.series.refusedStarts);
    return data.waitingCount === ids.length &&
      logged >= Math.max(1, sum(data.upstream.refusedStarts))
      ? data
      : null;
  }, 'every task waiting and the refused starts logged');
  expect(queued.limits).toMatchObject({ cozeQps: 50, standinQps: 1, coze: 'stand-in' });
  expect(queued.waiting.map((t) => t.id).sort()).toEqual([...ids].sort());
  expect(queued.series.waiting[queued.series.waiting.length - 1]).toBe(ids.length);
  // A create that found its paced slot taken made no attempt: it waits all the same. One that
  // made it is told in its timeline, and each waiting task's next look is its turn in the queue.
  const story = await until(async () => {
    for (const id of ids) {
      const t = await timelineOf(id);
      if (t.entries.some((e) => /^start refused for (rate|load)/.test(e.title))) return t;
    }
    return null;
  }, 'a refused start in a timeline');
  expect((story as Timeline & { next: { title: string } }).next.title).toBe(
    "waits in the queue: a sweep's dispatcher starts it in its turn",
  );

  // Held while their creates' own starts could still be going; then each has its place.
  await api('/standin', { qps: 0, createErrorRate: 0 });
  const placed = await until(async () => {
    const { data } = await api<QueueAnswer>('/queue');
    return data.waiting.every((t) => t.place !== null) ? data : null;
  }, 'every waiting task placed');
  expect(placed.waiting.map((t) => t.place)).toEqual([1, 2, 3, 4]);
  // Timers are off: no sweep is coming, so no wait is promised.
  expect(placed.waiting.every((t) => t.waitS === null)).toBe(true);

  const { data: sweep } = await api<{ report: { dispatch: { started: number } } }>('/sweep', {});
  expect(sweep.report.dispatch.started).toBe(ids.length);
  const { data: drained } = await api<QueueAnswer>('/queue');
  expect(drained.waitingCount).toBe(0);
  expect(drained.series.waiting[drained.series.waiting.length - 1]).toBe(0);
  expect(sum(drained.series.starts)).toBeGreaterThanOrEqual(ids.length);
  expect(drained.series.leases.length).toBeGreaterThanOrEqual(1);
  expect(drained.dispatching).toBe(false);
  for (const id of ids) {
    await until(
      async () => (await timelineOf(id)).task.status === 'completed',
      `task ${id} to complete`,
    );
  }
});

it('never answers a secret, a callback token or its hash', async () => {
  await api('/overview');
  await api('/queue');
  await api('/tasks');
  await api('/requests');
  await api('/logs');
  const secrets = [product.env.WEBHOOK_SECRET!, product.env.COZE_API_TOKEN!];
  for (const run of product.standin!.runs()) secrets.push(run.callbackToken);
  for (const t of product.stack.data.find('tasks')) secrets.push(String(t.callback_token_hash));
  expect(secrets.length).toBeGreaterThan(4);
  const all = seenText.join('\n');
  expect(all.length).toBeGreaterThan(1000);
  for (const s of secrets) expect(all).not.toContain(s);
  expect(all).not.toMatch(/callback_token/);
});
