// Lint: the README's folder table as import rules (what may import what), plus ESLint's and
// typescript-eslint's recommended rules. Formatting is Prettier's job, not ESLint's.
import { builtinModules } from 'node:module';
import { defineConfig, globalIgnores } from 'eslint/config';
import { builtinRules } from 'eslint/use-at-your-own-risk';
import tseslint from 'typescript-eslint';
import svelte from 'eslint-plugin-svelte';
import svelteConfig from './svelte.config.js';

// ESLint's own recommended set, from the rules' metadata (what @eslint/js ships as
// configs.recommended), so that package is not needed.
const eslintRecommended = Object.fromEntries(
  [...builtinRules].filter(([, rule]) => rule.meta?.docs?.recommended).map(([name]) => [name, 'error']),
);

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const NODE = {
  regex: `^(node:|(${builtinModules.map(escape).join('|')})(/|$))`,
  message: 'Node built-ins are not available here (see the folder table in README.md).',
};
const ELECTRON = { regex: '^electron(/|$)', message: 'Electron is only for electron/main and electron/preload.' };
/**
 * Relative imports into a sibling folder of electron/: `(../)+name/`. No folder inside these
 * folders is named core, main, host, preload or shared, so the pattern cannot mistake one for them.
 */
const folder = (names, why) => ({ regex: `^(\\.\\./)+(${names.join('|')})(/|$)`, message: why });
const fromRenderer = (names) => ({
  regex: `(^|/)electron/(${names.join('|')})(/|$)`,
  message: 'The page reaches the app only through the contract in electron/shared.',
});
const layer = (files, patterns) => ({ files, rules: { 'no-restricted-imports': ['error', { patterns }] } });

export default defineConfig([
  globalIgnores([
    'dist/**',
    'build/models/**',
    'native/electron/**',
    'test-results/**',
    'playwright-report/**',
    'electron/core/export/templates/**',
  ]),
  { files: ['**/*.{js,mjs,cjs,ts,svelte}'], rules: eslintRecommended },
  ...tseslint.configs.recommended,
  ...svelte.configs.recommended,
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'], svelteConfig } },
  },
  {
    // Plain JavaScript (scripts, bin, configs) runs in Node; TypeScript files are checked by tsc instead.
    files: ['**/*.{js,mjs,cjs}'],
    languageOptions: {
      globals: Object.fromEntries(
        ['process', 'console', 'Buffer', 'URL', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'fetch'].map((g) => [
          g,
          'readonly',
        ]),
      ),
    },
  },
  {
    rules: {
      // Unused arguments and `_`-prefixed names are deliberate (handler signatures, destructuring).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { args: 'none', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
      // Names and paths are refused when they contain control characters, which takes a regex that has them.
      'no-control-regex': 'off',
    },
  },
  {
    files: ['**/*.svelte'],
    // svelte-check type-checks components, undefined names included (DOM types, timers).
    rules: { 'no-undef': 'off' },
  },
  {
    files: ['renderer/**/*.svelte.ts'],
    // The state modules keep plain Maps and Sets on purpose: they replace them or bump a $state
    // version counter on change, so readers re-run once per change, not once per entry.
    rules: { 'svelte/prefer-svelte-reactivity': 'off' },
  },
  {
    files: ['test/**'],
    // Tests edit model.json and other untyped JSON in place.
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },

  // What may import what (README.md, "Architecture").
  layer(
    ['renderer/**'],
    [
      NODE,
      ELECTRON,
      fromRenderer(['core', 'main', 'host', 'preload']),
      { regex: '(^|/)(native|scripts|build|test)/', message: 'The page reaches the app only through the contract in electron/shared.' },
    ],
  ),
  layer(
    ['electron/shared/**'],
    [NODE, ELECTRON, folder(['core', 'main', 'host', 'preload'], 'The contract stands alone: both sides import it.')],
  ),
  layer(['electron/core/**'], [ELECTRON, folder(['main', 'host', 'preload'], 'The core is used by the hosts, never the other way round.')]),
  layer(
    ['electron/main/**'],
    [folder(['host', 'preload'], 'Electron main does not use the web host; move what both need to electron/core or electron/shared.')],
  ),
  layer(['electron/preload/**'], [NODE, folder(['core', 'main', 'host'], 'The sandboxed preload bundles only itself and the contract.')]),
  layer(['electron/host/**'], [ELECTRON, folder(['main', 'preload'], 'The web host and the CLI run without Electron.')]),
]);
