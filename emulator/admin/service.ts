/** The admin service: `POST /admin`, the tcb admin API every other service answers through (index.ts). */
import type { DatabaseService } from '../database/service';
import type { FunctionsService } from '../functions/service';
import type { RequestContext } from '../http/router';
import type { MonitorService } from '../monitor/service';
import type { EmulatorService } from '../service';
import type { StorageEmulator } from '../storage/service';
import type { WechatService } from '../wechat/service';
import { handleAdmin } from './index';

const ADMIN_BODY_LIMIT = 32 * 1024 * 1024;

export function createAdmin(services: {
  database: DatabaseService;
  functions: FunctionsService;
  storage: StorageEmulator;
  wechat: WechatService;
  monitor: MonitorService;
  openApiPermissions: boolean;
  log: (line: string) => void;
}): EmulatorService {
  const { database, functions, storage, wechat, monitor, openApiPermissions, log } = services;

  async function admin(c: RequestContext): Promise<void> {
    monitor.adminRequests++;
    const body = await c.body(ADMIN_BODY_LIMIT);
    if (!body) return c.json(413, { code: 'INVALID_PARAM', message: 'request too large' });
    const source = c.header('x-tcb-source');
    const out = await handleAdmin(body, c.header('content-type') ?? '', {
      store: database.store,
      runtime: functions.runtime(),
      subscriptions: wechat.subscriptions,
      transactions: database.transactions,
      storage: storage.storage,
      log,
      openApiPermissions,
      ...(source ? { source } : {}),
      monitor: monitor.monitor,
      seqId: c.url.searchParams.get('seqId'),
    });
    c.res.writeHead(out.status, {
      'content-type': out.contentType,
      'content-length': out.body.length,
    });
    c.res.end(out.body);
  }

  return {
    name: 'admin',
    routes: () => [
      {
        method: 'POST',
        path: '/admin',
        // node-sdk posts JSON, and multipart for wx.openApi.
        accepts: ['application/json', 'multipart/form-data'],
        bodyLimit: ADMIN_BODY_LIMIT,
        handle: admin,
      },
      { path: '/admin', handle: (c) => c.json(405, { error: 'POST only' }) },
    ],
  };
}
