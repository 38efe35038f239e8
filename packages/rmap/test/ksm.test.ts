import {
  addToSwap,
  checkInvariants,
  deleteFromSwapCache,
  ksmExternalRefs,
  ksmRunToFixedPoint,
  lockPage,
  MAP_PRIVATE,
  type Mm,
  MmSystem,
  PAGE_SIZE,
  PageAnonExclusive,
  PageKsm,
  PageSwapCache,
  PROT_READ,
  PROT_WRITE,
  PTE_PRESENT,
  PTE_SWAP,
  pageAnonVma,
  pageStableNode,
  readPte,
  sysExit,
  sysFork,
  sysMadvise,
  sysMlock,
  sysMmap,
  unlockPage,
  userAccess,
  vmaAt,
} from '@rmaplab/mm';
import { describe, expect, it } from 'vitest';
import { TTU_IGNORE_ACCESS, TTU_UNMAP } from '../src/codes.js';
import { installRmap } from '../src/install.js';
import { migratePage } from '../src/migrate.js';
import { walkAt } from '../src/report.js';
import { newWalkLog } from '../src/rmap-walk.js';
import { tryToUnmap } from '../src/try-to-unmap.js';

const ADDR = 0x10000000000;

/** try_to_unmap as reclaim calls it once it decided to evict (4.9 must be told to ignore young PTEs). */
function reclaimFlags(sys: MmSystem): number {
  return sys.options.kernel === '6.12' ? 0 : TTU_UNMAP | TTU_IGNORE_ACCESS;
}

function check(sys: MmSystem): void {
  checkInvariants(sys, ksmExternalRefs(sys));
}

/** `n` processes, each with one page of content `same` at ADDR, mergeable, then `ksm`. */
function merged(kernel: '4.9' | '6.12', n: number): { sys: MmSystem; mms: Mm[]; kpfn: number } {
  const sys = new MmSystem({ kernel, ksmMaxSharing: kernel === '6.12' ? 256 : Number.POSITIVE_INFINITY });
  const mms: Mm[] = [];
  for (let i = 0; i < n; i++) {
    const mm = sys.newMm(`P${i}`);
    sysMmap(sys, mm, { addr: ADDR, len: PAGE_SIZE, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE });
    userAccess(sys, mm, ADDR, true);
    sys.mem.content[readPte(mm, ADDR).pfn] = sys.contentFor('same');
    sysMadvise(sys, mm, ADDR, PAGE_SIZE, 'mergeable');
    mms.push(mm);
  }
  ksmRunToFixedPoint(sys);
  check(sys);
  const kpfn = readPte(mms[0], ADDR).pfn;
  expect(PageKsm(sys.mem, kpfn)).toBe(true);
  return { sys, mms, kpfn };
}

describe('rmap_walk_ksm', () => {
  it('try_to_unmap of a KSM page reaches a child forked after the merge in the second pass', () => {
    for (const kernel of ['4.9', '6.12'] as const) {
      const { sys, mms, kpfn } = merged(kernel, 2);
      const child = sysFork(sys, mms[1], 'C');
      check(sys);
      expect(sys.mem.mapcount[kpfn] + 1).toBe(3);
      expect(sys.as(sys.kswapd, () => addToSwap(sys, kpfn))).toBe(true);
      const log = newWalkLog();
      sys.as(sys.kswapd, () => {
        lockPage(sys, kpfn);
        tryToUnmap(sys, kpfn, reclaimFlags(sys), log);
        unlockPage(sys, kpfn);
      });
      expect(log.kind).toBe('ksm');
      // Pass 0 visits each item's own mm (newest item first), pass 1 the forked child.
      expect(log.visits.map((v) => v.vma.vmMm)).toEqual([mms[1], mms[0], child]);
      for (const v of log.visits) expect(v.address).toBe(ADDR);
      for (const mm of [...mms, child]) expect(readPte(mm, ADDR).bits & PTE_SWAP).not.toBe(0);
      expect(sys.mem.mapcount[kpfn]).toBe(-1);
      check(sys);
      // The child faults the KSM page back in from the swap cache.
      userAccess(sys, child, ADDR, false);
      expect(readPte(child, ADDR).pfn).toBe(kpfn);
      check(sys);
    }
  });

  it('after the merging parent exits, its rmap_items still lead to the child until ksmd passes', () => {
    for (const kernel of ['4.9', '6.12'] as const) {
      const { sys, mms, kpfn } = merged(kernel, 2);
      const child = sysFork(sys, mms[0], 'C');
      const visited = () => walkAt(sys, child, ADDR).walk.visits.map((v) => v.process);
      expect(visited()).toEqual(['P1', 'P0', 'C']);
      sysExit(sys, mms[0]);
      check(sys);
      // P0's item stays until ksmd passes; its anon_vma still holds C's VMA (second pass).
      expect(visited()).toEqual(['P1', 'C']);
      ksmRunToFixedPoint(sys);
      check(sys);
      // Now C has an rmap_item of its own: the first pass finds it.
      expect(visited()).toEqual(['C', 'P1']);
      expect(sys.as(sys.kswapd, () => addToSwap(sys, kpfn))).toBe(true);
      sys.as(sys.kswapd, () => {
        lockPage(sys, kpfn);
        tryToUnmap(sys, kpfn, reclaimFlags(sys));
        unlockPage(sys, kpfn);
      });
      for (const mm of [mms[1], child]) expect(readPte(mm, ADDR).bits & PTE_SWAP).not.toBe(0);
      check(sys);
    }
  });

  it('migration of a KSM page moves every mapper and the stable node to the new frame', () => {
    for (const kernel of ['4.9', '6.12'] as const) {
      const { sys, mms, kpfn } = merged(kernel, 3);
      const child = sysFork(sys, mms[0], 'C');
      const node = pageStableNode(sys.mem, kpfn)!;
      const r = sys.as(sys.kswapd, () => migratePage(sys, kpfn));
      expect(r.rc).toBe('MIGRATEPAGE_SUCCESS');
      expect(node.kpfn).toBe(r.newPfn);
      expect(pageStableNode(sys.mem, r.newPfn)).toBe(node);
      for (const mm of [...mms, child]) {
        const pte = readPte(mm, ADDR);
        expect(pte.bits & PTE_PRESENT).not.toBe(0);
        expect(pte.pfn).toBe(r.newPfn);
      }
      expect(sys.mem.isAllocated(kpfn)).toBe(false);
      check(sys);
      // ksmd still finds the page where the node now points.
      ksmRunToFixedPoint(sys);
      check(sys);
      expect(readPte(child, ADDR).pfn).toBe(r.newPfn);
    }
  });

  it('with max_page_sharing 256, a walk of any KSM page visits at most 256 VMAs (no fork)', () => {
    const { sys, mms } = merged('6.12', 600);
    const seen = new Set<number>();
    for (const mm of mms) seen.add(readPte(mm, ADDR).pfn);
    expect(seen.size).toBe(3);
    for (const pfn of seen) {
      const sharers = sys.mem.mapcount[pfn] + 1;
      expect(sys.as(sys.kswapd, () => addToSwap(sys, pfn))).toBe(true);
      const log = newWalkLog();
      sys.as(sys.kswapd, () => {
        lockPage(sys, pfn);
        tryToUnmap(sys, pfn, reclaimFlags(sys), log);
        unlockPage(sys, pfn);
      });
      expect(log.visits.length).toBe(sharers);
      expect(log.visits.length).toBeLessThanOrEqual(256);
      expect(sys.mem.mapcount[pfn]).toBe(-1);
    }
  });
});

describe('KSM and PG_anon_exclusive (5.19): a KSM page is never exclusive', () => {
  it('write_protect_page takes the flag away from the exclusive pages it merges', () => {
    const sys = new MmSystem({ kernel: '6.12' });
    const mm = sys.newMm('P');
    sysMmap(sys, mm, { addr: ADDR, len: 2 * PAGE_SIZE, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE });
    for (const a of [ADDR, ADDR + PAGE_SIZE]) {
      userAccess(sys, mm, a, true);
      sys.mem.content[readPte(mm, a).pfn] = sys.contentFor('same');
    }
    expect(PageAnonExclusive(sys.mem, readPte(mm, ADDR).pfn)).toBe(true);
    sysMadvise(sys, mm, ADDR, 2 * PAGE_SIZE, 'mergeable');
    ksmRunToFixedPoint(sys);
    check(sys);
    const kpfn = readPte(mm, ADDR).pfn;
    expect(PageKsm(sys.mem, kpfn)).toBe(true);
    expect(readPte(mm, ADDR + PAGE_SIZE).pfn).toBe(kpfn);
    expect(PageAnonExclusive(sys.mem, kpfn)).toBe(false);
    // Breaking COW on it gives an exclusive copy again.
    userAccess(sys, mm, ADDR, true);
    expect(PageAnonExclusive(sys.mem, readPte(mm, ADDR).pfn)).toBe(true);
    check(sys);
  });

  it('ksm_might_need_to_copy: a KSM page swapped out and freed, read back by two families, is copied for the second', () => {
    for (const kernel of ['4.9', '6.12'] as const) {
      const { sys, mms, kpfn } = merged(kernel, 2);
      sys.as(sys.kswapd, () => {
        expect(addToSwap(sys, kpfn)).toBe(true);
        lockPage(sys, kpfn);
        tryToUnmap(sys, kpfn, reclaimFlags(sys));
        unlockPage(sys, kpfn);
        deleteFromSwapCache(sys, kpfn); // written out: the frame goes, its stable node is stale
      });
      check(sys);
      userAccess(sys, mms[0], ADDR, false); // read into a new page, P0's family's now
      const first = readPte(mms[0], ADDR).pfn;
      userAccess(sys, mms[1], ADDR, false); // P1's family cannot map it: a copy
      const second = readPte(mms[1], ADDR).pfn;
      expect(second, kernel).not.toBe(first);
      expect(sys.mem.content[second]).toBe(sys.mem.content[first]);
      expect(pageAnonVma(sys.mem, second)).toBe(vmaAt(mms[1], ADDR)!.anonVma);
      expect(PageAnonExclusive(sys.mem, second), kernel).toBe(kernel === '6.12');
      expect(PageSwapCache(sys.mem, second)).toBe(false);
      check(sys);
    }
  });
});

describe('one PG_locked lock per page across KSM and rmap', () => {
  it('merging a page that a VM_LOCKED VMA shares with a fork munlocks it under the page lock KSM took', () => {
    for (const kernel of ['4.9', '6.12'] as const) {
      const sys = new MmSystem({ kernel, strictLocking: true });
      installRmap(sys);
      const mms: Mm[] = [];
      for (let i = 0; i < 2; i++) {
        const mm = sys.newMm(`L${i}`);
        sysMmap(sys, mm, { addr: ADDR, len: PAGE_SIZE, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE });
        userAccess(sys, mm, ADDR, true);
        sys.mem.content[readPte(mm, ADDR).pfn] = sys.contentFor('same');
        sysMlock(sys, mm, ADDR, PAGE_SIZE);
        sysMadvise(sys, mm, ADDR, PAGE_SIZE, 'mergeable');
        mms.push(mm);
      }
      // The child's VMA is not locked (fork clears VM_LOCKED): once L0's PTE goes over to the KSM
      // page, munlock_vma_page finds the old page still mapped and (6.12) walks its rmap through
      // the installed hook, which must see the page lock that KSM holds as held.
      mms.push(sysFork(sys, mms[0], 'C'));
      ksmRunToFixedPoint(sys);
      check(sys);
      const kpfn = readPte(mms[0], ADDR).pfn;
      expect(PageKsm(sys.mem, kpfn)).toBe(true);
      for (const mm of mms) expect(readPte(mm, ADDR).pfn).toBe(kpfn);
      expect(sys.locks.reports).toEqual([]);
      expect(sys.locks.tasksHoldingLocks()).toEqual([]);
    }
  });
});
