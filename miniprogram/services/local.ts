/**
 * The local backend: the local stack (`npm start`) over plain HTTP and one WebSocket.
 *
 * - function call: `POST {baseUrl}/functions/extractText`, JSON body = the call's data, header
 *   `x-wx-openid` = the configured local user; the answer body is the function's return value;
 * - grants: `POST {baseUrl}/_grants` `{openid, templateIds}` after an accepted subscribe prompt;
 * - watch: `ws://…/_watch?openid=…`, the messages of emulator/watch-protocol.ts, many watches
 *   multiplexed on one socket (WeChat allows only a few sockets at once).
 */
// Types only: erased by the build, so nothing of the emulator enters the package.
import type {
  ErrorMessage,
  SnapshotMessage,
  WatchClientMessage,
  WatchServerMessage,
} from '../../emulator/watch/protocol';
import { getConfig } from '../config';
import {
  QUEUE_COLLECTION,
  QUEUE_STATE_ID,
  type ExtractAnswer,
  type ExtractRequest,
} from '../domain';
import {
  TransportError,
  errText,
  type Backend,
  type WatchHandle,
  type WatchHandlers,
  type WatchSnapshot,
} from './types';

const REQUEST_TIMEOUT_MS = 10_000;

function postJson(path: string, body: object): Promise<{ statusCode: number; data: unknown }> {
  const { baseUrl, openid } = getConfig().local;
  return new Promise((resolve, reject) => {
    wx.request({
      url: `${baseUrl.replace(/\/+$/, '')}${path}`,
      method: 'POST',
      data: body,
      header: { 'content-type': 'application/json', 'x-wx-openid': openid },
      timeout: REQUEST_TIMEOUT_MS,
      success: (res) => resolve({ statusCode: res.statusCode, data: res.data }),
      fail: (err) => reject(new TransportError(errText(err))),
    });
  });
}

function isAnswer(v: unknown): v is ExtractAnswer {
  return typeof v === 'object' && v !== null && typeof (v as { ok?: unknown }).ok === 'boolean';
}

/** A server message as received: the protocol's fields, each read defensively. */
type ReceivedMessage = Partial<Record<keyof SnapshotMessage | keyof ErrorMessage, unknown>>;

function asSnapshot(v: unknown): WatchSnapshot | null {
  if (typeof v !== 'object' || v === null) return null;
  const s = v as { id?: unknown; type?: unknown; docChanges?: unknown; docs?: unknown };
  return {
    ...(typeof s.id === 'number' ? { id: s.id } : {}),
    ...(typeof s.type === 'string' ? { type: s.type } : {}),
    docChanges: Array.isArray(s.docChanges) ? s.docChanges : [],
    docs: Array.isArray(s.docs) ? s.docs : [],
  };
}

/** One socket carrying every watch; a dropped socket fails all of them (the tracker re-watches). */
class WatchHub {
  private socket: WechatMiniprogram.SocketTask | null = null;
  private open = false;
  private queue: string[] = [];
  private readonly subs = new Map<string, WatchHandlers>();
  private seq = 0;

  watch(collection: string, where: Record<string, string>, handlers: WatchHandlers): WatchHandle {
    const watchId = `w${Date.now().toString(36)}${(++this.seq).toString(36)}`;
    this.subs.set(watchId, handlers);
    this.send({ op: 'watch', watchId, collection, where });
    return {
      close: () => {
        if (!this.subs.delete(watchId)) return;
        this.send({ op: 'close', watchId });
        if (this.subs.size === 0) this.disconnect();
      },
    };
  }

  private send(msg: WatchClientMessage): void {
    const text = JSON.stringify(msg);
    const socket = this.connect();
    if (this.open) socket.send({ data: text });
    else this.queue.push(text);
  }

  private connect(): WechatMiniprogram.SocketTask {
    if (this.socket) return this.socket;
    const { baseUrl, openid } = getConfig().local;
    const url = `${baseUrl.replace(/^http/, 'ws').replace(/\/+$/, '')}/_watch?openid=${encodeURIComponent(openid)}`;
    const socket = wx.connectSocket({ url, fail: (err) => this.fail(socket, err) });
    this.socket = socket;
    this.open = false;
    socket.onOpen(() => {
      if (this.socket !== socket) return;
      this.open = true;
      const pending = this.queue;
      this.queue = [];
      for (const data of pending) socket.send({ data });
    });
    socket.onMessage((res) => {
      if (this.socket === socket) this.receive(res.data);
    });
    socket.onError((err) => this.fail(socket, err));
    socket.onClose(() => this.fail(socket, { errMsg: 'watch socket closed' }));
    return socket;
  }

  private receive(data: string | ArrayBuffer): void {
    if (typeof data !== 'string') return;
    let msg: ReceivedMessage;
    try {
      msg = JSON.parse(data) as ReceivedMessage;
    } catch {
      return;
    }
    if (typeof msg.watchId !== 'string') return;
    const handlers = this.subs.get(msg.watchId);
    if (!handlers) return;
    // Unknown ops fall through: only the protocol's two are acted on.
    switch (msg.op as WatchServerMessage['op']) {
      case 'snapshot': {
        const snapshot = asSnapshot(msg.snapshot);
        if (snapshot) handlers.onChange(snapshot);
        break;
      }
      case 'error':
        // The server ended this watch.
        this.subs.delete(msg.watchId);
        handlers.onError(msg.error ?? { errMsg: 'watch error' });
        break;
    }
  }

  /** The socket failed or closed: every watch on it is over. */
  private fail(socket: WechatMiniprogram.SocketTask, err: unknown): void {
    if (this.socket !== socket) return;
    this.socket = null;
    this.open = false;
    this.queue = [];
    const subs = [...this.subs.values()];
    this.subs.clear();
    for (const s of subs) s.onError(err);
  }

  private disconnect(): void {
    const socket = this.socket;
    this.socket = null;
    this.open = false;
    this.queue = [];
    socket?.close({});
  }
}

export function createLocalBackend(): Backend {
  const hub = new WatchHub();
  return {
    mode: 'local',

    async call(request: ExtractRequest): Promise<ExtractAnswer> {
      const res = await postJson('/functions/extractText', request);
      if (isAnswer(res.data)) return res.data;
      throw new TransportError(`local stack answered HTTP ${res.statusCode}`);
    },

    watchTask(taskId: string, handlers: WatchHandlers): WatchHandle {
      return hub.watch('tasks', { _id: taskId, _openid: '{openid}' }, handlers);
    },

    watchQueue(handlers: WatchHandlers): WatchHandle {
      // The local stack's watch may serve only the caller's own documents: then the snapshot
      // comes without the queue's, and the caller asks the function (`get`) instead.
      return hub.watch(QUEUE_COLLECTION, { _id: QUEUE_STATE_ID }, handlers);
    },

    async recordGrants(templateIds: string[]): Promise<void> {
      if (templateIds.length === 0) return;
      const { openid } = getConfig().local;
      const res = await postJson('/_grants', { openid, templateIds });
      if (res.statusCode >= 300) throw new TransportError(`grants: HTTP ${res.statusCode}`);
    },
  };
}
