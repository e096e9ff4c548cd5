import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
    // Generous: npm test runs Playwright beside Vitest (scripts/test.mjs), so a heavy test may share its core.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores: integration tests that decode images or run models should not fight each other.
    fileParallelism: false,
  },
});
