/**
 * A function instance killed between claiming a notice and sending it.
 *
 * The webhook claims a task's one notice by compare-and-set (`notification_state: none → claimed`,
 * with `notification_claimed_at`), then calls `subscribeMessage.send`. Here the first three such
 * sends from the webhook are caught on their way to "WeChat" (the emulator's `wx.openApi` action, wrapped through
 * the action table the emulator exports for extensions), and the webhook's instances are
 * SIGKILLed before the send is carried out: the claim is written, no message went out, and nobody
 * will ever finish the claim. Other callbacks in flight on those instances die too (their tasks
 * are then finished from the run history). Once the claims are older than NOTICE_CLAIM_STALE_S
 * the sweeper must take each over and send exactly one notice; the usual invariants hold for
 * every task.
 *
 * In its own file: the action table is per module registry, so no other suite sees the wrapper.
 */
import { AdminError, adminActions, type AdminAction } from '../emulator';
import { isDate } from '../emulator/database/ejson';
import { decodeCommApiData } from '../emulator/wechat/wire';
import { FaultWorld } from './support/fault-world';

const original = adminActions['wx.openApi'] as AdminAction;

interface Gate {
  armed: boolean;
  users: Set<string>;
  /** task ids whose send was cut off */
  cut: string[];
  kill: () => Promise<void>;
}

/**
 * Sends cut off: each kill costs cold starts of the webhook's instances, and three takeovers prove
 * what twelve would (the other tasks' notices go out as usual, and are checked the same way).
 */
const CUT_SENDS = 3;

const gate: Gate = { armed: false, users: new Set(), cut: [], kill: async () => undefined };

function sendParams(params: Record<string, unknown>): { touser: string; page: string } | null {
  const raw = params.requestData;
  if (!Buffer.isBuffer(raw)) return null;
  try {
    const pairs = decodeCommApiData(raw).pairs;
    const read = (k: string) => {
      const v = pairs.get(k);
      return v ? (JSON.parse(v.value.toString('utf8')) as unknown) : undefined;
    };
    const touser = read('touser');
    const page = read('page');
    return typeof touser === 'string'
      ? { touser, page: typeof page === 'string' ? page : '' }
      : null;
  } catch {
    return null;
  }
}

beforeAll(() => {
  adminActions['wx.openApi'] = async (params, ctx) => {
    const send = params.apiName === 'subscribeMessage.send' ? sendParams(params) : null;
    if (gate.armed && send && gate.users.has(send.touser) && gate.cut.length < CUT_SENDS) {
      gate.cut.push(/taskId=([0-9a-f-]{36})/.exec(send.page)?.[1] ?? '?');
      // The sender dies with its send in flight: WeChat never receives it.
      await gate.kill();
      throw new AdminError('SYS_ERR', 'the caller is gone');
    }
    return original(params, ctx);
  };
});

afterAll(() => {
  adminActions['wx.openApi'] = original;
});

test('an instance killed between claiming and sending a notice: the sweeper sends it, once', async () => {
  const world = await FaultWorld.start({ name: 'kill' });
  try {
    gate.users = new Set(world.users.map((u) => u.openid));
    gate.kill = () => world.product.stack.killInstances('webhookHandler');
    gate.armed = true;
    await world.submitAll();
    await world.quiesce();
    gate.armed = false;

    // The window was really hit: claims were written, and no message went out for them.
    expect(gate.cut.length).toBeGreaterThan(0);
    const outbox = world.product.stack.outbox();
    const claimed = world.journal.latest();
    for (const id of gate.cut) {
      expect(outbox.filter((m) => (m.page ?? '').includes(id))).toHaveLength(0);
      expect(claimed.get(id)?.notification_state).toBe('claimed');
    }

    const sweeps = await world.driveToEnd();
    expect(sweeps).toBeGreaterThan(1);
    // Each cut-off notice was taken over by the sweeper (a newer claim) and sent exactly once.
    for (const id of gate.cut) {
      const claims = new Set(
        world.journal
          .history(id)
          .map((d) => d.notification_claimed_at)
          .filter(isDate)
          .map((c) => c.getTime()),
      );
      expect(claims.size).toBeGreaterThanOrEqual(2);
    }
    const isolation = await world.probeIsolation();
    expect([...world.check(), ...isolation]).toEqual([]);
  } finally {
    gate.armed = false;
    await world.close();
  }
}, 120_000);
