/**
 * The callbacks of the stand-in's runs: each run's plan carried out step by step at its time, each
 * callback signed and posted as the workflow's code node would, recorded (what a replay re-posts),
 * and the timers and posts in flight tracked so the stand-in can settle or close.
 */
import { randomUUID } from 'node:crypto';
import type { CallbackBodyInput, CallbackType } from '../shared/callback';
import { resultKind } from '../shared/result';
import { signedHeaders } from '../shared/signing';
import type { StandinDelivery, StandinRun } from './runs';
import type { RunStore } from './run-store';
import { planFor, type Step } from './simulated-workflow';

/** A callback as it was posted (what a replay re-posts: the same bytes and headers, kept in memory only). */
export interface RecordedCallback {
  seq: number;
  executeId: string;
  taskId: string;
  webhookId: string;
  type: CallbackType;
  progress: number;
  at: number;
  httpStatus: number | null;
  replayOf: number | null;
}

type Recorded = RecordedCallback & { headers: Record<string, string>; body: string; url: string };

// A short bound, like the workflow's HTTP node timeout: a slow webhook must not stall the run.
const CALLBACK_TIMEOUT_MS = 5000;
const MAX_RECORDED = 500;

export class Courier {
  private readonly recorded: Recorded[] = [];
  private seq = 0;
  private readonly loops = new Set<Promise<void>>();
  private readonly waits = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  private readonly aborter = new AbortController();
  private closed = false;

  constructor(
    private readonly store: RunStore,
    private readonly webhookSecret: string,
    private readonly now: () => number,
    private readonly log: (line: string) => void,
  ) {}

  get isClosed(): boolean {
    return this.closed;
  }

  /** Resolves after `ms`, or at once when the stand-in closes. */
  wait(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const entry = {
        timer: setTimeout(
          () => {
            this.waits.delete(entry);
            resolve();
          },
          Math.max(0, ms),
        ),
        resolve,
      };
      this.waits.add(entry);
    });
  }

  /** Keeps `p` among the work a settle waits for. */
  track(p: Promise<void>): void {
    this.loops.add(p);
    void p.finally(() => this.loops.delete(p));
  }

  /** Carries out the run's plan from where it stands, each step at startedAt + step.at. */
  drive(run: StandinRun): void {
    this.track(this.carryOut(run));
  }

  private async carryOut(run: StandinRun): Promise<void> {
    const plan = planFor(run);
    for (let i = 0; i < plan.length; i++) {
      const step = plan[i]!;
      if (run.stepsDone.includes(i)) continue;
      await this.wait(run.startedAt + step.at - this.now());
      if (this.closed) return;
      const key = String(i);
      let webhookId = run.webhookIds[key];
      if (!webhookId) {
        webhookId = `msg_${randomUUID().replace(/-/g, '')}`;
        run.webhookIds[key] = webhookId;
        this.store.persist();
      }
      for (let c = 0; c < step.copies && !this.closed; c++)
        await this.deliver(run, step, webhookId);
      if (this.closed) return;
      if (step.final && run.finishedAt === null) run.finishedAt = this.now();
      run.stepsDone.push(i);
      this.store.persist();
    }
  }

  private async deliver(run: StandinRun, step: Step, webhookId: string): Promise<void> {
    const { outcome } = run;
    const output =
      step.type === 'workflow.execution.completed' && outcome.kind === 'completed'
        ? { ...outcome.result, kind: resultKind(outcome.result) }
        : { title: '', content: '', cover: '', video_url: '' };
    const error =
      step.type === 'workflow.execution.failed' && outcome.kind === 'failed'
        ? { code: outcome.errorCode, message: outcome.errorMessage }
        : { code: '', message: '' };
    // The exact text that is signed and sent, as the workflow's code node builds it.
    const callback = {
      type: step.type,
      data: {
        task_id: run.taskId,
        execute_id: run.executeId,
        callback_token: run.callbackToken,
        progress: step.progress,
        output,
        error,
      },
    } satisfies CallbackBodyInput;
    const body = JSON.stringify(callback);
    const at = this.now();
    const timestamp = Math.floor(at / 1000);
    const delivery: StandinDelivery = {
      type: step.type,
      progress: step.progress,
      webhookId,
      at,
      httpStatus: null,
    };
    const what = `run ${run.executeId} task ${run.taskId}: ${step.type} ${step.progress} (${webhookId})`;
    const headers = {
      'content-type': 'application/json; charset=utf-8',
      ...signedHeaders(this.webhookSecret, webhookId, timestamp, body),
    };
    const record: Recorded = {
      seq: ++this.seq,
      executeId: run.executeId,
      taskId: run.taskId,
      webhookId,
      type: step.type,
      progress: step.progress,
      at,
      httpStatus: null,
      replayOf: null,
      headers,
      body,
      url: run.callbackUrl,
    };
    this.keep(record);
    try {
      const res = await this.post(run.callbackUrl, headers, body);
      // The answer is not needed, only its status; drain it so the socket is freed.
      await res.arrayBuffer().catch(() => undefined);
      delivery.httpStatus = res.status;
      record.httpStatus = res.status;
      this.log(`${what} -> ${res.status}`);
    } catch (err) {
      // Like the HTTP node set to ignore exceptions: logged, never retried, the run goes on.
      if (!this.closed) this.log(`${what} -> post failed (${fetchFailure(err)}); not retried`);
    }
    run.deliveries.push(delivery);
  }

  private keep(record: Recorded): void {
    this.recorded.push(record);
    if (this.recorded.length > MAX_RECORDED) {
      this.recorded.splice(0, this.recorded.length - MAX_RECORDED);
    }
  }

  private post(url: string, headers: Record<string, string>, body: string): Promise<Response> {
    return fetch(url, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.any([AbortSignal.timeout(CALLBACK_TIMEOUT_MS), this.aborter.signal]),
    });
  }

  /** The callbacks posted since start, oldest first (no body, no headers: they carry the token). */
  list(): RecordedCallback[] {
    return this.recorded.map(({ headers: _h, body: _b, url: _u, ...meta }) => ({ ...meta }));
  }

  /** Posts a recorded callback again, byte for byte; answers the webhook's status and answer. */
  async replay(seq: number): Promise<{ httpStatus: number | null; answer: string }> {
    const original = this.recorded.find((r) => r.seq === seq);
    if (!original) throw new Error(`no recorded callback #${seq}`);
    const copy: Recorded = {
      ...original,
      seq: ++this.seq,
      at: this.now(),
      httpStatus: null,
      replayOf: seq,
    };
    this.keep(copy);
    try {
      const res = await this.post(original.url, original.headers, original.body);
      const answer = await res.text();
      copy.httpStatus = res.status;
      this.log(`replayed callback #${seq} (${original.webhookId}) -> ${res.status}`);
      return { httpStatus: res.status, answer: answer.slice(0, 500) };
    } catch (err) {
      return { httpStatus: null, answer: fetchFailure(err) };
    }
  }

  /** Resolves once no callback is in flight or still scheduled. */
  async settle(): Promise<void> {
    while (this.loops.size > 0) await Promise.allSettled([...this.loops]);
  }

  /** Cancels timers and in-flight posts. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.waits) {
      clearTimeout(w.timer);
      w.resolve();
    }
    this.waits.clear();
    this.aborter.abort();
    await Promise.allSettled([...this.loops]);
  }
}

function fetchFailure(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    const code =
      typeof cause === 'object' && cause !== null ? (cause as { code?: unknown }).code : undefined;
    if (err.name === 'TimeoutError') return `no answer within ${CALLBACK_TIMEOUT_MS} ms`;
    return typeof code === 'string' ? `${err.message}: ${code}` : err.message;
  }
  return String(err);
}
