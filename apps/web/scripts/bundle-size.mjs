// Reports the production bundle's size after `vite build`: raw and gzipped bytes of every JS and CSS asset.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const dir = new URL('../dist/assets/', import.meta.url);
let raw = 0;
let gz = 0;
const rows = [];
for (const name of readdirSync(dir).sort()) {
  if (!/\.(js|css)$/.test(name)) continue;
  const bytes = readFileSync(join(dir.pathname, name));
  const z = gzipSync(bytes, { level: 9 }).length;
  raw += bytes.length;
  gz += z;
  rows.push(`  ${name.padEnd(40)} ${String(bytes.length).padStart(9)} B  ${String(z).padStart(8)} B gzip`);
}
console.log(
  `bundle size (dist/assets):\n${rows.join('\n')}\n  total ${raw} B, gzipped ${gz} B (${(gz / 1024).toFixed(1)} KiB)`,
);
