/**
 * madvise(2) — mm/madvise.c: MADV_DONTNEED (zap the range), MADV_COLD and MADV_PAGEOUT (5.4 and
 * later: deactivate, or reclaim, the pages that this process alone maps), MADV_MERGEABLE and
 * MADV_UNMERGEABLE (VM_MERGEABLE on the range, through KSM), MADV_HUGEPAGE and MADV_NOHUGEPAGE
 * (VM_HUGEPAGE or VM_NOHUGEPAGE on the range; no THP is modelled, so they change nothing else).
 */
import {
  PG_active,
  PG_referenced,
  PG_unevictable,
  PTE_PRESENT,
  PTE_SPECIAL,
  PTE_YOUNG,
  VM_HUGEPAGE,
  VM_HUGETLB,
  VM_LOCKED,
  VM_NOHUGEPAGE,
  VM_PFNMAP,
} from './constants.js';
import { KernelError } from './errors.js';
import { ksmMadvise } from './ksm.js';
import { zapPageRange } from './memory.js';
import { hex } from './mmap.js';
import { forEachVmaFixup, userRange, vmaModifyFlags, vmasCovering } from './mprotect.js';
import type { MmSystem } from './system.js';
import type { Mm, VmArea } from './types.js';

/**
 * The advices of the scenario language: MADV_DONTNEED, MADV_PAGEOUT, MADV_COLD,
 * MADV_(UN)MERGEABLE, MADV_(NO)HUGEPAGE.
 */
export type MadviseAdvice = 'dontneed' | 'pageout' | 'cold' | FlagAdvice;

/** The advices that change vm_flags (and so split and merge VMAs). */
export type FlagAdvice = 'mergeable' | 'unmergeable' | 'hugepage' | 'nohugepage';

/** madvise_need_mmap_write() — mm/madvise.c: the advices that change vm_flags. */
function isFlagAdvice(advice: MadviseAdvice): advice is FlagAdvice {
  return advice !== 'dontneed' && advice !== 'cold' && advice !== 'pageout';
}

/**
 * hugepage_madvise() — mm/huge_memory.c (2.6.38; mm/khugepaged.c from 4.8): MADV_HUGEPAGE sets
 * VM_HUGEPAGE and clears VM_NOHUGEPAGE, MADV_NOHUGEPAGE the other way round, on any VMA. (It also
 * registers the mm with khugepaged, which is not modelled: with THP `never` it has nothing to do.)
 */
export function hugepageMadvise(flags: number, advice: 'hugepage' | 'nohugepage'): number {
  return advice === 'hugepage'
    ? (flags & ~VM_NOHUGEPAGE) | VM_HUGEPAGE
    : (flags & ~VM_HUGEPAGE) | VM_NOHUGEPAGE;
}

/**
 * madvise_behavior() — mm/madvise.c (4.9; madvise_vma_behavior() in 6.18), for the advices that
 * change vm_flags: the range gets the new flags (merge or split, as mprotect does). Returns the
 * VMA that covers the range.
 */
function madviseBehavior(
  sys: MmSystem,
  vma: VmArea,
  prev: VmArea | null,
  start: number,
  end: number,
  advice: FlagAdvice,
): VmArea {
  const newFlags =
    advice === 'hugepage' || advice === 'nohugepage'
      ? hugepageMadvise(vma.vmFlags, advice)
      : ksmMadvise(sys, vma, start, end, advice);
  if (newFlags === vma.vmFlags) return vma;
  return vmaModifyFlags(sys, vma, prev, start, end, newFlags);
}

/** can_madv_lru_vma() — mm/madvise.c (6.12): MADV_COLD/PAGEOUT refuse locked, PFN-mapped and hugetlb VMAs. */
function canMadvLruVma(vma: VmArea): boolean {
  return !(vma.vmFlags & (VM_LOCKED | VM_PFNMAP | VM_HUGETLB));
}

/**
 * madvise_cold_or_pageout_pte_range() — mm/madvise.c (6.12), for order-0 pages: every page of
 * [start, end) that this PTE alone maps (mapcount 1: not COW-shared, not a KSM page with other
 * sharers, not a file page mapped elsewhere; never the zero page) loses PG_referenced. COLD also
 * makes the PTE old and deactivates the page; PAGEOUT isolates it (an unevictable page goes back)
 * and, once the page table is unlocked, reclaims it ignoring references (reclaim_pages). Not being
 * kswapd, that reclaim only unmaps a dirty file page: it stays dirty in the page cache, with
 * PG_reclaim, for the flusher threads (shrink_folio_list; @rmaplab/rmap's vmscan.ts).
 */
function madviseColdOrPageout(
  sys: MmSystem,
  vma: VmArea,
  start: number,
  end: number,
  pageout: boolean,
): void {
  const mm = vma.vmMm;
  const mem = sys.mem;
  const isolated: number[] = [];
  let seen = 0;
  mm.pgd.forEachTable(start, end, (t, first, last) => {
    t.ptl.lock(sys.current);
    for (let i = first; i < last; i++) {
      const bits = t.bits[i];
      if (!(bits & PTE_PRESENT) || bits & PTE_SPECIAL) continue;
      const pfn = t.pfn[i];
      if (mem.mapcount[pfn] !== 0) continue;
      seen++;
      mem.flags[pfn] &= ~(1 << PG_referenced);
      if (pageout) {
        if (!(mem.flags[pfn] & (1 << PG_unevictable))) isolated.push(pfn);
      } else {
        t.bits[i] = bits & ~PTE_YOUNG;
        if (!(mem.flags[pfn] & (1 << PG_unevictable))) mem.flags[pfn] &= ~(1 << PG_active);
      }
    }
    t.ptl.unlock(sys.current);
  });
  if (sys.tracing)
    sys.trace(
      pageout ? 'madvise_pageout' : 'madvise_cold',
      `${vma.name}: ${seen} pages mapped only here in [${hex(start)}, ${hex(end)})${pageout ? `, ${isolated.length} to reclaim` : ''}`,
      { vma: vma.id, mm: mm.id },
    );
  for (const pfn of isolated) sys.reclaimPage!(pfn);
}

/**
 * The per-advice checks of madvise_vma() that refuse a whole call: MADV_DONTNEED on a VM_LOCKED,
 * hugetlb or PFN-mapped VMA (madvise_dontneed: EINVAL), COLD/PAGEOUT on what can_madv_lru_vma()
 * rejects (EINVAL).
 */
function checkMadviseVma(vma: VmArea, advice: MadviseAdvice): void {
  if (advice === 'dontneed' && vma.vmFlags & (VM_LOCKED | VM_HUGETLB | VM_PFNMAP))
    throw new KernelError('EINVAL', `madvise dontneed: ${vma.name} is locked or special`);
  if ((advice === 'cold' || advice === 'pageout') && !canMadvLruVma(vma))
    throw new KernelError('EINVAL', `madvise ${advice}: ${vma.name} is locked or special`);
}

/**
 * sys_madvise() — mm/madvise.c: `advice` on every VMA of [start, start + len). MADV_COLD and
 * MADV_PAGEOUT came with Linux 5.4: under `kernel 4.9` they are EINVAL (madvise_behavior_valid).
 * The flag-changing advices hold mmap_sem for writing, the others for reading. A hole in the
 * range is ENOMEM; every refusal comes before any change.
 */
export function doMadvise(sys: MmSystem, mm: Mm, start: number, len: number, advice: MadviseAdvice): void {
  const lru = advice === 'cold' || advice === 'pageout';
  if (lru && !sys.rules['madvise-cold-pageout'])
    throw new KernelError(
      'EINVAL',
      `MADV_${advice.toUpperCase()} does not exist in Linux ${sys.options.kernel} (it came in 5.4)`,
    );
  const range = userRange(start, len, 'madvise');
  if (!range) return;
  const { end } = range;
  if (advice === 'pageout' && !sys.reclaimPage)
    throw new Error('MADV_PAGEOUT needs reclaim_pages: install @rmaplab/rmap (sys.reclaimPage)');
  const write = isFlagAdvice(advice);
  if (write) mm.mmapSem.downWrite(sys.current);
  else mm.mmapSem.downRead(sys.current);
  try {
    const vmas = vmasCovering(mm, start, end, 'madvise');
    for (const vma of vmas) checkMadviseVma(vma, advice);
    if (isFlagAdvice(advice)) {
      forEachVmaFixup(mm, start, end, (vma, prev, s, e) => madviseBehavior(sys, vma, prev, s, e, advice));
      return;
    }
    for (const vma of vmas) {
      const s = Math.max(start, vma.vmStart);
      const e = Math.min(end, vma.vmEnd);
      if (advice === 'dontneed') zapPageRange(sys, mm, vma, s, e);
      else madviseColdOrPageout(sys, vma, s, e, advice === 'pageout');
    }
  } finally {
    if (write) mm.mmapSem.upWrite(sys.current);
    else mm.mmapSem.upRead(sys.current);
  }
}
