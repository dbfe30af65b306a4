/** Two projects: the node side (domain, functions, local stack, scripts) and the mini-program (jsdom). */
const tsJest = (tsconfig) => ['ts-jest', { tsconfig, diagnostics: false }];

module.exports = {
  globalSetup: '<rootDir>/test/global-setup.js',
  projects: [
    {
      displayName: 'node',
      testEnvironment: 'node',
      roots: [
        '<rootDir>/shared',
        '<rootDir>/cloudfunctions',
        '<rootDir>/emulator',
        '<rootDir>/console',
        '<rootDir>/standin',
        '<rootDir>/scripts',
        '<rootDir>/test',
      ],
      testMatch: ['**/*.test.ts'],
      transform: { '^.+\\.ts$': tsJest('<rootDir>/tsconfig.json') },
      moduleFileExtensions: ['ts', 'js', 'json'],
    },
    {
      displayName: 'miniprogram',
      testEnvironment: 'jsdom',
      roots: ['<rootDir>/miniprogram'],
      setupFilesAfterEnv: ['<rootDir>/miniprogram/test/setup.ts'],
      testMatch: ['**/*.test.ts'],
      transform: { '^.+\\.ts$': tsJest('<rootDir>/miniprogram/tsconfig.json') },
      moduleFileExtensions: ['ts', 'js', 'json'],
    },
  ],
};
