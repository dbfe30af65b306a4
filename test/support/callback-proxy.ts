/**
 * A man in the middle between the Coze stand-in and the webhook route, for the fault suite: the run's
 * `callback_url` (WEBHOOK_URL) points here, and a policy decides per callback whether it is passed
 * on at once, late, several times, held back until released, or dropped. The stand-in is answered
 * 200 at once (the workflow's HTTP node ignores the answer). Every delivery and the webhook's answer
 * to it are recorded.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface InterceptedCallback {
  seq: number;
  webhookId: string;
  type: string;
  taskId: string;
  progress: number | null;
  receivedAt: number;
  body: Buffer;
  headers: Record<string, string>;
}

export interface Forwarded {
  callback: InterceptedCallback;
  at: number;
  status: number;
  answer: string;
}

export type ProxyDecision =
  | { action: 'drop' }
  | { action: 'hold' }
  | { action: 'forward'; delayMs?: number; copies?: number };

const PASSED_HEADERS = ['content-type', 'webhook-id', 'webhook-timestamp', 'webhook-signature'];

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function describe(body: Buffer): { type: string; taskId: string; progress: number | null } {
  try {
    const json = JSON.parse(body.toString('utf8')) as {
      type?: unknown;
      data?: { task_id?: unknown; progress?: unknown };
    };
    return {
      type: typeof json.type === 'string' ? json.type : '',
      taskId: typeof json.data?.task_id === 'string' ? json.data.task_id : '',
      progress: typeof json.data?.progress === 'number' ? json.data.progress : null,
    };
  } catch {
    return { type: '', taskId: '', progress: null };
  }
}

export class CallbackProxy {
  readonly received: InterceptedCallback[] = [];
  readonly forwarded: Forwarded[] = [];
  private held: InterceptedCallback[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private seq = 0;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly target: string,
    private readonly decide: (cb: InterceptedCallback) => ProxyDecision,
  ) {}

  /** Listens on a free port; `target` is the real webhook route. */
  static async start(
    target: string,
    decide: (cb: InterceptedCallback) => ProxyDecision = () => ({ action: 'forward' }),
  ): Promise<CallbackProxy> {
    const ref: { proxy?: CallbackProxy } = {};
    const server = createServer((req, res) => {
      readAll(req).then(
        (body) => {
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
          ref.proxy?.take(req, body);
        },
        () => res.writeHead(400).end(),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const proxy = new CallbackProxy(
      server,
      `http://127.0.0.1:${port}/webhook/coze`,
      target,
      decide,
    );
    ref.proxy = proxy;
    return proxy;
  }

  private take(req: IncomingMessage, body: Buffer): void {
    const headers: Record<string, string> = {};
    for (const name of PASSED_HEADERS) {
      const v = req.headers[name];
      if (typeof v === 'string') headers[name] = v;
    }
    const cb: InterceptedCallback = {
      seq: ++this.seq,
      webhookId: headers['webhook-id'] ?? '',
      ...describe(body),
      receivedAt: Date.now(),
      body,
      headers,
    };
    this.received.push(cb);
    const decision = this.decide(cb);
    if (decision.action === 'drop') return;
    if (decision.action === 'hold') {
      this.held.push(cb);
      return;
    }
    this.schedule(cb, decision.delayMs ?? 0, decision.copies ?? 1);
  }

  private schedule(cb: InterceptedCallback, delayMs: number, copies: number): void {
    const job = (async () => {
      if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
      for (let i = 0; i < copies; i++) await this.send(cb);
    })();
    this.inFlight.add(job);
    void job.finally(() => this.inFlight.delete(job));
  }

  /** Posts one callback to the webhook route exactly as it was received. */
  async send(cb: InterceptedCallback): Promise<Forwarded> {
    let status = 0;
    let answer: string;
    try {
      const res = await fetch(this.target, {
        method: 'POST',
        headers: cb.headers,
        body: cb.body,
        signal: AbortSignal.timeout(15_000),
      });
      status = res.status;
      answer = await res.text();
    } catch (err) {
      answer = `transport error: ${(err as Error).message}`;
    }
    const f: Forwarded = { callback: cb, at: Date.now(), status, answer };
    this.forwarded.push(f);
    return f;
  }

  heldCount(): number {
    return this.held.length;
  }

  /** Sends every held callback now (in the order received, or shuffled); resolves their answers. */
  async release(order: 'received' | 'reversed' = 'received'): Promise<Forwarded[]> {
    const batch = this.held.splice(0);
    if (order === 'reversed') batch.reverse();
    const out: Forwarded[] = [];
    for (const cb of batch) out.push(await this.send(cb));
    return out;
  }

  /** Resolves once nothing scheduled is still waiting or being sent. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  async close(): Promise<void> {
    await this.idle();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
