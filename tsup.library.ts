import { defineConfig } from 'tsup';

/** The build every library package shares: ESM plus `.d.ts` from `src/index.ts`. */
export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
});
