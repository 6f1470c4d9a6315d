// Lints the TypeScript sources and enforces the Nx module boundaries: apps never import apps,
// the cell never imports controller code, contracts and utils import nothing above them, and the
// dashboard (platform:browser) imports only libraries that run anywhere (platform:any), and only
// test files import the test fixtures of @paas/testing and the isolated platform of @paas/test-platform. The boundaries rule needs Nx's project
// graph: `npm run lint` (tools/lint.sh) makes it first, and fails without it.
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

const deepImports = { group: ['@paas/*/**'], message: 'import the library by its name (@paas/NAME): files inside it are not part of its interface' };

/** Where test code lives: only these files may import the test-only libraries @paas/testing and @paas/test-platform. */
const testFiles = ['**/*.spec.ts', '**/*.integration-spec.ts', '**/*.e2e-spec.ts', '**/*-test-support.ts', '**/testing/**', 'tools/test/**', 'tools/test-platform/**', 'tools/bench/**'];

export default [
  { ignores: ['**/dist/**', '**/node_modules/**', '**/generated/**', '.paas/**', 'examples/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // A library is imported by its name only (its package exports allow nothing else at run time).
      'no-restricted-imports': ['error', { patterns: [deepImports] }],
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:feature', 'type:data-access', 'type:contracts', 'type:util', 'type:test'] },
            // A test-only library (the isolated platform) stands on a feature; only test code may import it (below).
            { sourceTag: 'type:test', onlyDependOnLibsWithTags: ['type:feature', 'type:data-access', 'type:contracts', 'type:util'] },
            { sourceTag: 'type:feature', onlyDependOnLibsWithTags: ['type:data-access', 'type:contracts', 'type:util'] },
            { sourceTag: 'type:data-access', onlyDependOnLibsWithTags: ['type:data-access', 'type:contracts', 'type:util'] },
            { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:contracts', 'type:util'] },
            { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: ['type:contracts'] },
            { sourceTag: 'scope:controller', onlyDependOnLibsWithTags: ['scope:controller', 'scope:shared'] },
            { sourceTag: 'scope:cell', onlyDependOnLibsWithTags: ['scope:cell', 'scope:shared'] },
            { sourceTag: 'scope:router', onlyDependOnLibsWithTags: ['scope:router', 'scope:shared'] },
            { sourceTag: 'scope:cli', onlyDependOnLibsWithTags: ['scope:cli', 'scope:shared'] },
            { sourceTag: 'scope:dashboard', onlyDependOnLibsWithTags: ['scope:dashboard', 'scope:shared'] },
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
            { sourceTag: 'scope:tools', onlyDependOnLibsWithTags: ['scope:tools', 'scope:shared', 'scope:cell'] },
            // The dashboard runs in a browser: only what runs anywhere (contracts, the API client).
            { sourceTag: 'platform:browser', onlyDependOnLibsWithTags: ['platform:any'] },
            { sourceTag: 'platform:any', onlyDependOnLibsWithTags: ['platform:any'] }
          ]
        }
      ]
    }
  },
  {
    // Production code never loads a test fixture: @paas/testing and @paas/test-platform are for the files above only.
    files: ['**/*.ts', '**/*.tsx'],
    ignores: testFiles,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: '@paas/testing', message: '@paas/testing holds test fixtures: only specs, *-test-support.ts, testing/ folders, tools/test, tools/test-platform and tools/bench may import it' },
            { name: '@paas/test-platform', message: '@paas/test-platform is the isolated test platform: only specs, *-test-support.ts, testing/ folders, tools/test, tools/test-platform and tools/bench may import it' },
          ],
          patterns: [deepImports],
        },
      ],
    },
  },
];
