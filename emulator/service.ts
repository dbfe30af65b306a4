/**
 * The local stack as a set of services on one port (database, functions, storage, wechat, watch,
 * timers, HTTP access, monitor, the admin API): each says what it serves and how it stops, and
 * `startLocalStack` registers them in order. As in Firebase's emulator suite, where each emulator is
 * an instance with a name that a registry starts once, finds by name and stops: here the registry
 * also gathers the routes (in registration order, which is the order they are tried) and WebSocket
 * upgrades, tells every service the URL once the port is bound, and stops them in reverse order.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Route } from './http/router';

export type ServiceName =
  | 'monitor'
  | 'database'
  | 'storage'
  | 'wechat'
  | 'watch'
  | 'functions'
  | 'timers'
  | 'admin'
  | 'extra-routes'
  | 'http-access';

export interface Upgrade {
  path: string;
  handle(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): void;
}

export interface EmulatorService {
  readonly name: ServiceName;
  /** Its routes on the one port, tried in this order after those of services registered before it. */
  routes?(): Route[];
  /** A WebSocket path it takes over. */
  readonly upgrade?: Upgrade;
  /** The server listens: `url` is `http://host:port` (children and signed URLs need it). */
  listening?(url: string): void;
  /** Stops it and releases what it holds; called once. */
  close?(): void | Promise<void>;
}

export class ServiceRegistry {
  private readonly services: EmulatorService[] = [];
  private readonly closed = new Set<ServiceName>();

  register<S extends EmulatorService>(service: S): S {
    if (this.services.some((s) => s.name === service.name))
      throw new Error(`service ${service.name} is already registered`);
    this.services.push(service);
    return service;
  }

  names(): ServiceName[] {
    return this.services.map((s) => s.name);
  }

  routes(): Route[] {
    return this.services.flatMap((s) => s.routes?.() ?? []);
  }

  upgrade(path: string): Upgrade | undefined {
    return this.services.find((s) => s.upgrade?.path === path)?.upgrade;
  }

  listening(url: string): void {
    for (const s of this.services) s.listening?.(url);
  }

  /** Stops the named services (in the order given), each once. */
  async close(names: ServiceName[]): Promise<void> {
    for (const name of names) {
      const s = this.services.find((x) => x.name === name);
      if (!s || this.closed.has(name)) continue;
      this.closed.add(name);
      await s.close?.();
    }
  }

  /** Stops every service still running, the last registered first. */
  closeAll(): Promise<void> {
    return this.close(this.names().reverse());
  }
}
