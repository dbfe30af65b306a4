/**
 * The load generator for the webhook throughput phase, run in its own process (forked by run.ts)
 * so its signing and HTTP work is not charged to the stack. Plays the workflow's last nodes for
 * many tasks at once: progress 30, progress 70, then completed, each signed as Standard Webhooks.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { signedHeaders } from '../shared/signing';

export interface LoadRequest {
  url: string;
  secret: string;
  tasks: { id: string; executeId: string; token: string }[];
  concurrency: number;
}

export interface LoadResult {
  sent: number;
  elapsedMs: number;
  statuses: Record<string, number>;
  latenciesMs: number[];
}

/**
 * Node's own HTTP client over kept-alive sockets, not fetch: fetch costs this process about three
 * times the CPU per request, and on two cores the generator's CPU is taken from the stack's.
 */
const agent = new http.Agent({ keepAlive: true });

function post(req: LoadRequest, body: string): Promise<{ status: number; ms: number }> {
  const id = `msg_${randomUUID().replace(/-/g, '')}`;
  const ts = Math.floor(Date.now() / 1000);
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const r = http.request(
      req.url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'content-length': Buffer.byteLength(body),
          ...signedHeaders(req.secret, id, ts, body),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0 }));
        res.on('error', reject);
      },
    );
    r.on('error', reject);
    r.end(body);
  });
}

export async function runLoad(req: LoadRequest): Promise<LoadResult> {
  const statuses: Record<string, number> = {};
  const latenciesMs: number[] = [];
  let next = 0;
  let sent = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: req.concurrency }, async () => {
      while (next < req.tasks.length) {
        const task = req.tasks[next++]!;
        const data = { task_id: task.id, execute_id: task.executeId, callback_token: task.token };
        const bodies = [
          { type: 'workflow.execution.progress', data: { ...data, progress: 30 } },
          { type: 'workflow.execution.progress', data: { ...data, progress: 70 } },
          {
            type: 'workflow.execution.completed',
            data: {
              ...data,
              progress: 100,
              output: {
                title: '压测视频',
                content: '大家好，欢迎收看本期视频。'.repeat(40),
                cover: 'https://example.invalid/c.jpg',
                video_url: 'https://example.invalid/v.mp4',
              },
            },
          },
        ];
        for (const b of bodies) {
          const r = await post(req, JSON.stringify(b));
          sent++;
          statuses[r.status] = (statuses[r.status] ?? 0) + 1;
          latenciesMs.push(r.ms);
        }
      }
    }),
  );
  return { sent, elapsedMs: performance.now() - t0, statuses, latenciesMs };
}

if (require.main === module && process.send) {
  process.send({ ready: true });
  // One load per message (a warm-up, then the measured one); the parent disconnects when done.
  process.on('disconnect', () => process.exit(0));
  process.on('message', (msg: LoadRequest) => {
    runLoad(msg).then(
      (result) => process.send?.(result),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  });
}
