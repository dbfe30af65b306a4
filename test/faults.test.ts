/**
 * Fault injection on the local stack: the built functions, the Coze stand-in and real HTTP. In every
 * scenario three users submit four tasks each at once (one of each four runs fails), follow them
 * with the live watch, and a fault is injected. Every scenario has its own stack (the stand-in's
 * fault knobs are per stack) and they all run side by side. The sweeper runs every two seconds
 * instead of every minute. Then, for every task:
 * - it ended in the right state (its run's output, its run's failure, or "start gave up" after
 *   exactly two retries when Coze stayed busy);
 * - no step went backwards, in any database write or in what its owner's watch showed;
 * - retry_count ≤ 2;
 * - exactly one notice to its owner when the user subscribed and holds a grant, otherwise none;
 * - no user could read, list, cancel, retry or watch another user's task;
 * - no secret (webhook secret, Coze token, callback tokens) in any answer or log line.
 * Timing is measured by the benchmark (`npm run bench`), never asserted here.
 */
import { attackTask, unexpected, type AttackOutcome } from './support/attacks';
import type { InterceptedCallback, ProxyDecision } from './support/callback-proxy';
import { DRIVE_DEADLINE_MS, FaultWorld, type WorldOptions } from './support/fault-world';

// Only ends a hang: a world reports what is still open after DRIVE_DEADLINE_MS, well before this.
const SCENARIO_TIMEOUT_MS = 3 * DRIVE_DEADLINE_MS;

async function withWorld(
  opts: WorldOptions,
  body: (world: FaultWorld) => Promise<void>,
): Promise<void> {
  const world = await FaultWorld.start(opts);
  try {
    await body(world);
  } finally {
    await world.close();
  }
}

/** The webhook's answers through the proxy: per webhook-id at most one that was not a duplicate. */
function dedupeViolations(world: FaultWorld): string[] {
  const v: string[] = [];
  const byId = new Map<string, string[]>();
  for (const f of world.proxy?.forwarded ?? []) {
    if (f.status >= 500) v.push(`webhook answered ${f.status} to ${f.callback.type}`);
    let outcome = `http ${f.status}`;
    try {
      outcome = (JSON.parse(f.answer) as { outcome?: string }).outcome ?? outcome;
    } catch {
      // kept as the status
    }
    byId.set(f.callback.webhookId, [...(byId.get(f.callback.webhookId) ?? []), outcome]);
  }
  // A delivery is applied at most once: of all copies of one webhook-id, at most one changed the
  // task. (A copy racing the winner may answer `stale` instead of `duplicate`: it changed nothing.)
  for (const [id, outcomes] of byId) {
    const applied = outcomes.filter((o) => o === 'processed');
    if (applied.length > 1)
      v.push(`${id} was applied ${applied.length} times: ${outcomes.join(',')}`);
  }
  return v;
}

const random = (max: number) => Math.floor(Math.random() * max);

async function finish(world: FaultWorld, opts: { allowQueueGiveUp?: boolean } = {}) {
  await world.driveToEnd();
  const isolation = await world.probeIsolation();
  expect([...world.check(opts), ...isolation]).toEqual([]);
  expect(world.tasks.length + world.busyRefusals).toBe(world.users.length * world.tasksPerUser);
}

describe('fault injection on the local stack', () => {
  test.concurrent(
    'duplicated callbacks: every delivery twice, the final once more under a new id',
    () =>
      withWorld(
        {
          name: 'dup',
          env: { COZE_STANDIN_CALLBACK: 'duplicate' },
          proxy: () => ({ action: 'forward' }),
        },
        async (world) => {
          await world.submitAll();
          await finish(world);
          expect(dedupeViolations(world)).toEqual([]);
          // The stand-in really did send copies.
          const ids = world.proxy!.received.map((c) => c.webhookId);
          expect(new Set(ids).size).toBeLessThan(ids.length);
        },
      ),
    SCENARIO_TIMEOUT_MS,
  );

  test.concurrent(
    'reordered and delayed callbacks: progress after the final, random transport delays',
    () =>
      withWorld(
        {
          name: 'reorder',
          env: { COZE_STANDIN_CALLBACK: 'reorder' },
          proxy: () => ({ action: 'forward', delayMs: random(700) }),
        },
        async (world) => {
          await world.submitAll();
          await finish(world);
          expect(dedupeViolations(world)).toEqual([]);
          // Some progress callback really did arrive after its task had ended.
          const late = world.proxy!.forwarded.filter(
            (f) => f.callback.type.endsWith('progress') && f.answer.includes('"stale"'),
          );
          expect(late.length).toBeGreaterThan(0);
        },
      ),
    SCENARIO_TIMEOUT_MS,
  );

  test.concurrent(
    'callbacks delayed past reconciliation, and tasks cancelled mid-run',
    async () => {
      const held = (cb: InterceptedCallback): ProxyDecision => {
        const final = !cb.type.endsWith('progress');
        // Half the finals are held until the sweeper has finished those tasks from the run
        // history; all progress callbacks come late. The runs last 3 s, so the cancels (sent as
        // soon as a create answers) come before any final even on a slow machine.
        if (final && cb.taskId.charCodeAt(0) % 2 === 0) return { action: 'hold' };
        return { action: 'forward', delayMs: random(final ? 300 : 900) };
      };
      await withWorld(
        { name: 'late', env: { COZE_STANDIN_DELAY_MS: '3000' }, proxy: held },
        async (world) => {
          await world.submitAll({
            afterCreate: async (t) => {
              if (t.index !== 1) return;
              const a = await world.call(t.owner, { action: 'cancel', taskId: t.id });
              if (a.ok) t.cancelled = true;
            },
          });
          expect(world.tasks.some((t) => t.cancelled)).toBe(true);
          await world.driveToEnd();
          expect(world.violations).toEqual([]);
          const heldCount = world.proxy!.heldCount();
          expect(heldCount).toBeGreaterThan(0);
          const late = await world.proxy!.release('reversed');
          for (const f of late) {
            expect([f.status, f.answer]).toEqual([200, expect.stringContaining('"stale"')]);
          }
          await world.driveToEnd();
          const isolation = await world.probeIsolation();
          expect([...world.check(), ...isolation, ...dedupeViolations(world)]).toEqual([]);
        },
      );
    },
    SCENARIO_TIMEOUT_MS,
  );

  test.concurrent(
    'dropped callbacks: the sweeper finishes every task from the run history',
    () =>
      withWorld({ name: 'drop', env: { COZE_STANDIN_CALLBACK: 'drop' } }, async (world) => {
        await world.submitAll();
        await finish(world);
        const docs = [...world.docs().values()];
        // Finished from the run history: no callback delivery was ever applied.
        expect(docs.every((d) => (d.callback_ids as unknown[] | undefined)?.length === 0)).toBe(
          true,
        );
      }),
    SCENARIO_TIMEOUT_MS,
  );

  test.concurrent(
    'forged, unsigned, expired, future-dated, borrowed and replayed callbacks change nothing',
    () =>
      withWorld(
        {
          name: 'forged',
          env: { COZE_STANDIN_DELAY_MS: '400' },
          proxy: () => ({ action: 'forward' }),
        },
        async (world) => {
          const secret = world.product.env.WEBHOOK_SECRET ?? '';
          const webhook = `${world.url}/webhook/coze`;
          const results: AttackOutcome[] = [];
          const tokenOf = (taskId: string) =>
            world.product.standin
              ?.runs()
              .filter((r) => r.taskId === taskId)
              .pop()?.callbackToken ?? null;
          const targets = () =>
            world.tasks.map((t) => ({
              taskId: t.id,
              token: tokenOf(t.id),
              otherToken: tokenOf(world.tasks.find((o) => o.owner !== t.owner)?.id ?? ''),
            }));
          await world.submitAll();
          // While the runs are going...
          await Promise.all(
            targets().map(async (target) => {
              results.push(...(await attackTask(webhook, secret, target, [])));
            }),
          );
          await world.driveToEnd();
          // ...and once they ended, now with the genuine deliveries at hand for replays.
          const genuineOf = (taskId: string) =>
            world
              .proxy!.forwarded.filter((f) => f.callback.taskId === taskId && f.status === 200)
              .map((f) => f.callback)
              .slice(-2);
          await Promise.all(
            targets().map(async (target) => {
              const genuine = genuineOf(target.taskId);
              results.push(...(await attackTask(webhook, secret, target, genuine)));
            }),
          );
          await world.driveToEnd();
          expect(unexpected(results)).toEqual([]);
          expect(results.length).toBeGreaterThan(world.tasks.length * 10);
          const isolation = await world.probeIsolation();
          const answers = results.map((r) => r.answer);
          expect([...world.check({ extraAnswers: answers }), ...isolation]).toEqual([]);
          // Refusals never echo what was sent.
          for (const a of answers) expect(a).not.toMatch(/HACKED|v1,|whsec_|at .*\.js/);
        },
      ),
    SCENARIO_TIMEOUT_MS,
  );

  test.concurrent(
    'a busy Coze at start: half the starts answer 5000, each waits in the queue and starts, none fails',
    () =>
      withWorld({ name: 'busy', env: { COZE_STANDIN_CREATE_ERROR_RATE: '0.5' } }, async (world) => {
        await world.submitAll();
        await finish(world);
      }),
    SCENARIO_TIMEOUT_MS,
  );

  test.concurrent(
    'Coze busy for good: every task waits out QUEUE_MAX_WAIT_S and ends TOO_BUSY (or is refused TOO_BUSY at once), uncharged, no notice',
    () =>
      withWorld(
        {
          name: 'busyall',
          // The shortest bound, so the scenario ends within a minute: a create may then be refused
          // at once (the estimate counts up to a timer minute before the first sweep), uncharged.
          env: { COZE_STANDIN_CREATE_ERROR_RATE: '1', QUEUE_MAX_WAIT_S: '30' },
          tasksPerUser: 3,
          allowBusyRefusal: true,
        },
        async (world) => {
          await world.submitAll();
          await finish(world, { allowQueueGiveUp: true });
          const docs = [...world.docs().values()];
          // The first create meets an idle queue and is never refused at once: one at least waited.
          expect(docs.length).toBeGreaterThan(0);
          expect(docs.map((d) => [d.status, d.error_code, d.start_attempts])).toEqual(
            docs.map(() => ['failed', 'TOO_BUSY', 0]),
          );
          // Nothing ran, so nothing was charged: every quota unit came back.
          expect(await world.chargedToday()).toBe(0);
        },
      ),
    SCENARIO_TIMEOUT_MS,
  );

  test.concurrent(
    'the whole emulator restarted mid-run (same port and data): nothing lost, nothing doubled',
    () =>
      withWorld({ name: 'restart', env: { COZE_STANDIN_DELAY_MS: '1200' } }, async (world) => {
        const submitting = world.submitAll({ spreadMs: 1500 });
        // Down once the first tasks exist, whatever the machine's pace: runs (and the rest of the
        // submits) are then in flight.
        await world.until('the first tasks', () => world.tasks.length >= world.users.length);
        await world.restart(300);
        await submitting;
        await finish(world);
        // The watches lost their connection and came back.
        for (const w of world.watches.values()) expect(w.reconnects).toBeGreaterThan(0);
      }),
    SCENARIO_TIMEOUT_MS,
  );

  test.concurrent(
    'everything at once: dropped, duplicated and delayed callbacks with a busy Coze',
    () =>
      withWorld(
        {
          name: 'chaos',
          env: { COZE_STANDIN_CREATE_ERROR_RATE: '0.3' },
          proxy: () => {
            const r = Math.random();
            if (r < 0.25) return { action: 'drop' };
            if (r < 0.5) return { action: 'forward', copies: 2, delayMs: random(500) };
            return { action: 'forward', delayMs: random(1000) };
          },
        },
        async (world) => {
          await world.submitAll();
          await finish(world);
          expect(dedupeViolations(world)).toEqual([]);
        },
      ),
    SCENARIO_TIMEOUT_MS,
  );
});
