import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export default defineConfig({
  plugins: [react()],
  // Relative asset URLs: the built site works from any folder or static host.
  base: './',
  server: {
    host: '127.0.0.1',
    // The examples library imports ../../examples/*.rmap, outside this package.
    fs: { allow: [repoRoot] },
  },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 1500,
  },
});
