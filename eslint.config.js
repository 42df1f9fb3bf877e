// Lint rules for the whole tree: typescript-eslint's recommended type-aware set, with the
// few rules this codebase decides otherwise on named and explained.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.charter/', '.scratch/', '.tools/', 'coverage/', '**/fixtures/**/*.mjs', 'test-results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { project: './tsconfig.lint.json', tsconfigRootDir: import.meta.dirname } },
    rules: {
      // Unused bindings are dead code; a leading underscore marks one that a signature requires.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // A promise nobody awaits loses its rejection: mark deliberate ones with `void`.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  // The console's front end is type-checked as browser code with its own tsconfig (DOM, JSX).
  {
    files: ['console/web/src/**/*.{ts,tsx}'],
    languageOptions: { parserOptions: { project: './console/web/tsconfig.json', tsconfigRootDir: import.meta.dirname } },
  },
  { files: ['**/*.js', '**/*.mjs'], ...tseslint.configs.disableTypeChecked },
);
