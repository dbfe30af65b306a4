/** The storage service: files under `<dataDir>/storage`, served (uploads, signed downloads) on this port. */
import * as path from 'node:path';
import type { EmulatorService } from '../service';
import { STORAGE_ROUTE, StorageService } from './storage';

export interface StorageEmulator extends EmulatorService {
  readonly name: 'storage';
  readonly storage: StorageService;
}

export function createStorage(
  dataDir: string,
  envId: string,
  log: (line: string) => void,
): StorageEmulator {
  const storage = new StorageService(path.join(dataDir, 'storage'), envId, log);
  return {
    name: 'storage',
    storage,
    // Uploads are raw bytes, whatever their type.
    routes: () => [
      {
        prefix: STORAGE_ROUTE,
        accepts: 'any',
        handle: (c) => storage.handleHttp(c.req, c.res, c.url),
      },
    ],
    listening: (url) => storage.setBaseUrl(url),
  };
}
