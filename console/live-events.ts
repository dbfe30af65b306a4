/** The console's live stream (Server-Sent Events): one `event: name` per nudge, to every open page. */
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface LiveEvents {
  send(name: string, data: unknown): void;
  /** Answers `req` with the stream and keeps it until the page goes. */
  open(req: IncomingMessage, res: ServerResponse): void;
  /** Whether any page is watching (nothing to prepare for nobody). */
  watching(): boolean;
  close(): void;
}

export function createLiveEvents(): LiveEvents {
  const clients = new Set<ServerResponse>();
  return {
    send(name, data) {
      const text = `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
      for (const c of clients) c.write(text);
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
      for (const c of clients) c.end();
      clients.clear();
    },
  };
}
