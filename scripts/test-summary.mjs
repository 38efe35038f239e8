// Sums every Vitest JSON report of the workspace (packages/*/test-results/*.json, apps/*/..., and
// scripts/test-results/ of the repository's own tests) into the one line CI reads: "N passed,
// N failed" (", N skipped" when some were skipped). Exits 1 when a test failed, a suite failed
// to load, or no report was found.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
let passed = 0;
let failed = 0;
let skipped = 0;
let reports = 0;
let brokenSuites = 0;
/** Every folder that may hold Vitest JSON reports. */
const resultDirs = [join(root, 'scripts', 'test-results')];
for (const group of ['packages', 'apps']) {
  const dir = join(root, group);
  if (existsSync(dir)) for (const pkg of readdirSync(dir)) resultDirs.push(join(dir, pkg, 'test-results'));
}
for (const results of resultDirs) {
  if (!existsSync(results)) continue;
  for (const f of readdirSync(results)) {
    if (!f.endsWith('.json')) continue;
    const r = JSON.parse(readFileSync(join(results, f), 'utf8'));
    reports++;
    passed += r.numPassedTests ?? 0;
    failed += r.numFailedTests ?? 0;
    skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
    for (const suite of r.testResults ?? []) {
      const assertions = /** @type {{ status: string }[]} */ (suite.assertionResults ?? []);
      if (suite.status === 'failed' && assertions.every((a) => a.status !== 'failed')) {
        brokenSuites++;
        console.error(`suite failed to run: ${suite.name}: ${(suite.message ?? '').split('\n')[0]}`);
      }
    }
  }
}
failed += brokenSuites;
if (reports === 0) {
  console.error('no test reports found');
  process.exitCode = 1;
}
if (failed > 0) process.exitCode = 1;
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
