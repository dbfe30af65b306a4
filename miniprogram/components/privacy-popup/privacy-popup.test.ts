import { installWxMocks, setWx } from '../../test/setup';
import { FakeServer } from '../../test/fake-server';
import { loadPage } from '../../test/harness';
import { miniprogramRoot } from '../../test/node-bridge';

type Resolve = jest.Mock<void, [{ event: string; buttonId?: string }]>;

it('asks for privacy consent on the page and answers WeChat with the agree button id', async () => {
  jest.useFakeTimers();
  const wx = installWxMocks();
  setWx({ cloud: new FakeServer().cloud() });
  const page = loadPage('index');
  // Same module registry as the page, as app.ts would install it.
  const privacy = jest.requireActual<typeof import('../../utils/privacy')>(
    `${miniprogramRoot}/utils/privacy`,
  );
  privacy.installPrivacyHandler();
  const listener = wx.onNeedPrivacyAuthorization.mock.calls[0]?.[0] as (r: Resolve) => void;
  const popup = page.find('#privacy');
  expect(popup?.dom?.textContent ?? '').not.toContain('隐私保护提示');

  const resolve: Resolve = jest.fn();
  listener(resolve);
  expect(resolve).toHaveBeenCalledWith({ event: 'exposureAuthorization' });
  expect(popup?.dom?.textContent).toContain('剪切板');
  popup?.querySelector('#privacy-agree')?.dispatchEvent('agreeprivacyauthorization');
  await Promise.resolve();
  await Promise.resolve();
  expect(resolve).toHaveBeenLastCalledWith({ event: 'agree', buttonId: 'privacy-agree' });
  expect(popup?.dom?.textContent ?? '').not.toContain('隐私保护提示');

  // Refusing fails the paused call instead of leaving it hanging.
  const again: Resolve = jest.fn();
  listener(again);
  popup?.querySelector('#privacy-disagree')?.dispatchEvent('tap');
  await Promise.resolve();
  await Promise.resolve();
  expect(again).toHaveBeenLastCalledWith({ event: 'disagree' });

  // With no page on screen to ask, WeChat gets a refusal at once.
  page.comp.triggerLifeTime('detached');
  (page.comp as unknown as { detach(): void }).detach();
  const orphan: Resolve = jest.fn();
  listener(orphan);
  expect(orphan).toHaveBeenCalledWith({ event: 'disagree' });
  jest.useRealTimers();
});
