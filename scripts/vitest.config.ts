import { defineConfig } from 'vitest/config';

/** The repository's own tests (scripts/test): packaging, README examples, changesets. */
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
  },
});
