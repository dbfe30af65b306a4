/**
 * End to end: the index page in local mode against a real local stack (emulator, Coze stand-in,
 * built functions) started in a child process. `wx.request` and `wx.connectSocket` really reach
 * it over 127.0.0.1; only the subscribe prompt (a WeChat UI) is simulated, as accepted.
 */
import { installWxMocks, respond, setWx } from './setup';
import { TaskStatus } from '../../shared/status';
import type { TaskCard } from '../../shared/presentation';
import { loadPage, type PageDriver } from './harness';
import {
  getJson,
  nodeConnectSocket,
  nodeRequest,
  stackAvailable,
  startStack,
  type RunningStack,
} from './node-bridge';
import type { IndexData } from '../pages/index/index';

const LOCAL_TEMPLATES = ['local-success-template', 'local-failure-template'];
const SHARE_TEXT =
  '6.15 03/10 goD:/ g@B.tE 三分钟学会做红烧肉 #美食 https://v.douyin.com/fEAkiIPyAd4/ 复制此链接，打开Dou音搜索，直接观看视频！';

const describeIfStack = stackAvailable() ? describe : describe.skip;

async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false,
  // Far above need (the flow takes about a second): a busy machine makes it slower, never red.
  timeoutMs = 60_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describeIfStack('end to end against the local stack', () => {
  let stack: RunningStack;

  beforeAll(async () => {
    stack = await startStack({ env: { COZE_STANDIN_DELAY_MS: '300' }, timeoutMs: 100_000 });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  it('submit a share text, see progress arrive through the watch, see the result', async () => {
    const openid = `e2e-${Date.now().toString(36)}`;
    const wx = installWxMocks();
    const snapshots: { status?: unknown; progress?: unknown }[] = [];
    const functionCalls: string[] = [];
    setWx({
      request: (o: WechatMiniprogram.RequestOption) => {
        const data = o.data as { action?: string } | undefined;
        if (o.url.endsWith('/functions/extractText')) functionCalls.push(data?.action ?? '?');
        return nodeRequest(o);
      },
      connectSocket: (o: WechatMiniprogram.ConnectSocketOption) => {
        const socket = nodeConnectSocket(o);
        socket.onMessage(({ data }) => {
          const msg = JSON.parse(String(data)) as {
            snapshot?: { docs?: { status?: unknown; progress?: unknown }[] };
          };
          for (const d of msg.snapshot?.docs ?? [])
            snapshots.push({ status: d.status, progress: d.progress });
        });
        return socket;
      },
    });
    wx.requestSubscribeMessage.mockImplementation(
      (o: { tmplIds: string[]; success?: (r: object) => void }) =>
        respond(o, {
          errMsg: 'requestSubscribeMessage:ok',
          ...Object.fromEntries(o.tmplIds.map((id) => [id, 'accept'])),
        }),
    );

    const page: PageDriver<IndexData> = loadPage<IndexData>('index', {
      mode: 'local',
      local: { baseUrl: stack.url, openid },
    });
    // Every card the page draws, in order.
    const drawn: TaskCard[] = [];
    const instance = page.comp.instance as unknown as {
      setData(patch: Partial<IndexData>, cb?: () => void): void;
    };
    const setData = instance.setData.bind(instance);
    instance.setData = (patch, cb) => {
      if (patch.card) drawn.push(patch.card);
      setData(patch, cb);
    };

    page.call('onLoad', {});
    page.call('onShow');
    await page.input('#share-text', SHARE_TEXT);
    await page.tap('#submit');
    expect(wx.requestSubscribeMessage).toHaveBeenCalledTimes(1);

    await waitFor('the task card', () => page.data.card).catch((e: Error) => {
      const warns = (console.warn as jest.Mock).mock.calls;
      throw new Error(`${e.message}: ${JSON.stringify({ data: page.data, functionCalls, warns })}`);
    });
    const done = await waitFor(
      'the completed task',
      () => page.data.card?.status === TaskStatus.Completed && page.data.card,
    );

    // Progress came through the watch: snapshots carried it, and the page drew it.
    expect(
      snapshots.some((s) => s.status === TaskStatus.Processing && Number(s.progress) > 0),
    ).toBe(true);
    expect(snapshots.some((s) => s.status === TaskStatus.Completed)).toBe(true);
    expect(drawn.some((c) => c.status === TaskStatus.Processing && c.percent > 10)).toBe(true);
    // ...not through polling: one create, one initial get (and the page's one `list` at load,
    // for the wait estimate).
    expect(functionCalls.filter((c) => c !== 'list')).toEqual(['create', 'get']);
    expect(functionCalls.filter((c) => c === 'list')).toHaveLength(1);

    // The result is rendered.
    expect(page.text('#headline')).toBe('提取完成');
    expect(page.text('#result-title')).toBe(done.title);
    expect(done.title).toContain('抖音');
    expect(page.text('#content').length).toBeGreaterThan(20);
    expect(page.text('#word-count')).toBe(`共 ${done.wordCount} 字`);
    expect(page.text('#video-link')).toMatch(/^[a-z0-9.-]+(\/|$)/);

    // The accepted prompt was recorded with the stack, so the success notice went out.
    type Notice = { touser?: string; templateId?: string; page?: string };
    let sent: Notice[] = [];
    for (let i = 0; i < 100 && sent.length === 0; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 50));
      const outbox = (await getJson(`${stack.url}/_outbox`)) as Notice[];
      sent = outbox.filter((m) => m.touser === openid);
    }
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ templateId: LOCAL_TEMPLATES[0] });
    expect(sent[0]?.page).toContain(`pages/index/index?taskId=${done.id}`);

    page.call('onUnload');
  }, 180_000);
});
