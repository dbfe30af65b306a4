/**
 * Step two of `npm run screenshots`: draws each state rendered by
 * miniprogram/test/screenshots/capture.screens.ts (its HTML, from the real WXML) with the real
 * WXSS in headless Chromium, light and dark, and writes PNGs (375×812 CSS px at 2×).
 *
 * The WXSS is compiled with miniprogram-simulate's own class prefixing (so it matches the DOM),
 * rpx becomes px at 375 px wide (1rpx = 0.5px), and WeChat's parts are approximated: built-in
 * components (button, textarea, progress, image, icon) in WeUI 2 metrics, and the status bar and
 * navigation bar (title from the page's .json, colours from theme.json, the capsule).
 *
 * A tab page is drawn as WeChat lays it out: the page's own window between the navigation bar and
 * the tab bar (from app.json `tabBar`, icons from its PNGs), so a `position: fixed` bar at the
 * bottom sits on top of the tab bar, not under it.
 *
 * Its flags: `tsx scripts/screenshots/shoot.ts --help` (SHOOT_COMMAND below).
 *
 * --layout also writes <name>.layout.json: the box of every element with an id, for tests.
 * A full run also writes manifest.json beside the pictures: for every picture, a digest of what
 * it was drawn from (the whole page document: rendered WXML, compiled WXSS, frame, theme,
 * icons, plus this file) and of the PNG itself. --check draws nothing: it recomputes the inputs
 * from freshly rendered HTML and says which committed pictures are stale (their input changed,
 * their PNG is missing or not the one recorded, or their state is gone). Exit 1 when any is.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { commandLineOrExit } from '../cli';

const ROOT = path.resolve(__dirname, '..', '..');
const MP = path.join(ROOT, 'miniprogram');
// eslint-disable-next-line @typescript-eslint/no-require-imports -- an untyped CommonJS file
const wxss = require('miniprogram-simulate/src/wxss.js') as {
  compile(source: string, options: { prefix: string }): string;
};

export const VIEWPORT = { width: 375, height: 812 };
/** The status bar and the navigation bar above the page. */
const TOP_BARS = 88;
/** The tab bar below a tab page: 50 px of tabs and 34 px over the home indicator. */
const TAB_BAR = 84;
export type Scheme = 'light' | 'dark';

export interface ShotOptions {
  htmlDir: string;
  outDir: string;
  /** state names to draw; all in the manifest when absent */
  only?: string[];
  schemes?: Scheme[];
  /** write <name>.layout.json beside the pictures */
  layout?: boolean;
  /** write manifest.json (the digests the staleness check compares) */
  record?: boolean;
}

interface ManifestEntry {
  name: string;
  page: 'index' | 'history' | 'shared';
  caption: string;
  fullPage: boolean;
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

const HOW_TO_INSTALL_CHROMIUM =
  'Chromium is needed to draw the screenshots: install it with `apt-get install -y chromium` ' +
  '(Debian), or set CHROMIUM_PATH to a Chromium or Chrome binary.';
const HOW_TO_INSTALL_FONT =
  'A Chinese font is needed, or every character is drawn as a box: install one with ' +
  '`apt-get install -y fonts-noto-cjk` (Debian).';

/** CHROMIUM_PATH, else `chromium` (or `chromium-browser`) on PATH; a clear error otherwise. */
export function findChromium(): string {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv))
      throw new Error(`CHROMIUM_PATH=${fromEnv} does not exist. ${HOW_TO_INSTALL_CHROMIUM}`);
    return fromEnv;
  }
  // What `which chromium` answers, without depending on `which` itself.
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  for (const name of ['chromium', 'chromium-browser']) {
    for (const dir of dirs) {
      const candidate = path.join(dir, name);
      try {
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        // not here
      }
    }
  }
  throw new Error(`No chromium on PATH. ${HOW_TO_INSTALL_CHROMIUM}`);
}

/** Fails unless fontconfig knows a font that covers Chinese. */
export function checkChineseFont(): void {
  const res = spawnSync('fc-list', [':lang=zh', 'family'], { encoding: 'utf8' });
  if (res.status !== 0 || res.stdout.trim() === '') throw new Error(HOW_TO_INSTALL_FONT);
}

const rpx = (css: string) =>
  css.replace(/(-?\d*\.?\d+)rpx/g, (_, n: string) => `${Number(n) / 2}px`);
const read = (rel: string) => readFileSync(path.join(MP, rel), 'utf8');
const compileWxss = (rel: string, prefix: string) => rpx(wxss.compile(read(rel), { prefix }));

function styles(page: ManifestEntry['page']): string {
  // app.wxss is global and unprefixed; its `page` is the document.
  const app = rpx(read('app.wxss')).replace(/(^|[\s}])page(\s*\{)/g, '$1body$2');
  const own = compileWxss(`pages/${page}/${page}.wxss`, 'main');
  // Each component the page uses, prefixed with its tag as simulate renders it.
  const using =
    (JSON.parse(read(`pages/${page}/${page}.json`)) as { usingComponents?: Record<string, string> })
      .usingComponents ?? {};
  const components = Object.entries(using)
    .map(([tag, rel]) => compileWxss(`${path.posix.join(`pages/${page}`, rel)}.wxss`, tag))
    .join('\n');
  return `${BUILTINS}\n${app}\n${components}\n${own}`;
}

// WeChat's built-in components, style v2 (WeUI 2 metrics), and the frame WeChat draws.
const BUILTINS = `
*{-webkit-tap-highlight-color:transparent}
html,body{margin:0;padding:0}
body{width:375px;min-height:812px;-webkit-font-smoothing:antialiased}
body{font-family:-apple-system,'PingFang SC','Noto Sans CJK SC','Noto Sans SC',sans-serif !important}
.wx-root{display:block}
.wx-view{display:block}
.wx-text{display:inline;white-space:pre-wrap}
.wx-custom{display:contents}
.wx-btn{position:relative;display:block;box-sizing:border-box;width:184px;margin:0 auto;padding:12px 24px;
  font-size:17px;font-weight:700;line-height:1.41176471;text-align:center;border:0;border-radius:8px;
  color:#06ae56;background:#f2f2f2;font-family:inherit;overflow:hidden;white-space:nowrap;cursor:default}
.wx-btn--primary{color:#fff;background:#07c160}
.wx-btn--warn{color:#fa5151}
.wx-btn--mini{display:inline-block;width:auto;padding:0 1.34em;line-height:2.3;font-size:13px;border-radius:4px}
.wx-btn--disabled{opacity:.6}
.wx-btn__loading{display:inline-block;width:16px;height:16px;margin-right:8px;vertical-align:-2px;border-radius:50%;
  border:2px solid rgba(255,255,255,.4);border-top-color:#fff;box-sizing:border-box}
.wx-btn:not(.wx-btn--primary) .wx-btn__loading{border-color:rgba(0,0,0,.15);border-top-color:#07c160}
.wx-textarea{display:block;box-sizing:border-box;width:300px;height:150px;padding:0;border:0;outline:0;resize:none;
  background:transparent;font:inherit;color:inherit}
.wx-textarea::placeholder{color:var(--fg-3)}
.wx-input{display:block;box-sizing:border-box;min-width:0;padding:0;border:0;outline:0;background:transparent;
  font:inherit;color:inherit}
.wx-input::placeholder{color:var(--fg-3)}
.wx-progress{display:flex;align-items:center}
.wx-progress__bar{flex:1;overflow:hidden}
.wx-progress__inner{height:100%}
.wx-image{display:block;width:320px;height:240px;object-fit:cover}
.wx-icon{display:inline-block;line-height:0;vertical-align:middle}
@media (prefers-color-scheme: dark){
  .wx-btn{background:rgba(255,255,255,.08);color:#06ad56}
  .wx-btn--primary{background:#06ad56;color:#fff}
}
.frame{position:relative;z-index:50}
.frame-page{position:relative;transform:translateZ(0);overflow:hidden}
.frame-tabs{position:fixed;left:0;right:0;bottom:0;z-index:50;height:84px;box-sizing:border-box;display:flex;align-items:flex-start}
.frame-tabs .tab{flex:1;height:50px;display:flex;flex-direction:column;align-items:center;justify-content:center;font-size:10px;line-height:1.2}
.frame-tabs .tab img{width:27px;height:27px;margin-bottom:2px}
.frame-status{height:44px;display:flex;align-items:center;justify-content:space-between;padding:0 26px 0 32px;
  font:600 15px -apple-system,'Liberation Sans',sans-serif}
.frame-status .bat{display:inline-block;width:22px;height:10px;border:1.5px solid currentColor;border-radius:3px;
  position:relative;margin-left:6px;vertical-align:-1px}
.frame-status .bat::after{content:'';position:absolute;left:1.5px;top:1.5px;bottom:1.5px;width:70%;background:currentColor;border-radius:1px}
.frame-nav{position:relative;height:44px;display:flex;align-items:center;justify-content:center;font-size:17px;font-weight:500}
.frame-nav .back{position:absolute;left:8px;top:6px;font-size:30px;line-height:30px;font-weight:300}
.frame-nav .home{left:12px;top:8px;font-size:22px;line-height:28px}
.frame-nav .capsule{position:absolute;right:7px;top:6px;width:87px;height:32px;border-radius:16px;box-sizing:border-box;
  display:flex;align-items:center;font-size:14px}
.frame-nav .capsule span{flex:1;text-align:center;font-weight:700;letter-spacing:1px}
.frame-nav .capsule i{width:.5px;height:18px}
`;

type Theme = Record<string, string> & { navBg: string; navText: string };

function theme(scheme: Scheme): Theme {
  const t = JSON.parse(read('theme.json')) as Record<Scheme, Theme>;
  return t[scheme];
}

/** A value of app.json: `@name` is a variable of theme.json. */
function themed(value: string | undefined, t: Theme): string {
  return value?.startsWith('@') ? (t[value.slice(1)] ?? '') : (value ?? '');
}

interface TabBar {
  color?: string;
  selectedColor?: string;
  backgroundColor?: string;
  borderStyle?: string;
  list: { pagePath: string; text: string; iconPath?: string; selectedIconPath?: string }[];
}

function tabBar(): TabBar | null {
  const app = JSON.parse(read('app.json')) as { tabBar?: TabBar };
  return app.tabBar ?? null;
}

const isTabPage = (page: ManifestEntry['page']) =>
  tabBar()?.list.some((t) => t.pagePath === `pages/${page}/${page}`) ?? false;

const pngData = (rel: string) =>
  `data:image/png;base64,${readFileSync(path.join(MP, rel)).toString('base64')}`;

/** The tab bar as WeChat draws it, the page's own tab selected. */
function tabBarHtml(page: ManifestEntry['page'], t: Theme): string {
  const bar = tabBar();
  if (!bar) return '';
  const border = themed(bar.borderStyle, t) === 'white' ? 'rgba(255,255,255,.1)' : 'rgba(0,0,0,.1)';
  const tabs = bar.list
    .map((tab) => {
      const on = tab.pagePath === `pages/${page}/${page}`;
      const icon = on ? (tab.selectedIconPath ?? tab.iconPath) : tab.iconPath;
      const color = themed(on ? bar.selectedColor : bar.color, t);
      return `<div class="tab" style="color:${color}">${icon ? `<img src="${pngData(icon)}" alt="">` : ''}<span>${tab.text}</span></div>`;
    })
    .join('');
  return `<div class="frame-tabs" style="background:${themed(bar.backgroundColor, t)};border-top:.5px solid ${border}">${tabs}</div>`;
}

/** The height of the page's own window: the screen less the bars WeChat draws. */
function pageArea(page: ManifestEntry['page']): number {
  return VIEWPORT.height - TOP_BARS - (isTabPage(page) ? TAB_BAR : 0);
}

function navTitle(page: ManifestEntry['page']): string {
  const own = JSON.parse(read(`pages/${page}/${page}.json`)) as { navigationBarTitleText?: string };
  const app = JSON.parse(read('app.json')) as { window?: { navigationBarTitleText?: string } };
  return own.navigationBarTitleText ?? app.window?.navigationBarTitleText ?? '';
}

/** Stand-ins for the covers (the fixtures' links point nowhere): a gradient "frame" each. */
const GRADIENTS = [
  ['#f6a45a', '#c94b7c'],
  ['#5aa9f6', '#4b5fc9'],
  ['#7fd3a0', '#2f8f83'],
  ['#f3d36b', '#e07a3f'],
];
function coverFor(url: string): string {
  let h = 0;
  for (const ch of url) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  const [a, b] = GRADIENTS[h % GRADIENTS.length]!;
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="300" height="400" viewBox="0 0 300 400">` +
    `<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="${a}"/>` +
    `<stop offset="1" stop-color="${b}"/></linearGradient></defs><rect width="300" height="400" fill="url(#g)"/>` +
    `<circle cx="150" cy="200" r="34" fill="rgba(255,255,255,.35)"/><path d="M140 182 L168 200 L140 218 Z" fill="#fff"/></svg>`;
  return `data:image/svg+xml;utf8,${encodeURIComponent(svg)}`;
}

/** The whole document a picture is drawn from (its digest is the picture's input). */
export function pageHtml(entry: ManifestEntry, body: string, scheme: Scheme): string {
  const t = theme(scheme);
  const fg = t.navText === 'white' ? '#fff' : '#000';
  const capsuleBg = scheme === 'dark' ? 'rgba(0,0,0,.15)' : 'rgba(255,255,255,.6)';
  const capsuleLine = scheme === 'dark' ? 'rgba(255,255,255,.25)' : 'rgba(0,0,0,.15)';
  const withCovers = body.replace(
    /src="(https?:\/\/[^"]+)"/g,
    (_, url: string) => `src="${coverFor(url)}"`,
  );
  // A tab page is a root: no way back. The shared page is opened from a share card, the first
  // page of the app: WeChat draws its home button there instead of a back arrow.
  const back = isTabPage(entry.page)
    ? ''
    : entry.page === 'shared'
      ? '<span class="back home">⌂</span>'
      : '<span class="back">‹</span>';
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=375">
<style>${styles(entry.page)}</style>
<style>.frame{background:${t.navBg};color:${fg}}.frame-nav .capsule{background:${capsuleBg};border:.5px solid ${capsuleLine}}
.frame-nav .capsule i{background:${capsuleLine}}.frame-page{height:${pageArea(entry.page)}px}
${isTabPage(entry.page) ? `body{padding-bottom:${TAB_BAR}px}` : ''}</style></head>
<body><div class="frame"><div class="frame-status"><span>14:00</span><span>••• <i class="bat"></i></span></div>
<div class="frame-nav">${back}${navTitle(entry.page)}<div class="capsule"><span>···</span><i></i><span>◉</span></div></div></div>
<div class="frame-page">${withCovers}</div>
${isTabPage(entry.page) ? tabBarHtml(entry.page, t) : ''}
</body></html>`;
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** What decides a picture besides its document: how this file draws it. */
const SHOOTER_DIGEST = sha256(readFileSync(__filename));

/** The input digest of one picture: its document, the drawing code, and which shot it is. */
export function inputDigest(document: string, shot: 'screen' | 'full'): string {
  return sha256(`${SHOOTER_DIGEST}\n${shot}\n${VIEWPORT.width}x${VIEWPORT.height}@2\n${document}`);
}

/** docs/screenshots/manifest.json: per picture file, its input digest and the PNG's digest. */
export interface ShotManifest {
  note: string;
  pictures: Record<string, { input: string; png: string }>;
}

const MANIFEST_NOTE =
  'Written by npm run screenshots: per picture, a digest of what it was drawn from and of the PNG. ' +
  'The test miniprogram/test/screenshots/screenshots.test.ts fails when a picture is stale.';

function readShotManifest(dir: string): ShotManifest {
  const file = path.join(dir, 'manifest.json');
  if (!existsSync(file)) return { note: MANIFEST_NOTE, pictures: {} };
  return JSON.parse(readFileSync(file, 'utf8')) as ShotManifest;
}

function writeShotManifest(dir: string, pictures: ShotManifest['pictures']): void {
  const sorted = Object.fromEntries(
    Object.entries(pictures).sort(([a], [b]) => a.localeCompare(b)),
  );
  writeFileSync(
    path.join(dir, 'manifest.json'),
    JSON.stringify({ note: MANIFEST_NOTE, pictures: sorted }, null, 2) + '\n',
  );
}

/** The pictures one state makes, with the document and the kind of shot of each. */
function picturesOf(
  entry: ManifestEntry,
  body: string,
  schemes: Scheme[],
): { file: string; scheme: Scheme; shot: 'screen' | 'full'; document: string }[] {
  const out: { file: string; scheme: Scheme; shot: 'screen' | 'full'; document: string }[] = [];
  for (const scheme of schemes) {
    const document = pageHtml(entry, body, scheme);
    out.push({
      file: `${entry.name}${scheme === 'dark' ? '-dark' : ''}.png`,
      scheme,
      shot: 'screen',
      document,
    });
    if (entry.fullPage && scheme === 'light') {
      out.push({ file: `${entry.name}-full.png`, scheme, shot: 'full', document });
    }
  }
  return out;
}

function readManifest(htmlDir: string): ManifestEntry[] {
  const file = path.join(htmlDir, 'manifest.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as ManifestEntry[];
  // Without a manifest (a single state rendered by a test): every body file, pages by name.
  return readdirSync(htmlDir)
    .filter((f) => f.endsWith('.body.html'))
    .map((f) => f.replace(/\.body\.html$/, ''))
    .map((name) => ({
      name,
      page: (['history', 'shared'] as const).find((p) => name.startsWith(p)) ?? 'index',
      caption: name,
      fullPage: false,
    }));
}

const LAYOUT_SCRIPT = `(() => {
  const out = {};
  for (const el of document.querySelectorAll('[id]')) {
    const r = el.getBoundingClientRect();
    out[el.id] = { x: r.x, y: r.y, width: r.width, height: r.height };
  }
  return out;
})()`;

async function layoutOf(tab: Page): Promise<Record<string, Box>> {
  return (await tab.evaluate(LAYOUT_SCRIPT)) as Record<string, Box>;
}

/** Draws the states; the files written, in order. */
export async function shoot(options: ShotOptions): Promise<string[]> {
  const executablePath = findChromium();
  checkChineseFont();
  const schemes = options.schemes ?? ['light', 'dark'];
  const all = readManifest(options.htmlDir);
  const entries = all.filter((e) => !options.only || options.only.includes(e.name));
  if (entries.length === 0) throw new Error(`no rendered states in ${options.htmlDir}`);
  mkdirSync(options.outDir, { recursive: true });
  const written: string[] = [];
  const recorded: ShotManifest['pictures'] = {};
  const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
  try {
    for (const scheme of schemes) {
      const ctx = await browser.newContext({
        viewport: VIEWPORT,
        deviceScaleFactor: 2,
        colorScheme: scheme,
        reducedMotion: 'reduce',
      });
      // Never the network: the pictures are made from files and data: links only.
      await ctx.route('**/*', (route) => {
        const url = route.request().url();
        return url.startsWith('data:') || url.startsWith('about:')
          ? route.continue()
          : route.abort();
      });
      const tab = await ctx.newPage();
      for (const entry of entries) {
        const body = readFileSync(path.join(options.htmlDir, `${entry.name}.body.html`), 'utf8');
        for (const pic of picturesOf(entry, body, [scheme])) {
          const file = path.join(options.outDir, pic.file);
          await tab.setViewportSize(VIEWPORT);
          await tab.setContent(pic.document, { waitUntil: 'load' });
          // (Browser-side code as text: this file is typed for Node, without the DOM.)
          await tab.evaluate('document.fonts.ready.then(() => true)');
          if (pic.shot === 'full') {
            // The page's window as tall as the page, so fixed parts (the action bar) sit where
            // they would at the end of the scroll, not in the middle of the picture.
            const area = pageArea(entry.page);
            const height = Number(
              await tab.evaluate(`(() => {
                const page = document.querySelector('.frame-page');
                page.style.height = 'auto';
                page.style.minHeight = '${area}px';
                return document.documentElement.scrollHeight;
              })()`),
            );
            await tab.setViewportSize({
              width: VIEWPORT.width,
              height: Math.max(VIEWPORT.height, height),
            });
          }
          await tab.screenshot({ path: file, animations: 'disabled' });
          written.push(file);
          recorded[pic.file] = {
            input: inputDigest(pic.document, pic.shot),
            png: sha256(readFileSync(file)),
          };
          if (options.layout && pic.shot === 'screen') {
            const suffix = scheme === 'dark' ? '-dark' : '';
            const layoutFile = path.join(options.outDir, `${entry.name}${suffix}.layout.json`);
            writeFileSync(layoutFile, JSON.stringify(await layoutOf(tab), null, 1));
            written.push(layoutFile);
          }
        }
      }
      await ctx.close();
    }
  } finally {
    await browser.close();
  }
  if (options.record) {
    // A run of every state in both schemes replaces the record; a partial one updates it.
    const complete = !options.only && schemes.length === 2;
    const before = complete ? {} : readShotManifest(options.outDir).pictures;
    writeShotManifest(options.outDir, { ...before, ...recorded });
    written.push(path.join(options.outDir, 'manifest.json'));
  }
  return written;
}

/**
 * The committed pictures that no longer match what the states render, each with why. Reads the
 * rendered HTML in `htmlDir` and the pictures and manifest in `picturesDir`; draws nothing.
 */
export function stalePictures(htmlDir: string, picturesDir: string): string[] {
  const recorded = readShotManifest(picturesDir).pictures;
  const problems: string[] = [];
  const expected = new Set<string>();
  for (const entry of readManifest(htmlDir)) {
    const body = readFileSync(path.join(htmlDir, `${entry.name}.body.html`), 'utf8');
    for (const pic of picturesOf(entry, body, ['light', 'dark'])) {
      expected.add(pic.file);
      const record = recorded[pic.file];
      const file = path.join(picturesDir, pic.file);
      if (!record) problems.push(`${pic.file}: not drawn yet`);
      else if (record.input !== inputDigest(pic.document, pic.shot))
        problems.push(`${pic.file}: the page changed since it was drawn`);
      else if (!existsSync(file)) problems.push(`${pic.file}: missing`);
      else if (sha256(readFileSync(file)) !== record.png)
        problems.push(`${pic.file}: not the picture npm run screenshots drew`);
    }
  }
  for (const name of Object.keys(recorded)) {
    if (!expected.has(name)) problems.push(`${name}: no state draws it any more`);
  }
  for (const name of readdirSync(picturesDir)) {
    if (name.endsWith('.png') && !expected.has(name) && !recorded[name])
      problems.push(`${name}: no state draws it`);
  }
  return problems;
}

const SHOOT_COMMAND = {
  name: 'tsx scripts/screenshots/shoot.ts',
  usage: `usage: tsx scripts/screenshots/shoot.ts [--html DIR] [--out DIR] [--only a,b] [--light-only] [--layout]
       tsx scripts/screenshots/shoot.ts --html DIR --check DIR
  --html DIR     the states' HTML (default .data/screenshots/html)
  --out DIR      where the pictures go (default docs/screenshots)
  --only a,b     these states only
  --light-only   the light scheme only
  --layout       layout check into a temporary folder; the record is left alone
  --check DIR    exit 1 when a committed picture in DIR is stale
  -h, --help     this text`,
  options: {
    html: { type: 'string' },
    out: { type: 'string' },
    only: { type: 'string' },
    check: { type: 'string' },
    'light-only': { type: 'boolean' },
    layout: { type: 'boolean' },
  },
  allowPositionals: false,
} as const;

async function main(): Promise<void> {
  const { values } = commandLineOrExit(SHOOT_COMMAND);
  const htmlDir = path.resolve(values.html ?? path.join(ROOT, '.data', 'screenshots', 'html'));
  const check = values.check;
  if (check !== undefined) {
    const stale = stalePictures(htmlDir, path.resolve(check));
    if (stale.length === 0) {
      console.log(`screenshots are up to date (${path.relative(ROOT, path.resolve(check))})`);
      return;
    }
    console.error(
      `${stale.length} committed screenshot${stale.length > 1 ? 's are' : ' is'} stale; run \`npm run screenshots\` and commit docs/screenshots/:`,
    );
    for (const line of stale) console.error(`  - ${line}`);
    process.exit(1);
  }
  const only = values.only;
  const outDir = path.resolve(values.out ?? path.join(ROOT, 'docs', 'screenshots'));
  const written = await shoot({
    htmlDir,
    outDir,
    ...(only ? { only: only.split(',') } : {}),
    schemes: values['light-only'] ? ['light'] : ['light', 'dark'],
    layout: values.layout === true,
    // The record belongs to the committed pictures; a test drawing into a temp dir skips it.
    record: values.layout !== true,
  });
  for (const f of written) console.log(path.relative(ROOT, f));
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
