/** The console's live stream (Server-Sent Events): one `event: name` per nudge, to every open page. */
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface LiveEvents {
  send(name: string, data: unknown): void;
  /** Sends `name` ({at}) at most once per `everyMs`, the last change included; none to nobody. */
  nudge(name: string, everyMs: number): void;
  /** Answers `req` with the stream and keeps it until the page goes. */
  open(req: IncomingMessage, res: ServerResponse): void;
  /** Whether any page is watching (nothing to prepare for nobody). */
  watching(): boolean;
  close(): void;
}

export function createLiveEvents(): LiveEvents {
  const clients = new Set<ServerResponse>();
  const nudges = new Map<string, NodeJS.Timeout>();
  const send = (name: string, data: unknown) => {
    const text = `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const c of clients) c.write(text);
  };
  return {
    send,
    nudge(name, everyMs) {
      if (clients.size === 0 || nudges.has(name)) return;
      nudges.set(
        name,
        setTimeout(() => {
          nudges.delete(name);
          send(name, { at: Date.now() });
        }, everyMs),
      );
    },
    open(req, res) {
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-store',
        connection: 'keep-alive',
      });
      res.write(`event: hello\ndata: ${JSON.stringify({ at: Date.now() })}\n\n`);
      clients.add(res);
      req.on('close', () => clients.delete(res));
    },
    watching: () => clients.size > 0,
    close() {
      for (const t of nudges.values()) clearTimeout(t);
      nudges.clear();
      for (const c of clients) c.end();
      clients.clear();
    },
  };
}
