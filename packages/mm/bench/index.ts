/**
 * `pnpm bench`: runs every `*.bench.ts` of this folder in name order, each in a fresh Node process
 * (same loader and flags as this one, so --expose-gc applies) so that heap figures do not mix.
 * Arguments after `pnpm bench` are passed to every benchmark.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const benches = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .sort();
let failed = 0;
for (const f of benches) {
  console.log(`\n=== ${f} ===`);
  const r = spawnSync(process.execPath, [...process.execArgv, `${dir}${f}`, ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  if (r.status !== 0) {
    console.error(`${f} failed (${r.signal ?? `exit ${r.status}`})`);
    failed++;
  }
}
process.exitCode = failed ? 1 : 0;
