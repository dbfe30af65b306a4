/**
 * The console in a real browser (playwright-core driving Debian's chromium): a task submitted through
 * the API appears and completes without a reload, its timeline opens, a fault knob switched in the
 * page shows its effect on the next task (dropped callbacks and the sweeper's next look included),
 * refusals read as refusals, a backlog behind the stand-in's QPS knob is shown and drained live in
 * the Queue view, and every view is laid out at 1280 and 1440 px without anything running out of
 * its card. CONSOLE_SCREENSHOTS=DIR keeps a screenshot per view and width.
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
/** The widths every view is laid out at (a laptop and a desktop browser window). */
const WIDTHS = [1280, 1440];

async function shot(name: string): Promise<void> {
  if (!shots) return;
  mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

async function submit(openid: string, share = SHARE): Promise<string> {
  const answer = (await callFunction(
    product.url,
    'extractText',
    { action: 'create', shareText: share, subscribed: { success: true, failure: true } },
    openid,
  )) as { ok: boolean; task: { _id: string } };
  expect(answer.ok).toBe(true);
  return answer.task._id;
}

/**
 * What runs out of its box: the page wider than the window, or any element whose right edge passes
 * its card's (a table that scrolls inside its own wrapper is not counted; a clipped one is).
 */
/**
 * What runs out of its box: the page wider than the window, or any element whose right edge passes
 * its card's (a table that scrolls inside its own wrapper is not counted; a clipped one is).
 * Runs in the page (written as text: this file is typed for Node, not the DOM).
 */
const OVERFLOWS = `(() => {
  const out = [];
  const doc = document.documentElement;
  if (doc.scrollWidth > window.innerWidth) out.push('page ' + doc.scrollWidth + ' > ' + window.innerWidth);
  for (const card of document.querySelectorAll('.panel, .wx')) {
    const edge = card.getBoundingClientRect().right;
    for (const el of card.querySelectorAll('*')) {
      const wrap = el.parentElement && el.parentElement.closest('.table-wrap');
      if (wrap && ['auto', 'scroll'].includes(getComputedStyle(wrap).overflowX)) continue;
      const r = el.getBoundingClientRect();
      if (r.width > 0 && r.right > edge + 1) {
        out.push(el.tagName.toLowerCase() + ' "' + (el.textContent || '').slice(0, 40) + '" ends at ' +
          Math.round(r.right) + ' > card ' + Math.round(edge));
      }
    }
  }
  return out;
})()`;

const overflows = () => page.evaluate<string[]>(OVERFLOWS);

/** The Queue view's chart drawn to its box's width (it redraws once the window's new size is seen). */
const CHART_FITS = `(() => {
  const box = document.querySelector('[data-testid="queue-chart"][data-state="drawn"]');
  const svg = box && box.querySelector('svg');
  return !!svg && Math.abs(svg.getBoundingClientRect().width - box.getBoundingClientRect().width) <= 1;
})()`;

beforeAll(async () => {
  const executablePath = findChromium();
  dataDir = mkdtempSync(join(tmpdir(), 'console-browser-'));
  product = await startProductStack({
    port: 0,
    dataDir,
    timersEnabled: false,
    instancesPerFunction: 2,
    // A low COZE_QPS keeps the Queue view's rates on a readable scale next to the stand-in's.
    env: { COZE_STANDIN_DELAY_MS: '300', COZE_QPS: '2' },
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
  await timeline
    .locator('li[data-kind="transition"]', { hasText: 'completed: status processing → completed' })
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
});

it('shows the callbacks the stand-in dropped, and when the sweeper will look', async () => {
  await page.goto(`${product.url}/#drive`);
  await page.getByTestId('knob-callbacks').selectOption('drop');
  await page.getByTestId('flash').filter({ hasText: 'callbacks drop' }).waitFor(WAIT);
  // Submitted in the page: the page opens the new task's timeline.
  await page.getByTestId('submit-user').fill('browser-drop');
  await page.getByTestId('submit').click();
  await page.locator('[data-testid="task-detail"][data-status="processing"]').waitFor(WAIT);
  const timeline = page.getByTestId('timeline');
  await timeline
    .locator('li[data-kind="coze"]', { hasText: 'Coze stand-in dropped completed 100%' })
    .waitFor(WAIT);
  const next = page.getByTestId('next-look');
  await next
    .filter({ hasText: 'no callback will come: the sweeper reads the run history' })
    .waitFor(WAIT);
  expect(await next.textContent()).toMatch(/RECONCILE_AFTER_S \(60 s\).*due from .*timers are off/);
  expect(await page.getByTestId('task-status').textContent()).toMatch(/processing\s+0%/);
  await page.getByTestId('tab-drive').click();
  await page.getByTestId('knob-callbacks').selectOption('normal');
  await page.getByTestId('flash').filter({ hasText: 'callbacks normal' }).waitFor(WAIT);
});

it('shows a refusal as a refusal, with its code and message', async () => {
  await page.goto(`${product.url}/#drive`);
  await page.getByTestId('submit-user').fill('browser-user');
  await page.getByTestId('submit-text').fill('看看这个视频，没有链接');
  await page.getByTestId('submit').click();
  const refused = page.locator('[data-testid="flash"][data-outcome="refused"]');
  await refused.filter({ hasText: 'NO_LINK' }).waitFor(WAIT);
  expect(await refused.textContent()).not.toContain('{');
  expect(await page.getByTestId('flash-code').textContent()).toBe('NO_LINK');
  await shot('drive-no-link');

  await page.getByTestId('submit-user').fill('../etc');
  await page.getByTestId('submit-text').fill(SHARE);
  await page.getByTestId('submit').click();
  await refused.filter({ hasText: 'only letters, digits, _ and -' }).waitFor(WAIT);
  expect(await page.getByTestId('flash-code').textContent()).toBe('HTTP 400');
  await shot('drive-refused');
});

it('shows a failed task without its last progress, and log lines as events with task links', async () => {
  const failed = await submit('browser-user', SHARE.replace('iRNBho6u', 'failRun01'));
  await page.goto(`${product.url}/#task/${failed}`);
  await page.locator('[data-testid="task-detail"][data-status="failed"]').waitFor(WAIT);
  expect((await page.getByTestId('task-status').textContent())?.trim()).toBe('failed');

  await page.goto(`${product.url}/#logs`);
  await page.getByTestId('log-task').fill(failed);
  const line = page
    .getByTestId('log-line')
    .filter({ hasText: 'task_created' })
    .filter({ hasText: failed.slice(0, 8) });
  await line.waitFor(WAIT);
  expect(await line.textContent()).not.toContain('{"');
  await line.getByTestId('task-link').click();
  await page.locator(`[data-testid="task-detail"][data-status="failed"]`).waitFor(WAIT);
  expect(page.url()).toContain(`#task/${failed}`);
});

/** Sets a stand-in knob as the console's API does (the page's own knobs are tested above). */
async function knobs(patch: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${product.url}/_console/api/standin`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(patch),
  });
  expect(res.status).toBe(200);
}

it('sets the QPS and start-answer knobs in the page, a bad value refused as a refusal', async () => {
  await page.goto(`${product.url}/#drive`);
  const flash = page.getByTestId('flash');
  await page.getByTestId('knob-start-answer').selectOption('truncated');
  await flash.filter({ hasText: 'start answer truncated' }).waitFor(WAIT);
  expect(product.standin!.settings().startAnswer).toBe('truncated');
  await page.getByTestId('knob-start-answer').selectOption('normal');
  await flash.filter({ hasText: 'start answer normal' }).waitFor(WAIT);

  await page.getByTestId('knob-qps').fill('0.5');
  await page.getByTestId('knob-qps').press('Tab');
  const refused = page.locator('[data-testid="flash"][data-outcome="refused"]');
  await refused.filter({ hasText: 'qps: a whole number of calls a second' }).waitFor(WAIT);
  expect(await page.getByTestId('flash-code').textContent()).toBe('HTTP 400');
  expect(product.standin!.settings().qps).toBe(0);
  // The field gives way to the value in force.
  expect(await page.getByTestId('knob-qps').inputValue()).toBe('0');

  await page.getByTestId('knob-qps').fill('1');
  await page.getByTestId('knob-qps').press('Tab');
  await flash.filter({ hasText: 'QPS 1' }).waitFor(WAIT);
  expect(product.standin!.settings().qps).toBe(1);
  await shot('drive-knobs');
});

it('shows a backlog live in the Queue view: places, waits, the curves, and its drain by the sweeper', async () => {
  // Every start refused while the backlog forms (the bucket's one call a second, Coze busy for a
  // start it lets through), so all four wait whatever the machine's pace; then only QPS limits.
  await knobs({ qps: 1, createErrorRate: 1 });
  const users = ['queue-a', 'queue-b'];
  const ids = await Promise.all([...users, ...users].map((u) => submit(u)));
  await page.goto(`${product.url}/#queue`);
  await page.locator('[data-testid="queue-chart"][data-state="drawn"]').waitFor(WAIT);
  await knobs({ createErrorRate: 0 });

  // Each placed once its create's own start is surely over: in the dispatcher's fair order.
  const rows = page.getByTestId('queue-row');
  const placed = page.locator('[data-testid="queue-row"]:not([data-place=""])');
  await page.waitForFunction(
    `document.querySelectorAll('[data-testid="queue-row"]:not([data-place=""])').length === ${ids.length}`,
    undefined,
    WAIT,
  );
  expect(await rows.count()).toBe(ids.length);
  expect(await placed.evaluateAll((els) => els.map((e) => e.getAttribute('data-place')))).toEqual([
    '1',
    '2',
    '3',
    '4',
  ]);
  // Fair across users: each user's first task before anyone's second.
  const owners = await rows.evaluateAll((els) =>
    els.map((e) => e.querySelectorAll('td')[2]!.textContent),
  );
  expect(new Set(owners.slice(0, 2)).size).toBe(2);
  expect(await page.getByTestId('queue-waiting').textContent()).toMatch(/^4 tasks/);
  expect(await page.getByTestId('limit-coze-qps').textContent()).toMatch(/^2 calls a second/);
  expect(await page.getByTestId('limit-standin-qps').textContent()).toContain(
    'COZE_STANDIN_QPS 1/s',
  );
  expect(await page.getByTestId('queue-row-wait').first().textContent()).toContain(
    'no sweep coming (timers off)',
  );
  // Laid out with its table full at both widths (the layout test below sees it empty).
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: 900 });
    await page.waitForFunction(CHART_FITS, undefined, WAIT);
    expect({ view: 'queue-waiting', width, overflows: await overflows() }).toEqual({
      view: 'queue-waiting',
      width,
      overflows: [],
    });
    await shot(`queue-waiting-${width}`);
  }

  // A waiting task's timeline: its turn in the queue.
  await rows.first().click();
  await page
    .getByTestId('next-look')
    .filter({ hasText: "waits in the queue: a sweep's dispatcher starts it in its turn" })
    .filter({ hasText: 'place 1 in the queue (0 ahead)' })
    .waitFor(WAIT);
  expect(await page.getByTestId('next-look').textContent()).toContain(
    'gives up waiting (TOO_BUSY, no notice) at',
  );
  await shot('queue-task');

  // The sweeper, run from the Queue view: it dispatches under its lease at the upstream's pace.
  await page.goto(`${product.url}/#queue`);
  await page.locator('[data-testid="queue-chart"][data-state="drawn"]').waitFor(WAIT);
  await page.getByTestId('queue-sweep').click();
  await page.getByTestId('queue-dispatcher').filter({ hasText: 'dispatching' }).waitFor(WAIT);
  await shot('queue-draining');
  await page.getByTestId('queue-empty').waitFor(WAIT);
  await page
    .getByTestId('flash')
    .filter({ hasText: `${ids.length} started` })
    .waitFor(WAIT);
  // The curves drawn: every panel's legend, the stand-in's limit among them.
  const chartText = await page.getByTestId('queue-chart').locator('svg text').allTextContents();
  for (const label of [
    'waiting',
    'runs started',
    'stand-in QPS (COZE_STANDIN_QPS)',
    'dispatcher: allowed rate',
    'starts refused (stand-in 429)',
    'COZE_QPS 2',
  ]) {
    expect(chartText).toContain(label);
  }
  await shot('queue-drained');
  await knobs({ qps: 0 });
});

it('lays out every view at 1280 and 1440 px with nothing running out of its card', async () => {
  const tasks = product.stack.data.find('tasks', {}, { sort: { created_at: 1 } });
  const bilibili = await submit(
    'browser-user',
    '【超长标题的B站视频】 https://www.bilibili.com/video/BV1xx411c7mD?p=1&share_source=copy_web&vd_source=0123456789abcdef0123456789abcdef',
  );
  const views: [string, string, () => Promise<unknown>][] = [
    ['overview', '#overview', () => page.getByTestId('overview').waitFor(WAIT)],
    ['tasks', '#tasks', () => page.getByTestId('task-row').first().waitFor(WAIT)],
    [
      'task',
      `#task/${tasks[0]!._id as string}`,
      () => page.getByTestId('cost-table').waitFor(WAIT),
    ],
    [
      'task-drop',
      `#task/${tasks.find((t) => t._openid === 'browser-drop')!._id as string}`,
      () => page.getByTestId('next-look').waitFor(WAIT),
    ],
    [
      'task-bilibili',
      `#task/${bilibili}`,
      () => page.locator('[data-testid="task-detail"][data-status="completed"]').waitFor(WAIT),
    ],
    ['requests', '#requests', () => page.getByTestId('request-row').first().waitFor(WAIT)],
    ['notices', '#notices', () => page.getByTestId('wx-message').first().waitFor(WAIT)],
    ['logs', '#logs', () => page.getByTestId('log-line').first().waitFor(WAIT)],
    ['drive', '#drive', () => page.getByTestId('callback-row').first().waitFor(WAIT)],
    [
      'queue',
      '#queue',
      () => page.locator('[data-testid="queue-chart"][data-state="drawn"]').waitFor(WAIT),
    ],
  ];
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: 900 });
    for (const [name, hash, ready] of views) {
      await page.goto(`${product.url}/${hash}`);
      await ready();
      expect({ view: name, width, overflows: await overflows() }).toEqual({
        view: name,
        width,
        overflows: [],
      });
      await shot(`${name}-${width}`);
    }
  }
  // The cost table fits its card at the narrower width without scrolling.
  await page.setViewportSize({ width: WIDTHS[0]!, height: 900 });
  await page.goto(`${product.url}/#task/${tasks[0]!._id as string}`);
  await page.getByTestId('cost-table').waitFor(WAIT);
  const fits = await page
    .getByTestId('cost-table')
    .evaluate((t) => t.parentElement!.scrollWidth <= t.parentElement!.clientWidth);
  expect(fits).toBe(true);
});
