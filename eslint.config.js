// Type-aware lint for src, test and bench (architecture.md §12).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import regexp from 'eslint-plugin-regexp';

export default tseslint.config(
  // The two JavaScript config files sit outside tsconfig, so type-aware rules cannot parse them.
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'coverage/**',
      'scripts/**',
      'eslint.config.js',
      '.dependency-cruiser.cjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  // A regex that backtracks super-linearly on a crafted jid or path blocks the only event loop
  // (issue 10, item 3): such patterns are errors, not warnings.
  // Only the safety rules: the recommended set is mostly style (\w over [A-Za-z0-9_], the i flag)
  // and flagged 68 places across every area.
  {
    plugins: { regexp },
    rules: {
      'regexp/no-super-linear-backtracking': 'error',
      'regexp/no-super-linear-move': 'error',
    },
  },
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  // The dashboard's browser scripts (ui/, issue 14): plain JavaScript outside tsconfig, served as
  // they are (no build step), so the type-aware rules cannot parse them; the browser's globals.
  {
    files: ['ui/**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      sourceType: 'module',
      globals: Object.fromEntries(
        [
          'AbortController',
          'TextDecoderStream',
          'document',
          'fetch',
          'sessionStorage',
          'setInterval',
          'setTimeout',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
);
