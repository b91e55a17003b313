// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // Generated output is never linted: cloud assemblies (`cdk synth` writes cdk.out, `cdk synth -o
  // cdk.<name>.out` any other; bundled Lambda code lands in their asset.* folders), the build,
  // coverage reports and the Python venvs. test/unit/eslint-config.test.ts asks ESLint itself.
  {
    ignores: [
      '**/node_modules/**',
      '**/cdk.out/**',
      '**/cdk.*.out/**',
      'dist/**',
      'coverage/**',
      '.venv/**',
      '.venv-moto/**',
      '.cache/**',
      'bench/results/**',
      '.scratch/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { console: 'readonly', process: 'readonly', Buffer: 'readonly' } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'off',
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // The web console runs in browsers (console/tsconfig.json type-checks it with the DOM library).
    files: ['console/**/*.{ts,tsx}'],
    languageOptions: {
      globals: { window: 'readonly', document: 'readonly', fetch: 'readonly', crypto: 'readonly', atob: 'readonly', btoa: 'readonly', TextEncoder: 'readonly', URL: 'readonly' },
    },
  },
);
