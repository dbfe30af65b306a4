/** The watch service: the live document watch, a WebSocket upgrade on `/_watch`. */
import type { Store } from '../database/store';
import type { EmulatorService } from '../service';
import { WatchServer, type ClientReadRules, type WatchLimits } from './watch';

export interface WatchService extends EmulatorService {
  readonly name: 'watch';
  readonly watch: WatchServer;
}

export function createWatch(
  store: Store,
  log: (line: string) => void,
  limits: Partial<WatchLimits> = {},
  readRules: ClientReadRules = {},
): WatchService {
  const watch = new WatchServer(store, log, limits, readRules);
  return {
    name: 'watch',
    watch,
    upgrade: {
      path: '/_watch',
      handle: (req, socket, head, url) => watch.handleUpgrade(req, socket, head, url),
    },
    close: () => watch.close(),
  };
}
