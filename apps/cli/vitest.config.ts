import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The golden test runs every example; the property tests run many scenarios.
    testTimeout: 60_000,
  },
});
