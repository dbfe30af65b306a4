/**
 * Four projects:
 * - `unit`: the domain and the functions' logic (shared/, cloudfunctions/), in process;
 * - `miniprogram`: pages, components and services (jsdom);
 * - `stack`: the local stack (emulator/, standin/, console/), the scripts, the bench's accounting and the suites that run the built functions on it
 *   (emulator/, scripts/, test/: faults, fuzz);
 * - `miniprogram-stack`: the mini-program build and its end-to-end run against a real stack.
 * `npm run test:unit` selects the first two (the inner loop); `npm test` runs all four.
 *
 * Every project resolves modules through test/outside-guard.js and loads it in setupFiles: a test
 * that imports or reads a file beside the repository fails at once, not only on a fresh clone.
 */
const path = require('node:path');

// TypeScript through esbuild, types stripped (the typecheck is `npm run typecheck`): see the file.
const typescript = (tsconfig) => [
  '<rootDir>/test/esbuild-transform.js',
  { tsconfig: path.join(__dirname, tsconfig) },
];
// A test's default deadline, far above what any needs (most take milliseconds): a busy machine
// makes a test slower, never red. Tests that drive the local stack set their own, longer ones.
const TEST_TIMEOUT_MS = 60_000;
const guard = {
  resolver: '<rootDir>/test/outside-guard.js',
  setupFiles: ['<rootDir>/test/setup-guard.js'],
  testTimeout: TEST_TIMEOUT_MS,
};
const node = {
  ...guard,
  testEnvironment: 'node',
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': typescript('tsconfig.json') },
  moduleFileExtensions: ['ts', 'js', 'json'],
};
const miniprogram = {
  ...guard,
  testEnvironment: 'jsdom',
  setupFilesAfterEnv: ['<rootDir>/miniprogram/test/setup.ts'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': typescript('miniprogram/tsconfig.json') },
  moduleFileExtensions: ['ts', 'js', 'json'],
};

module.exports = {
  globalSetup: '<rootDir>/test/global-setup.js',
  // The longest files first, also on a fresh clone with no record of the last run.
  testSequencer: '<rootDir>/test/sequencer.js',
  testTimeout: TEST_TIMEOUT_MS,
  // Two workers even on two cores: most files wait on child processes and sockets, and the
  // longest file (the fault suite) then runs beside the rest instead of after it.
  maxWorkers: 2,
  projects: [
    { ...node, displayName: 'unit', roots: ['<rootDir>/shared', '<rootDir>/cloudfunctions'] },
    {
      ...miniprogram,
      displayName: 'miniprogram',
      roots: ['<rootDir>/miniprogram'],
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/miniprogram/test/'],
    },
    {
      ...node,
      displayName: 'stack',
      roots: [
        '<rootDir>/emulator',
        '<rootDir>/standin',
        '<rootDir>/console',
        '<rootDir>/scripts',
        '<rootDir>/test',
        '<rootDir>/bench',
      ],
    },
    { ...miniprogram, displayName: 'miniprogram-stack', roots: ['<rootDir>/miniprogram/test'] },
  ],
};
