/**
 * `npm run screenshots` on one state, all the way: the long completed result rendered from the
 * real WXML in miniprogram-simulate, drawn with the real WXSS by headless Chromium
 * (scripts/screenshots/shoot.ts), checked as a user would look at it: 复制全文 and 分享 are on
 * the first screen although the text runs past it. Needs Debian's chromium (or CHROMIUM_PATH)
 * and a Chinese font; without them it fails saying how to install them.
 */
import '../setup';
import { pngSize, readJson, removeDir, runShooter, tempDir, writeText } from './files';
import { STATES, renderState } from './states';

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

const NAME = 'index-completed-long';
const SCREEN = { width: 375, height: 812 };

let dir = '';
afterAll(() => {
  if (dir) removeDir(dir);
});

it('draws the long result with copy and share on the first screen', async () => {
  const state = STATES.find((s) => s.name === NAME);
  if (!state) throw new Error(`no state ${NAME}`);
  dir = tempDir();
  writeText(`${dir}/${NAME}.body.html`, await renderState(state));

  const run = runShooter(
    ['--html', dir, '--out', dir, '--only', NAME, '--light-only', '--layout'],
    60_000,
  );
  if (run.status !== 0) throw new Error(`the shooter failed:\n${run.stderr || run.stdout}`);

  expect(pngSize(`${dir}/${NAME}.png`)).toMatchObject({ width: 750, height: 1624 }); // 2×
  const boxes = readJson(`${dir}/${NAME}.layout.json`) as Record<string, Box>;
  const onFirstScreen = (id: string) => {
    const b = boxes[id];
    expect(b).toBeDefined();
    expect(b!.width).toBeGreaterThan(40);
    expect(b!.y).toBeGreaterThanOrEqual(0);
    expect(b!.y + b!.height).toBeLessThanOrEqual(SCREEN.height);
  };
  onFirstScreen('copy-content');
  onFirstScreen('share');
  // ...while the text runs on under the bar and what follows it is below the fold.
  expect(boxes.content!.y + boxes.content!.height).toBeGreaterThan(boxes.actionbar!.y);
  expect(boxes['video-link']!.y).toBeGreaterThan(SCREEN.height);
  // The cover is a thumbnail, and the video link a single short line.
  expect(boxes.cover!.height).toBeLessThanOrEqual(120);
  expect(boxes['video-link']!.height).toBeLessThanOrEqual(24);
}, 90_000);
