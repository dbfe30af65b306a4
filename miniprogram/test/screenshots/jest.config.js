/** `npm run screenshots`, step one: render every page state to HTML (capture.screens.ts). */
const path = require('node:path');

const root = path.join(__dirname, '..', '..', '..');

module.exports = {
  rootDir: root,
  roots: ['<rootDir>/miniprogram/test/screenshots'],
  testEnvironment: 'jsdom',
  setupFilesAfterEnv: ['<rootDir>/miniprogram/test/setup.ts'],
  testMatch: ['**/capture.screens.ts'],
  transform: {
    '^.+\\.ts$': [
      'ts-jest',
      { tsconfig: '<rootDir>/miniprogram/tsconfig.json', diagnostics: false },
    ],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
};
