/**
 * `npm run screenshots`, checked two ways:
 *
 * 1. The committed pictures are not stale. Every state of states.ts is rendered from the real
 *    WXML in miniprogram-simulate, exactly as `npm run screenshots` renders it, and the shooter's
 *    `--check` compares the document each picture would be drawn from (page, WXSS, frame, theme,
 *    tab bar icons and the shooter itself) with the digest recorded in docs/screenshots/
 *    manifest.json when the committed PNG was drawn, and the PNG with its recorded digest. No
 *    browser: the verdict depends on the code only, never on this machine's Chromium or fonts.
 * 2. One state the whole way, as a user would look at it: the long result drawn with the real
 *    WXSS by headless Chromium, with 再提取一个, 分享 and 复制全文 on the first screen, above the
 *    tab bar, while the text runs past it. Needs Debian's chromium (or CHROMIUM_PATH) and a
 *    Chinese font; without them it fails saying how to install them.
 */
import '../setup';
import {
  pngSize,
  readJson,
  readText,
  removeDir,
  repoRoot,
  runShooter,
  tempDir,
  writeText,
} from './files';
import { STATES, manifestEntry, renderState } from './states';

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

const NAME = 'index-completed-long';
const SCREEN = { width: 375, height: 812 };
/** The tab bar WeChat draws below a tab page (50 px and the home indicator's 34 px). */
const TAB_BAR = 84;

let dir = '';
beforeAll(async () => {
  dir = tempDir();
  for (const state of STATES) {
    writeText(`${dir}/${state.name}.body.html`, await renderState(state));
  }
  const manifest = STATES.map(manifestEntry);
  writeText(`${dir}/manifest.json`, JSON.stringify(manifest));
}, 60_000);

afterAll(() => {
  if (dir) removeDir(dir);
});

it('the committed screenshots match what the states render now (else: npm run screenshots)', () => {
  const run = runShooter(['--html', dir, '--check', `${repoRoot}/docs/screenshots`], 30_000);
  // The shooter lists each stale picture and why; shown whole when this fails.
  expect(`${run.stderr}${run.stdout}`.trim()).toMatch(/^screenshots are up to date/);
  expect(run.status).toBe(0);
});

it('every state is shown in miniprogram/README.md', () => {
  const readme = readText(`${repoRoot}/miniprogram/README.md`);
  const missing = STATES.filter((s) => !readme.includes(`docs/screenshots/${s.name}.png`));
  expect(missing.map((s) => s.name)).toEqual([]);
});

it('draws the long result with its bar on the first screen, above the tab bar', () => {
  const run = runShooter(
    ['--html', dir, '--out', dir, '--only', NAME, '--light-only', '--layout'],
    60_000,
  );
  if (run.status !== 0) throw new Error(`the shooter failed:\n${run.stderr || run.stdout}`);

  expect(pngSize(`${dir}/${NAME}.png`)).toMatchObject({ width: 750, height: 1624 }); // 2×
  const boxes = readJson(`${dir}/${NAME}.layout.json`) as Record<string, Box>;
  const aboveTabBar = SCREEN.height - TAB_BAR;
  const onFirstScreen = (id: string) => {
    const b = boxes[id];
    expect(b).toBeDefined();
    expect(b!.width).toBeGreaterThan(40);
    expect(b!.y).toBeGreaterThanOrEqual(0);
    expect(b!.y + b!.height).toBeLessThanOrEqual(aboveTabBar);
  };
  onFirstScreen('again');
  onFirstScreen('share');
  onFirstScreen('copy-content');
  // Saving the video and the cover is in reach too, above the text.
  onFirstScreen('save-video');
  onFirstScreen('save-cover');
  // ...while the text runs on under the bar.
  expect(boxes.content!.y + boxes.content!.height).toBeGreaterThan(boxes.actionbar!.y);
  expect(boxes.actionbar!.y + boxes.actionbar!.height).toBeLessThanOrEqual(aboveTabBar + 0.5);
  // The cover is a thumbnail, and the video link a single short line.
  expect(boxes.cover!.height).toBeLessThanOrEqual(120);
  expect(boxes['video-link']!.height).toBeLessThanOrEqual(24);
}, 90_000);
