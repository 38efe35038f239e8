import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['e2e/**/*.test.ts'],
    environment: 'node',
    // One browser, one server: the e2e tests share them and run in order.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // The app answers through its worker: on a shared 2-CPU machine a run can take seconds.
    expect: { poll: { timeout: 20_000 } },
  },
});
