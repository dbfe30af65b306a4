/**
 * Contract: a DevTools-layout project (no cloudbaserc.json) with per-function config.json triggers and permissions,
 * its own subscription templates, timers per trigger, callFunction and openapi through the real wx-server-sdk.
 */
import * as path from 'node:path';
import * as cloud from 'wx-server-sdk';
import { grantSubscriptions, sdkInitOptions } from './client';
import type { LocalStack } from './index';
import { loadProject } from './project';
import {
  adminCall,
  removeDir,
  sdkDatabase,
  startFixtureStack,
  tempDataDir,
  waitFor,
} from './testing';

jest.setTimeout(30_000);

const DEVTOOLS_PROJECT = path.join(__dirname, 'fixtures', 'devtools-project');

let stack: LocalStack;
let dataDir: string;

beforeAll(async () => {
  dataDir = tempDataDir();
  stack = await startFixtureStack({
    dataDir,
    projectDir: DEVTOOLS_PROJECT,
    templates: [],
    collections: ['ticks'],
  });
  cloud.init(sdkInitOptions(stack.adminUrl) as unknown as Parameters<typeof cloud.init>[0]);
});

afterAll(async () => {
  await stack.close();
  removeDir(dataDir);
});

async function ticks(): Promise<Record<string, unknown>[]> {
  return (await sdkDatabase(cloud).collection('ticks').limit(1000).get()).data;
}

describe('loading a DevTools project', () => {
  it('finds every function folder, reads config.json triggers and permissions, and local-templates.json', () => {
    const project = loadProject(DEVTOOLS_PROJECT);
    expect(project.functions.map((f) => f.name)).toEqual(['clock', 'relay', 'wxapi']);
    const clock = project.functions.find((f) => f.name === 'clock');
    expect(clock?.timers).toEqual([
      { name: 'fast', config: '*/5 * * * * * *' },
      { name: 'slow', config: '0 0 3 * * * *' },
    ]);
    expect(project.functions.find((f) => f.name === 'wxapi')?.openapi).toContain(
      'security.msgSecCheck',
    );
    expect(project.templates).toEqual([
      { id: 'tpl-order-shipped', keywords: ['thing1', 'character_string2', 'date3'] },
    ]);
  });

  it('lets cloudbaserc.json triggers win over config.json ones', () => {
    const project = loadProject(path.join(__dirname, 'fixtures', 'project'));
    expect(project.functions.find((f) => f.name === 'tick')?.timers).toEqual([
      { name: 'everyMinute', config: '0 * * * * * *' },
    ]);
  });
});

describe('timers', () => {
  it('runs each trigger by name, each run seeing its own trigger in the event', async () => {
    const slow = stack.runTimer('clock', 'slow');
    const fast = await stack.runTimer('clock', 'fast');
    expect(fast).toEqual({ trigger: 'fast' });
    await expect(slow).resolves.toEqual({ trigger: 'slow' });
    const rows = await ticks();
    expect(rows.map((r) => r.trigger).sort()).toEqual(['fast', 'slow']);
    // The timer event shape and context: no openid, SOURCE as documented for timer triggers.
    expect(rows[0]).toMatchObject({ type: 'Timer', source: 'wx_trigger', hasOpenid: false });
  });

  it('TIMER_OVERRIDE_S fires every trigger', async () => {
    const dir = tempDataDir();
    const other = await startFixtureStack({
      dataDir: dir,
      projectDir: DEVTOOLS_PROJECT,
      collections: ['ticks'],
      timersEnabled: true,
      timerOverrideS: 1,
    });
    try {
      const seen = await waitFor(async () => {
        const res = await adminCall(other.adminUrl, {
          action: 'database.getDocument',
          collectionName: 'ticks',
          query: '{}',
          limit: 1000,
        });
        const list = ((res.data as { list: string[] }).list ?? []).map(
          (d) => JSON.parse(d) as { trigger: string },
        );
        const names = new Set(list.map((r) => r.trigger));
        return names.has('fast') && names.has('slow') ? names : undefined;
      }, 15_000);
      expect([...(seen ?? [])].sort()).toEqual(['fast', 'slow']);
    } finally {
      await other.close();
      removeDir(dir);
    }
  });
});

describe('callFunction from a function', () => {
  it('chains SOURCE (wx_client,scf) as documented', async () => {
    expect(await stack.invoke('relay', { target: 'relay' }, 'user-1')).toEqual({
      source: 'wx_client',
      result: { source: 'wx_client,scf' },
    });
  });

  it('a missing function fails with the cloud message; wx-server-sdk 4 reports errCode -1 for it', async () => {
    const out = (await stack.invoke('relay', { target: 'nope' }, 'user-1')) as {
      errCode: number;
      errMsg: string;
    };
    expect(out.errCode).toBe(-1);
    expect(out.errMsg).toContain('-501000');
    expect(out.errMsg).toContain('ResourceNotFound.Function');
  });
});

describe('openapi', () => {
  const call = (api: string, params: unknown): Promise<Record<string, unknown>> =>
    stack.invoke('wxapi', { api, params }, 'user-1') as Promise<Record<string, unknown>>;

  it('sends subscription messages for the templates the project declares, after a /_grants', async () => {
    const message = {
      touser: 'user-1',
      templateId: 'tpl-order-shipped',
      data: {
        thing1: { value: '订单已发货' },
        character_string2: { value: 'SF1234567' },
        date3: { value: '2024年5月1日' },
      },
    };
    expect(await call('subscribeMessage.send', message)).toMatchObject({
      ok: false,
      errCode: 43101,
    });
    expect(await grantSubscriptions(stack.url, 'user-1', ['tpl-order-shipped'])).toEqual({
      'tpl-order-shipped': 1,
    });
    expect(await call('subscribeMessage.send', message)).toMatchObject({ ok: true });
    expect(stack.outbox()).toHaveLength(1);
  });

  it('security.msgSecCheck is a local fake that passes text unless it carries the risky marker', async () => {
    expect(await call('security.msgSecCheck', { content: '你好' })).toMatchObject({ ok: true });
    expect(await call('security.msgSecCheck', { content: 'a local-risky text' })).toMatchObject({
      ok: false,
      errCode: 87014,
    });
    const v2 = await call('security.msgSecCheck', {
      content: '你好',
      version: 2,
      scene: 2,
      openid: 'user-1',
    });
    expect(v2).toMatchObject({ ok: true, res: { result: { suggest: 'pass', label: 100 } } });
    expect(String((v2.res as { traceId: string }).traceId)).toContain('local-stack-fake');
  });

  it('wxacode.getUnlimited answers a real PNG that says it is a fake', async () => {
    const out = await call('wxacode.getUnlimited', { scene: 'id=42', page: 'pages/index/index' });
    expect(out).toMatchObject({ ok: true, contentType: 'image/png' });
    const png = Buffer.from(String(out.base64), 'base64');
    expect(png.subarray(0, 8)).toEqual(
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    );
    expect(png.toString('latin1')).toContain('local stack fake wxacode: scene=id=42');
    expect(await call('wxacode.getUnlimited', {})).toMatchObject({ ok: false, errCode: 40097 });
  });

  it('security.imgSecCheck is a local fake: an image passes unless its bytes carry the risky marker', async () => {
    const png = (text: string) => ({
      contentType: 'image/png',
      base64: Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.from(text)]).toString(
        'base64',
      ),
    });
    expect(await call('security.imgSecCheck', { media: png('a cat') })).toMatchObject({
      ok: true,
      res: { errCode: 0 },
    });
    expect(await call('security.imgSecCheck', { media: png('local-risky') })).toMatchObject({
      ok: false,
      errCode: 87014,
    });
  });

  it('cloudPay answers 48001 naming the API, as WeChat answers an unauthorized one', async () => {
    const out = await call('cloudPay.unifiedOrder', { body: 'x', outTradeNo: '1', totalFee: 1 });
    expect(out).toMatchObject({ ok: false, errCode: 48001 });
    expect(String(out.errMsg)).toContain(
      'cloudPay.unifiedOrder is not emulated by the local stack',
    );
  });

  it('refuses an API its config.json does not declare with -604101, as the cloud does', async () => {
    const out = await call('wxacode.createQRCode', { path: 'pages/index/index' });
    expect(out).toMatchObject({ ok: false, errCode: -604101 });
  });

  it('refuses any other API with 48001 naming it', async () => {
    const out = await call('customerServiceMessage.send', { touser: 'user-1', msgtype: 'text' });
    expect(out).toMatchObject({ ok: false, errCode: 48001 });
    expect(String(out.errMsg)).toContain('customerServiceMessage.send');
  });
});
