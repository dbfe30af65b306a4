/**
 * The package WeChat DevTools opens: build it (scripts/build-miniprogram.mjs) and check it is
 * complete, small and eval-free, then run the built index page (plain JS, the shared domain in
 * domain.js) through a submit.
 */
import { installWxMocks, setWx, settle } from './setup';
import * as simulate from 'miniprogram-simulate';
import { FakeServer } from './fake-server';
import { PageDriver } from './harness';
import { buildInto, readText } from './node-bridge';
import type { IndexData } from '../pages/index/index';

let built: ReturnType<typeof buildInto>;

beforeAll(() => {
  built = buildInto();
}, 30_000);

afterAll(() => built?.remove());

it('builds a complete main package well under 2 MB with no eval', () => {
  const files = Object.keys(built.sizes);
  const appJson = JSON.parse(readText(`${built.outDir}/app.json`)) as {
    pages: string[];
    tabBar: { list: { pagePath: string; iconPath: string; selectedIconPath: string }[] };
    __usePrivacyCheck__?: boolean;
  };
  expect(appJson.__usePrivacyCheck__).toBe(true);
  for (const page of [
    ...appJson.pages,
    'components/status-badge/status-badge',
    'components/privacy-popup/privacy-popup',
    'components/task-rows/task-rows',
  ]) {
    for (const ext of ['js', 'json', 'wxml', 'wxss']) expect(files).toContain(`${page}.${ext}`);
  }
  // The two tabs, each with its two icons (WeChat asks for at most 40 KB each); the shared
  // result is a page of its own, opened from a share card, never a tab.
  expect(appJson.tabBar.list.map((t) => t.pagePath)).toEqual(
    appJson.pages.filter((p) => p !== 'pages/shared/shared'),
  );
  expect(appJson.pages).toContain('pages/shared/shared');
  for (const tab of appJson.tabBar.list) {
    for (const icon of [tab.iconPath, tab.selectedIconPath]) {
      expect(files).toContain(icon);
      expect(built.sizes[icon]).toBeLessThan(40 * 1024);
    }
  }
  expect(files.some((f) => f.endsWith('.ts') || f.includes('test'))).toBe(false);
  const total = Object.values(built.sizes).reduce((a, b) => a + b, 0);
  expect(total).toBeLessThan(512 * 1024);
  for (const f of files.filter((x) => x.endsWith('.js'))) {
    expect(readText(`${built.outDir}/${f}`)).not.toMatch(/\beval\s*\(/);
  }
  // The shared domain is bundled once, into domain.js; pages require it.
  expect(readText(`${built.outDir}/pages/index/index.js`)).toContain('require("../../domain.js")');
  expect(built.sizes['pages/index/index.js']).toBeLessThan(20 * 1024);
});

it('the built index page runs: submit and see the task', async () => {
  jest.useFakeTimers();
  const wx = installWxMocks();
  const server = new FakeServer();
  setWx({ cloud: server.cloud() });
  const id = simulate.load(`${built.outDir}/pages/index/index`, {
    compiler: 'simulate',
    rootPath: built.outDir,
  });
  const comp = simulate.render(id) as simulate.RootComponent<
    Record<string, unknown>,
    Record<string, never>,
    Record<string, never>
  >;
  const doc = (globalThis as unknown as { document: { createElement(t: string): unknown } })
    .document;
  comp.attach(doc.createElement('parent-wrapper'));
  const page = new PageDriver<IndexData>(comp);
  page.call('onLoad', {});
  page.call('onShow');
  await page.input('#share-text', '看看 https://v.douyin.com/iRNBho6u/ 好可爱');
  await page.tap('#submit');
  await settle();
  // Templates are empty in the shipped config: no prompt, still one task.
  expect(wx.requestSubscribeMessage).not.toHaveBeenCalled();
  expect(server.calls('create')).toHaveLength(1);
  expect(page.text('#headline')).toBe('排队中');
  page.call('onUnload');
  jest.useRealTimers();
});
