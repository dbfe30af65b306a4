import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.data/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-console': 'off',
    },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { globals: globals.node },
  },
  {
    // Plain CommonJS: jest's config and global setup.
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The emulator is a generic CloudBase emulator any project could use: nothing of this product.
    // The product mounts its parts (the Coze stand-in) from scripts/local-stack.ts.
    files: ['emulator/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['shared', 'cloudfunctions', 'standin', 'scripts'].flatMap((dir) => [
                `**/${dir}`,
                `**/${dir}/**`,
              ]),
              message: 'emulator/ is generic: it imports nothing from the product.',
            },
          ],
        },
      ],
    },
  },
  {
    // The domain is shared by the functions, the client and the local stack: no platform imports.
    files: ['shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                'wx-server-sdk',
                'node:*',
                'fs',
                'http',
                'https',
                'net',
                'child_process',
                'axios',
                'ws',
                'mingo',
              ],
              message: 'shared/ is pure domain code: no platform or I/O imports.',
            },
          ],
        },
      ],
    },
  },
  {
    // The console page: browser ES modules served as they are (no build step).
    files: ['console/page/**/*.js'],
    languageOptions: { sourceType: 'module', globals: globals.browser },
  },
);
