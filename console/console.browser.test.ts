/**
 * The console in a real browser (playwright-core driving Debian's chromium): a task submitted through
 * the API appears and completes without a reload, its timeline opens, and a fault knob switched in
 * the page shows its effect on the next task. CONSOLE_SCREENSHOTS=DIR keeps a screenshot per view.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { callFunction } from '../emulator/client';
import { startProductStack, type ProductStack } from '../scripts/local-stack';

jest.setTimeout(90_000);

const SHARE = '7.94 复制打开抖音，看看【小猫的作品】好可爱 https://v.douyin.com/iRNBho6u/';
const WAIT = { timeout: 30_000 };

function findChromium(): string {
  const given = process.env.CHROMIUM_PATH;
  if (given) {
    if (!existsSync(given)) throw new Error(`CHROMIUM_PATH=${given} does not exist`);
    return given;
  }
  for (const name of ['chromium', 'chromium-browser']) {
    try {
      const found = execFileSync('which', [name], { encoding: 'utf8' }).trim();
      if (found) return found;
    } catch {
      // not on PATH under this name
    }
  }
  throw new Error(
    'The console browser test needs Chromium: `apt-get install -y chromium` (Debian/Ubuntu; .ci/run does it), or set CHROMIUM_PATH to a Chromium/Chrome binary.',
  );
}

let product: ProductStack;
let dataDir: string;
let browser: Browser;
let page: Page;
const shots = process.env.CONSOLE_SCREENSHOTS;

async function shot(name: string): Promise<void> {
  if (!shots) return;
  mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

async function submit(openid: string): Promise<string> {
  const answer = (await callFunction(
    product.url,
    'extractText',
    { action: 'create', shareText: SHARE, subscribed: { success: true, failure: true } },
    openid,
  )) as { ok: boolean; task: { _id: string } };
  expect(answer.ok).toBe(true);
  return answer.task._id;
}

beforeAll(async () => {
  const executablePath = findChromium();
  dataDir = mkdtempSync(join(tmpdir(), 'console-browser-'));
  product = await startProductStack({
    port: 0,
    dataDir,
    timersEnabled: false,
    instancesPerFunction: 2,
    env: { COZE_STANDIN_DELAY_MS: '300' },
  });
  // Running as root in CI: Chromium's sandbox needs a user namespace it may not get there.
  browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
});

afterAll(async () => {
  await browser?.close();
  await product?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

it('shows a task appear, complete and tell its story; a knob changes the next task', async () => {
  await page.goto(`${product.url}/#tasks`);
  await page.getByTestId('live').filter({ hasText: 'live' }).waitFor(WAIT);

  product.stack.grant('browser-user');
  const first = await submit('browser-user');
  const row = page.locator(`[data-testid="task-row"][data-task="${first}"]`);
  await row.waitFor(WAIT);
  await page
    .locator(`[data-testid="task-row"][data-task="${first}"][data-status="completed"]`)
    .waitFor(WAIT);
  await shot('tasks');

  await row.click();
  const detail = page.getByTestId('task-detail');
  await detail.waitFor(WAIT);
  const timeline = page.getByTestId('timeline');
  await timeline.locator('li[data-kind="notice"]', { hasText: 'notice sent' }).waitFor(WAIT);
  await timeline
    .locator('li[data-kind="callback"]', { hasText: 'callback completed: processed' })
    .waitFor(WAIT);
  expect(await timeline.locator('li').first().textContent()).toContain('created');
  expect(Number(await page.getByTestId('cost-invocations').textContent())).toBeGreaterThan(1);
  expect(Number(await page.getByTestId('cost-writes').textContent())).toBeGreaterThan(0);
  await shot('timeline');

  // The fault knob, switched in the page.
  await page.getByTestId('tab-drive').click();
  await page.getByTestId('knob-callbacks').selectOption('duplicate');
  await page.getByTestId('flash').filter({ hasText: 'duplicate' }).waitFor(WAIT);
  expect(product.standin!.settings().callbackMode).toBe('duplicate');

  const second = await submit('browser-user');
  await page.goto(`${product.url}/#task/${second}`);
  await page
    .getByTestId('timeline')
    .locator('li[data-kind="callback"]', { hasText: 'callback completed: duplicate' })
    .waitFor(WAIT);
  await page.locator('[data-testid="task-detail"][data-status="completed"]').waitFor(WAIT);

  for (const view of ['overview', 'requests', 'notices', 'logs', 'drive']) {
    await page.goto(`${product.url}/#${view}`);
    await page.getByTestId(view === 'notices' ? 'outbox' : view).waitFor(WAIT);
    if (view === 'notices') await page.getByTestId('wx-message').first().waitFor(WAIT);
    if (view === 'requests') await page.getByTestId('request-row').first().waitFor(WAIT);
    await shot(view);
  }
});
