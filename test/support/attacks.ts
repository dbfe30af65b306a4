/**
 * Callbacks an attacker (or a broken sender) could post to the public webhook route: forged with
 * another secret, unsigned, expired, dated in the future, with a wrong or borrowed token, a genuine
 * signature on another body, and replays. Each comes with the answer the contract requires.
 */
import { randomBytes } from 'node:crypto';
import { signedHeaders } from '../../shared/signing';
import type { InterceptedCallback } from './callback-proxy';

export interface AttackTarget {
  taskId: string;
  /** the genuine token of this task's run (known only to the workflow) */
  token: string | null;
  /** a genuine token of another user's task */
  otherToken: string | null;
}

export interface AttackOutcome {
  variant: string;
  taskId: string;
  status: number;
  answer: string;
  expected: number;
  /** the `outcome` the answer must carry, when it must carry one */
  expectedOutcome?: string;
}

const OTHER_SECRET = `whsec_${randomBytes(24).toString('base64')}`;

function forgedBody(taskId: string, token: string): string {
  return JSON.stringify({
    type: 'workflow.execution.completed',
    data: {
      task_id: taskId,
      execute_id: '',
      callback_token: token,
      progress: 100,
      output: { title: 'HACKED', content: 'HACKED', cover: '', video_url: '' },
      error: { code: '', message: '' },
    },
  });
}

async function post(
  url: string,
  headers: Record<string, string>,
  body: string | Buffer,
): Promise<{ status: number; answer: string }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  return { status: res.status, answer: await res.text() };
}

const msgId = () => `msg_${randomBytes(12).toString('hex')}`;

/** Every forgery against one task; `genuine` are callbacks the real workflow sent (for replays). */
export async function attackTask(
  webhookUrl: string,
  secret: string,
  target: AttackTarget,
  genuine: InterceptedCallback[],
): Promise<AttackOutcome[]> {
  const nowS = Math.floor(Date.now() / 1000);
  const fakeToken = randomBytes(32).toString('base64url');
  const realToken = target.token ?? fakeToken;
  const out: AttackOutcome[] = [];
  const run = async (
    variant: string,
    headers: Record<string, string>,
    body: string | Buffer,
    expected: number,
    expectedOutcome?: string,
  ) => {
    const r = await post(webhookUrl, headers, body);
    out.push({
      variant,
      taskId: target.taskId,
      ...r,
      expected,
      ...(expectedOutcome ? { expectedOutcome } : {}),
    });
  };
  const signed = signedHeaders;

  // Forged: a well-formed body signed with a secret that is not ours, even with the real token.
  const b1 = forgedBody(target.taskId, realToken);
  const id1 = msgId();
  await run('forged secret', signed(OTHER_SECRET, id1, nowS, b1), b1, 401);
  // Unsigned: no signature at all, then none of the three headers.
  await run(
    'unsigned',
    { 'webhook-id': msgId(), 'webhook-timestamp': String(nowS) },
    forgedBody(target.taskId, realToken),
    401,
  );
  await run('no webhook headers', {}, forgedBody(target.taskId, realToken), 401);
  // Expired and future-dated: our secret and the real token, only the time is wrong.
  const old = nowS - 301 - Math.floor(Math.random() * 3600);
  const b4 = forgedBody(target.taskId, realToken);
  const id4 = msgId();
  await run('expired', signed(secret, id4, old, b4), b4, 401);
  // Two minutes past the tolerance from the moment it is signed, so no delay before the webhook
  // checks it (a busy machine, requests queued) can bring it back inside.
  const future = Math.floor(Date.now() / 1000) + 301 + 120 + Math.floor(Math.random() * 3600);
  const id5 = msgId();
  await run('future-dated', signed(secret, id5, future, b4), b4, 401);
  // Our secret (say it leaked) but not the task's token: a random one, then another task's.
  const b6 = forgedBody(target.taskId, fakeToken);
  const id6 = msgId();
  await run('wrong token', signed(secret, id6, nowS, b6), b6, 401);
  if (target.otherToken) {
    const b7 = forgedBody(target.taskId, target.otherToken);
    const id7 = msgId();
    await run("another task's token", signed(secret, id7, nowS, b7), b7, 401);
  }
  // Garbage and bit-flipped signatures.
  await run(
    'garbage signature',
    { 'webhook-id': msgId(), 'webhook-timestamp': String(nowS), 'webhook-signature': 'v1,AAAA' },
    b1,
    401,
  );

  for (const g of genuine) {
    // A genuine signature on a different body.
    await run('borrowed signature', g.headers, forgedBody(target.taskId, realToken), 401);
    // The genuine body under a new webhook-id: the signature covers the id.
    await run('replay with a new id', { ...g.headers, 'webhook-id': msgId() }, g.body, 401);
    // The genuine body one byte longer.
    await run('tampered body', g.headers, Buffer.concat([g.body, Buffer.from(' ')]), 401);
    // The exact genuine delivery again: a duplicate, answered 200 and ignored.
    await run('verbatim replay', g.headers, g.body, 200, 'duplicate');
  }
  return out;
}

/** The attacks whose answer was not what the contract says. */
export function unexpected(results: AttackOutcome[]): string[] {
  const bad: string[] = [];
  for (const r of results) {
    let outcome: string | undefined;
    try {
      outcome = (JSON.parse(r.answer) as { outcome?: string }).outcome;
    } catch {
      outcome = undefined;
    }
    if (r.status !== r.expected || (r.expectedOutcome && outcome !== r.expectedOutcome)) {
      bad.push(`${r.variant} on ${r.taskId}: ${r.status} ${r.answer.slice(0, 100)}`);
    }
  }
  return bad;
}
