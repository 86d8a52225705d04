// Latchkey's ESLint rules. The root eslint.config.js re-exports this file so
// that these imports resolve from tools/lint/node_modules: typescript-eslint
// needs TypeScript's JavaScript API (TypeScript 6.0, installed here), which
// the project's own TypeScript 7 no longer has.
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import security from 'eslint-plugin-security';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/', 'test/artifacts/', 'artifacts/', '.latchkey/'] },
  js.configs.recommended,
  security.configs.recommended,
  {
    rules: {
      // Flags every obj[key] with a non-literal key: hundreds of hits on typed
      // maps and arrays, none of them a request-chosen key reaching a prototype.
      'security/detect-object-injection': 'off',
      // Flags every fs call with a non-literal path; ours come from config
      // (DATA_DIR), the project's own folders or a test's temporary folder.
      'security/detect-non-literal-fs-filename': 'off',
    },
  },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommended],
    rules: {
      // `_name` marks a value left out on purpose (a destructured field dropped, a required parameter).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    // The promise rules need types: a forgotten await in an identity server is
    // a check that silently does not happen. Only these, as the full
    // type-checked set mostly flags oidc-provider's and pg's own `any`s and
    // would triple the lint time.
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: fileURLToPath(new URL('../..', import.meta.url)) } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Tests read untyped JSON answers and reach into internals on purpose.
      '@typescript-eslint/no-explicit-any': 'off',
      // Tests build patterns from values they made themselves (escaped ids, names).
      'security/detect-non-literal-regexp': 'off',
    },
  },
  {
    files: ['bin/**/*.js', '*.js', 'tools/**/*.js'],
    languageOptions: { globals: globals.node },
  },
  {
    // Served to the browser as they are (no bundler).
    files: ['views/static/**/*.js'],
    languageOptions: { globals: globals.browser, sourceType: 'script' },
  },
);
