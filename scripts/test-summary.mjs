// Sums every Vitest JSON report of the workspace (packages/*/test-results/*.json, apps/*/...) into
// the one line CI reads: "N passed, N failed" (", N skipped" when some were skipped). Exits 1 when
// a test failed, a suite failed to load, or no report was found.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
let passed = 0;
let failed = 0;
let skipped = 0;
let reports = 0;
let brokenSuites = 0;
for (const group of ['packages', 'apps']) {
  const dir = join(root, group);
  if (!existsSync(dir)) continue;
  for (const pkg of readdirSync(dir)) {
    const results = join(dir, pkg, 'test-results');
    if (!existsSync(results)) continue;
    for (const f of readdirSync(results)) {
      if (!f.endsWith('.json')) continue;
      const r = JSON.parse(readFileSync(join(results, f), 'utf8'));
      reports++;
      passed += r.numPassedTests ?? 0;
      failed += r.numFailedTests ?? 0;
      skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
      for (const suite of r.testResults ?? []) {
        if (suite.status === 'failed' && (suite.assertionResults ?? []).every((a) => a.status !== 'failed')) {
          brokenSuites++;
          console.error(`suite failed to run: ${suite.name}: ${(suite.message ?? '').split('\n')[0]}`);
        }
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
