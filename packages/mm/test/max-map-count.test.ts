import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkInvariants, KernelError, PROT_READ, PROT_WRITE } from '../src/index.js';
import { World } from './helpers.js';
import { mprotect } from './ops.js';

const RW = PROT_READ | PROT_WRITE;

/** The VMAs of the process, counted on its list (the brute force map_count must agree with). */
function listed(w: World, p: string): number {
  return [...w.mm(p).vmas()].length;
}

/** A's VMAs as [start, end, flags]: what a refused split must leave as it was. */
function layout(w: World): number[][] {
  return [...w.mm('A').vmas()].map((v) => [v.vmStart, v.vmEnd, v.vmFlags]);
}

function refusedWithEnomem(f: () => void): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(KernelError);
  expect((err as KernelError).errno).toBe('ENOMEM');
}

describe('vm.max_map_count (maxMapCount)', () => {
  it('mmap is refused only when map_count is already above the limit (do_mmap checks `>`)', () => {
    const w = new World({ maxMapCount: 2 });
    w.spawn('A');
    w.mmap('A', 'a', 1);
    w.mmap('A', 'b', 1, 'anon', true);
    // At the limit (2), one more mapping is still made: map_count becomes 3.
    w.mmap('A', 'c', 1);
    expect(w.mm('A').mapCount).toBe(3);
    refusedWithEnomem(() => w.mmap('A', 'd', 1, 'anon', true));
    expect(w.mm('A').mapCount).toBe(3);
    checkInvariants(w.sys);
  });

  it('an mprotect split is refused when map_count is at the limit (split_vma checks `>=`)', () => {
    const w = new World({ maxMapCount: 2 });
    w.spawn('A');
    w.mmap('A', 'h', 4);
    // limit - 1 = 1 VMA: the split to two is allowed.
    mprotect(w, 'A', 'h', 0, 1, PROT_READ);
    expect(w.mm('A').mapCount).toBe(2);
    // At the limit: the next split is refused and nothing changes.
    const before = layout(w);
    refusedWithEnomem(() => mprotect(w, 'A', 'h', 3, 1, PROT_READ));
    expect(layout(w)).toEqual(before);
    // A change that merges into the neighbour needs no split and is still allowed.
    mprotect(w, 'A', 'h', 0, 1, RW);
    expect(w.mm('A').mapCount).toBe(1);
    checkInvariants(w.sys);
  });

  it('munmap of a VMA middle needs a VMA below the limit; cutting an end off does not', () => {
    const w = new World({ maxMapCount: 1 });
    w.spawn('A');
    w.mmap('A', 'h', 4);
    refusedWithEnomem(() => w.munmap('A', 'h', 1, 2));
    expect(w.mm('A').mapCount).toBe(1);
    // The tail: __split_vma without the check, then the upper part goes (map_count stays 1).
    w.munmap('A', 'h', 3, 1);
    expect(w.mm('A').mapCount).toBe(1);
    checkInvariants(w.sys);
  });

  it('map_count equals the VMAs on the list after any mmap/mprotect/munmap sequence at a small limit', () => {
    const op = fc.record({
      kind: fc.constantFrom('mprotect', 'munmap', 'mmap'),
      page: fc.integer({ min: 0, max: 15 }),
      pages: fc.integer({ min: 1, max: 4 }),
      ro: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.array(op, { maxLength: 30 }), (limit, ops) => {
        const w = new World({ maxMapCount: limit });
        w.spawn('A');
        w.mmap('A', 'h', 16);
        let n = 0;
        for (const o of ops) {
          const pages = Math.min(o.pages, 16 - o.page);
          try {
            if (o.kind === 'mprotect') mprotect(w, 'A', 'h', o.page, pages, o.ro ? PROT_READ : RW);
            else if (o.kind === 'munmap') w.munmap('A', 'h', o.page, pages);
            else w.mmap('A', `m${n++}`, 1);
          } catch (e) {
            if (!(e instanceof KernelError)) throw e;
          }
          expect(w.mm('A').mapCount).toBe(listed(w, 'A'));
          // Splits never go past the limit; mmap may add one more at it (`>`).
          expect(w.mm('A').mapCount).toBeLessThanOrEqual(Math.max(limit + 1, 1));
        }
        checkInvariants(w.sys);
      }),
      { numRuns: 200 },
    );
  });
});
