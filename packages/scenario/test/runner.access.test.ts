/**
 * read / write refusals: the runner checks a range VMA by VMA; this checks it against the page-by-page
 * brute force (the first page, in page order, that is unmapped, not readable/writable, or past the end
 * of its file names the error), and that a refused access changes nothing.
 */
import { linearPageIndex, PAGE_SIZE, VM_READ, VM_WRITE, vmaAt } from '@rmaplab/mm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ScenarioError } from '../src/errors.js';
import { parseLine } from '../src/parser.js';
import { ScenarioRunner } from '../src/runner.js';

/** The refusal the page-by-page check gives for `P: op REGION first..last`, or null when every page is fine. */
function bruteForce(runner: ScenarioRunner, region: string, first: number, last: number, write: boolean) {
  const p = runner.procs.get('A')!;
  const r = p.regions.get(region)!;
  if (last >= r.pages) return 'range';
  for (let page = first; page <= last; page++) {
    const addr = r.addr + page * PAGE_SIZE;
    const vma = vmaAt(p.mm, addr);
    const where = `A:${region}:${page}`;
    if (!vma) return `${where} is not mapped: the access would kill A (SIGSEGV)`;
    if (!(vma.vmFlags & (write ? VM_WRITE : VM_READ)))
      return `${where} is not ${write ? 'writable' : 'readable'}: the access would kill A (SIGSEGV)`;
    if (vma.vmFile && linearPageIndex(vma, addr) >= vma.vmFile.sizePages)
      return `${where} is beyond the end of ${vma.vmFile.name} (SIGBUS)`;
  }
  return null;
}

const region = fc.constantFrom('heap', 'data');
/** Layout changes that leave holes, read-only or inaccessible runs, and file pages past EOF. */
const change = fc.oneof(
  fc.tuple(region, fc.nat(24), fc.integer({ min: 1, max: 6 })).map(([r, p, c]) => `A: munmap ${r} ${p} ${c}`),
  fc
    .tuple(region, fc.nat(24), fc.integer({ min: 1, max: 6 }), fc.constantFrom('none', 'r', 'rw'))
    .map(([r, p, c, prot]) => `A: mprotect ${r} ${p} ${c} ${prot}`),
  fc.tuple(region, fc.integer({ min: 1, max: 32 })).map(([r, n]) => `A: mremap ${r} ${n}`),
  fc.tuple(region, fc.nat(31), fc.nat(8)).map(([r, p, n]) => `A: write ${r} ${p}..${p + n}`),
);
const access = fc
  .tuple(fc.constantFrom('read', 'write'), region, fc.nat(31), fc.nat(31))
  .map(([op, r, a, b]) => ({ op, region: r, first: Math.min(a, b), last: Math.max(a, b) }));

describe('read / write checks every page before touching any', () => {
  it('refuses exactly where the page-by-page check does, and a refusal changes nothing', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.integer({ min: 1, max: 24 }),
        fc.array(change, { maxLength: 8 }),
        access,
        (shared, filePages, changes, a) => {
          const runner = new ScenarioRunner({ check: true });
          let step = 0;
          const exec = (line: string) => runner.exec(parseLine(line, ++step, step)!);
          exec('spawn A');
          exec('A: mmap heap 24 anon private');
          exec(`A: mmap data ${filePages} file:f ${shared ? 'shared' : 'private'}`);
          for (const line of changes) {
            try {
              exec(line);
            } catch (e) {
              if (!(e instanceof ScenarioError)) throw e;
            }
          }
          const expected = bruteForce(runner, a.region, a.first, a.last, a.op === 'write');
          const before = JSON.stringify(runner.observe(0));
          let error: ScenarioError | undefined;
          try {
            exec(`A: ${a.op} ${a.region} ${a.first}..${a.last}`);
          } catch (e) {
            if (!(e instanceof ScenarioError)) throw e;
            error = e;
          }
          if (expected === null) {
            expect(error).toBeUndefined();
            return;
          }
          expect(error).toBeDefined();
          if (expected !== 'range') {
            expect(error!.kind).toBe('kernel');
            expect(error!.message).toBe(expected);
          }
          expect(JSON.stringify(runner.observe(0))).toBe(before);
        },
      ),
      { numRuns: 400 },
    );
  });
});
