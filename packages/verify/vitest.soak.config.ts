import { defineConfig } from 'vitest/config';

/** The long soak (`pnpm --filter @rmaplab/verify test:soak`), outside `pnpm test`. */
export default defineConfig({
  test: {
    include: ['test/**/*.full.ts'],
    testTimeout: 60 * 60_000,
  },
});
