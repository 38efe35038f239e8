import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The kernel runs fork real processes and drive the machine-wide KSM: one file at a time.
    fileParallelism: false,
    testTimeout: 120_000,
  },
});
