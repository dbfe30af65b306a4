/**
 * Draws the tab bar's icons (miniprogram/images/tab-*.png) from the SVG below with headless
 * Chromium: 81×81 px, transparent, the size WeChat recommends for `tabBar` icons (at most 40 KB).
 * The PNGs are committed; run this only when the drawing changes:
 *
 *   tsx scripts/screenshots/tab-icons.ts
 *
 * One grey (#8a8a8a) reads on the light and the dark tab bar, so one set serves both themes.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { findChromium } from './shoot';

const OUT = path.resolve(__dirname, '..', '..', 'miniprogram', 'images');
const GREY = '#8a8a8a';
const GREEN = '#07c160';

/** 48×48 drawings: outlined when idle, filled when selected. */
const ICONS: Record<string, (active: boolean) => string> = {
  // A page of text: what the extract tab makes.
  extract: (active) => {
    const c = active ? GREEN : GREY;
    const lines = active ? '#fff' : c;
    return (
      `<rect x="10" y="5" width="28" height="38" rx="6" fill="${active ? c : 'none'}" stroke="${c}" stroke-width="3.2"/>` +
      `<path d="M17 16h14M17 23.5h14M17 31h8" stroke="${lines}" stroke-width="3.2" stroke-linecap="round"/>`
    );
  },
  // A clock: what was extracted before.
  history: (active) => {
    const c = active ? GREEN : GREY;
    const hands = active ? '#fff' : c;
    return (
      `<circle cx="24" cy="24" r="18" fill="${active ? c : 'none'}" stroke="${c}" stroke-width="3.2"/>` +
      `<path d="M24 14v11l7.5 5" fill="none" stroke="${hands}" stroke-width="3.2" stroke-linecap="round" stroke-linejoin="round"/>`
    );
  },
};

async function main(): Promise<void> {
  const browser = await chromium.launch({ executablePath: findChromium(), args: ['--no-sandbox'] });
  try {
    const tab = await browser.newPage({
      viewport: { width: 81, height: 81 },
      deviceScaleFactor: 1,
    });
    for (const [name, draw] of Object.entries(ICONS)) {
      for (const active of [false, true]) {
        const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="81" height="81" viewBox="0 0 48 48">${draw(active)}</svg>`;
        await tab.setContent(
          `<html><body style="margin:0;background:transparent">${svg}</body></html>`,
        );
        const file = path.join(OUT, `tab-${name}${active ? '-active' : ''}.png`);
        writeFileSync(file, await tab.screenshot({ omitBackground: true }));
        console.log(path.relative(process.cwd(), file));
      }
    }
  } finally {
    await browser.close();
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
