/**
 * madvise(2) — mm/madvise.c: MADV_DONTNEED (zap the range), MADV_COLD and MADV_PAGEOUT (5.4 and
 * later: deactivate, or reclaim, the pages that this process alone maps), MADV_MERGEABLE and
 * MADV_UNMERGEABLE (VM_MERGEABLE on the range, through KSM).
 */
import {
  PG_active,
  PG_referenced,
  PG_unevictable,
  PTE_PRESENT,
  PTE_SPECIAL,
  PTE_YOUNG,
  VM_HUGETLB,
  VM_LOCKED,
  VM_PFNMAP,
} from './constants.js';
import { KernelError } from './errors.js';
import { ksmMadvise } from './ksm.js';
import { zapPageRange } from './memory.js';
import { hex } from './mmap.js';
import { forEachVmaFixup, userRange, vmaModifyFlags, vmasCovering } from './mprotect.js';
import type { MmSystem } from './system.js';
import type { Mm, VmArea } from './types.js';

/** The advices of the scenario language: MADV_DONTNEED, MADV_PAGEOUT, MADV_COLD, MADV_(UN)MERGEABLE. */
export type MadviseAdvice = 'dontneed' | 'pageout' | 'cold' | 'mergeable' | 'unmergeable';

/**
 * madvise_behavior() — mm/madvise.c (4.9), for the advices that change vm_flags: the range gets the
 * new flags (merge or split, as mprotect does). Returns the VMA that covers the range.
 */
function madviseBehavior(
  sys: MmSystem,
  vma: VmArea,
  prev: VmArea | null,
  start: number,
  end: number,
  advice: 'mergeable' | 'unmergeable',
): VmArea {
  const newFlags = ksmMadvise(sys, vma, start, end, advice);
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
  const write = advice === 'mergeable' || advice === 'unmergeable';
  if (write) mm.mmapSem.downWrite(sys.current);
  else mm.mmapSem.downRead(sys.current);
  try {
    const vmas = vmasCovering(mm, start, end, 'madvise');
    for (const vma of vmas) checkMadviseVma(vma, advice);
    if (write) {
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
