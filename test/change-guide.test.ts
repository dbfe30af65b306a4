/**
 * What the change guide (docs/architecture.md, "Common changes, step by step") asks and the type
 * checker cannot see: a picture, a doc, a message that names the platforms. Each check names the
 * step that was missed.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CONFIG_KEYS } from '../shared/config';
import { ERROR_CODES, ERROR_MESSAGES, FAILURE_CODES } from '../shared/errors';
import { PLATFORMS, PLATFORM_LABELS } from '../shared/share-text';

const ROOT = path.join(__dirname, '..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');
const missing = (names: readonly string[], text: string) =>
  names.filter((name) => !new RegExp(`\\b${name}\\b`).test(text));

describe('a failure code', () => {
  it('is pictured: a state in miniprogram/test/screenshots/states.ts', () => {
    const states = read('miniprogram/test/screenshots/states.ts');
    expect(missing(FAILURE_CODES, states)).toEqual([]);
  });

  it('and every answer code is in the contracts of docs/architecture.md', () => {
    const doc = read('docs/architecture.md');
    expect(missing([...FAILURE_CODES, ...ERROR_CODES], doc)).toEqual([]);
  });
});

describe('a setting', () => {
  it('is described where an operator reads (operations, architecture or the README)', () => {
    const docs = ['docs/operations.md', 'docs/architecture.md', 'README.md'].map(read).join('\n');
    expect(missing(CONFIG_KEYS, docs)).toEqual([]);
  });
});

describe('a platform', () => {
  it('is named in the message that refuses an unsupported link', () => {
    const absent = PLATFORMS.filter(
      (p) => !ERROR_MESSAGES.UNSUPPORTED_PLATFORM.includes(PLATFORM_LABELS[p]),
    );
    expect(absent).toEqual([]);
  });

  it('has sample share texts in shared/fixtures/share-texts.json', () => {
    const { cases } = JSON.parse(read('shared/fixtures/share-texts.json')) as {
      cases: { platform?: string }[];
    };
    const sampled = new Set(cases.map((c) => c.platform));
    expect(PLATFORMS.filter((p) => !sampled.has(p))).toEqual([]);
  });

  it('is in the README, the download domains (operations) and the workflow guide', () => {
    // The docs name the apps in English: Douyin, Kuaishou, Xiaohongshu, Bilibili.
    const names = PLATFORMS.map((p) => p[0]!.toUpperCase() + p.slice(1));
    for (const file of ['README.md', 'docs/operations.md', 'docs/coze-workflow.md']) {
      expect({ file, missing: missing(names, read(file)) }).toEqual({ file, missing: [] });
    }
  });
});
