/**
 * The order jest starts the files in: the longest first, so the two workers end together instead
 * of one running the fault suite alone at the end. Jest knows a file's duration from its last run
 * (its cache); a fresh clone (CI) has none and jest would fall back to the file's size. There the
 * table below says what is long: seconds on a quiet 2-core machine, only their order matters.
 * A file that failed last time still goes first, as jest does it.
 */
const path = require('node:path');
const Sequencer = require('@jest/test-sequencer').default;

const ROOT = path.resolve(__dirname, '..');

/** Seconds, measured; a file not listed counts as short. Keep the heaviest ones here. */
const KNOWN_SECONDS = {
  'test/faults.test.ts': 42,
  'console/console.browser.test.ts': 22,
  'test/faults-kill.test.ts': 18,
  'miniprogram/test/screenshots/screenshots.test.ts': 10,
  'cloudfunctions/taskSweeper/handler.test.ts': 8,
  'miniprogram/pages/index/index.test.ts': 7,
  'scripts/demo.test.ts': 7,
  'console/server.test.ts': 6,
  'test/hardening.test.ts': 6,
  'scripts/smoke.test.ts': 6,
  'emulator/functions/functions.test.ts': 5,
};

class LongestFirst extends Sequencer {
  sort(tests) {
    const estimate = (test) => {
      const known = KNOWN_SECONDS[path.relative(ROOT, test.path).split(path.sep).join('/')];
      // jest's own record (ms) when it has one; else the table; else short.
      return this.time(test) ?? (known !== undefined ? known * 1000 : 0);
    };
    const keyed = tests.map((test) => ({
      test,
      failed: Boolean(this.hasFailed(test)),
      ms: estimate(test),
    }));
    keyed.sort((a, b) => Number(b.failed) - Number(a.failed) || b.ms - a.ms);
    return keyed.map((k) => k.test);
  }
}

module.exports = LongestFirst;
