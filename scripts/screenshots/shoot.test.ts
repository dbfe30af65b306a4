/**
 * The shooter's preconditions: a missing browser is an error that says how to install it, never
 * a silent pass. (The whole way, on one state, is miniprogram/test/screenshots/screenshots.test.ts.)
 */
import { findChromium } from './shoot';

const saved = { CHROMIUM_PATH: process.env.CHROMIUM_PATH, PATH: process.env.PATH };
afterEach(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

it('a CHROMIUM_PATH that does not exist fails with the install command', () => {
  process.env.CHROMIUM_PATH = '/nonexistent/chromium';
  expect(() => findChromium()).toThrow(
    /CHROMIUM_PATH=\/nonexistent\/chromium.*apt-get install -y chromium/,
  );
});

it('no chromium on PATH fails with the install command', () => {
  delete process.env.CHROMIUM_PATH;
  process.env.PATH = '/nonexistent';
  expect(() => findChromium()).toThrow(/No chromium on PATH.*apt-get install -y chromium/);
});

it('CHROMIUM_PATH wins over PATH', () => {
  process.env.CHROMIUM_PATH = process.execPath; // any existing file
  expect(findChromium()).toBe(process.execPath);
});
