/**
 * The WeChat service: subscription templates, grants and the outbox (`<dataDir>/subscribe`), with
 * `GET /_outbox` and `POST /_grants` (what an accepted wx.requestSubscribeMessage grants). The openapi
 * calls themselves arrive through the admin API (actions.ts).
 */
import * as path from 'node:path';
import { isPlainObject } from '../database/ejson';
import type { RequestContext } from '../http/router';
import type { EmulatorService } from '../service';
import { SubscriptionService, type TemplateSpec } from './subscribe';

export interface WechatService extends EmulatorService {
  readonly name: 'wechat';
  readonly subscriptions: SubscriptionService;
}

const GRANTS_BODY_LIMIT = 64 * 1024;

export function createWechat(
  dataDir: string,
  templates: TemplateSpec[],
  log: (line: string) => void,
): WechatService {
  const subscriptions = new SubscriptionService(path.join(dataDir, 'subscribe'), templates, log);

  async function grant(c: RequestContext): Promise<void> {
    // Over the limit reads as empty: refused below like any other malformed body.
    const body = await c.body(GRANTS_BODY_LIMIT);
    let parsed: unknown;
    try {
      parsed = JSON.parse((body ?? Buffer.alloc(0)).toString('utf8')) as unknown;
    } catch {
      parsed = undefined;
    }
    const ids = isPlainObject(parsed) ? parsed.templateIds : undefined;
    if (
      !isPlainObject(parsed) ||
      typeof parsed.openid !== 'string' ||
      !parsed.openid ||
      (ids !== undefined && (!Array.isArray(ids) || !ids.every((x) => typeof x === 'string')))
    ) {
      return c.json(400, { ok: false, error: 'expected {openid: string, templateIds?: string[]}' });
    }
    try {
      const grants = subscriptions.grant(parsed.openid, ids as string[] | undefined);
      return c.json(200, { ok: true, grants });
    } catch (e) {
      return c.json(400, { ok: false, error: (e as Error).message });
    }
  }

  return {
    name: 'wechat',
    subscriptions,
    routes: () => [
      {
        method: 'GET',
        path: '/_outbox',
        cors: true,
        handle: (c) => c.json(200, subscriptions.outbox()),
      },
      {
        method: 'POST',
        path: '/_grants',
        cors: true,
        bodyLimit: GRANTS_BODY_LIMIT,
        handle: grant,
      },
    ],
  };
}
