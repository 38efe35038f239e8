/**
 * The cross-check on this machine's kernel: every example's kernel-executable part, then a few
 * hundred random scenarios. Skipped, with the reason printed, where the kernel cannot be read
 * (not Linux, not root, no /proc/kpagecount, no KSM, no C compiler); CI runs as root.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  formatReport,
  generateScenario,
  helperTmpBase,
  type KernelObservation,
  readaheadPages,
  runOnKernel,
  shrinkScenario,
  type VerifyReport,
  verifyScenario,
} from '../src/index.js';
import { kernelUnavailable } from './kernel-available.js';

const reason = kernelUnavailable('kernel cross-check');

const examplesDir = fileURLToPath(new URL('../../../examples/', import.meta.url));
const examples = readdirSync(examplesDir)
  .filter((f) => f.endsWith('.rmap'))
  .sort();

/** The report's differences, without the option notes. */
function summary(r: VerifyReport): string {
  return formatReport(r, { maxPerStep: 10 })
    .split('\n')
    .filter(
      (l) =>
        /^observe step|^ {2}\S|stopped/.test(l) &&
        !/^ {2}(kernel|zero-page|fault-around|swap|readahead|ksm-max-sharing|line) /.test(l),
    )
    .join('\n');
}

/**
 * Examples that show a known, explained difference (docs/verify.md, "Known differences"): they
 * must still differ, so the entry goes when the model learns the kernel's behaviour.
 */
const KNOWN: Record<string, string> = {};

describe.skipIf(reason !== null)('verify on this kernel', () => {
  it.each(examples)('examples/%s matches the kernel', async (file) => {
    const r = await verifyScenario(readFileSync(`${examplesDir}${file}`, 'utf8'), {
      kernelOptions: 'auto',
      check: true,
    });
    if (KNOWN[file])
      expect(r.equal, `known difference gone (${KNOWN[file]}): update docs/verify.md`).toBe(false);
    else expect(r.equal, summary(r)).toBe(true);
  });

  it("reads around a page-cache miss with the window of the temp folder's device", async () => {
    // docs/kernel-facts.md F9: the window is file->f_ra.ra_pages, the device's read_ahead_kb.
    const experiment = new URL('../kernel-check/experiments/09-readahead.rmap', import.meta.url);
    const text = `set kernel 6.12\nset swap 0\n${readFileSync(experiment, 'utf8')}`;
    const auto = await verifyScenario(text, { kernelOptions: 'auto', check: true });
    expect(auto.equal, summary(auto)).toBe(true);
    // The model's default window (32 pages) reads back less than a device that reads more.
    if ((readaheadPages(helperTmpBase())?.pages ?? 32) > 32) {
      const own = await verifyScenario(text, { kernelOptions: 'scenario', check: true });
      expect(summary(own)).toMatch(/C:q:56\.\.63: kernel maps each alone/);
    }
  });

  it('the helper reads the VMAs from smaps and, once `ksm` ran, the KSM counters of the run alone', async () => {
    const thp = '/sys/kernel/mm/transparent_hugepage/enabled';
    const before = readFileSync(thp, 'utf8');
    const run = await runOnKernel(
      'spawn A\nA: mmap r 4 anon private\nA: mprotect r 1 2 r\nA: madvise r hugepage\nobserve\n' +
        'A: madvise r mergeable\nspawn B\nB: mmap s 1 anon shared\nksm\nobserve\n',
    );
    expect(run.error).toBeUndefined();
    const [split, merged] = run.observations;
    const lines = (o: KernelObservation, p: string) =>
      (o.vmas?.[p] ?? []).map((v) => `${v.region}:${v.first}..${v.last} ${v.prot} ${v.flags.join(',')}`);
    expect(lines(split, 'A')).toEqual([
      'r:0..0 rw account,hugepage',
      'r:1..2 r hugepage',
      'r:3..3 rw account,hugepage',
    ]);
    expect(split.ksm).toBeUndefined();
    expect(lines(merged, 'A')).toEqual([
      'r:0..0 rw mergeable,account,hugepage',
      'r:1..2 r mergeable,hugepage',
      'r:3..3 rw mergeable,account,hugepage',
    ]);
    expect(lines(merged, 'B')).toEqual(['s:0..0 rw nohugepage']);
    // Nothing of the run merged: whatever else the machine holds in KSM is below the baseline.
    expect(merged.ksm).toEqual({
      pages_shared: 0,
      pages_sharing: 0,
      pages_unshared: 0,
      stable_node_chains: 0,
      stable_node_dups: 0,
    });
    // `madvise hugepage` made THP `never` for the run only.
    expect(readFileSync(thp, 'utf8')).toBe(before);
  });

  // 300 scenarios of 30 statements; one in five uses KSM (each `ksm` costs a few full scans).
  const SEEDS = 300;
  it(`${SEEDS} random scenarios match the kernel`, { timeout: 280_000 }, async () => {
    const failures: string[] = [];
    for (let seed = 1; seed <= SEEDS; seed++) {
      const text = generateScenario(seed, { ksm: seed % 5 === 0 });
      const r = await verifyScenario(text, { kernelOptions: 'auto', check: true });
      if (r.equal) continue;
      // Minimise the first failure to the shortest statement list that still differs.
      if (failures.length === 0) {
        const small = await shrinkScenario(text.split('\n'), async (lines) => {
          const rr = await verifyScenario(`${lines.join('\n')}\n`, { kernelOptions: 'auto', check: true });
          return !rr.equal;
        });
        const rs = await verifyScenario(`${small.join('\n')}\n`, { kernelOptions: 'auto', check: true });
        failures.push(`seed ${seed}, minimised:\n${small.join('\n')}\n${summary(rs)}`);
      } else failures.push(`seed ${seed}`);
    }
    expect(failures, failures.join('\n\n')).toEqual([]);
  });
});
