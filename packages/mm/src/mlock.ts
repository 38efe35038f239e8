/**
 * mlock(2) / munlock(2) — mm/mlock.c, with the populate of mm/gup.c: VM_LOCKED on a range (merge or
 * split like mprotect), then every page of the range faulted in and PG_mlocked. munlock clears
 * VM_LOCKED and munlocks the pages, which stay mlocked while another VM_LOCKED VMA maps them
 * (try_to_munlock, installed by @rmaplab/rmap).
 */
import {
  PAGE_SIZE,
  PTE_PRESENT,
  PTE_SPECIAL,
  PTE_WRITE,
  VM_EXEC,
  VM_HUGETLB,
  VM_IO,
  VM_LOCKED,
  VM_LOCKONFAULT,
  VM_PFNMAP,
  VM_READ,
  VM_SHARED,
  VM_WRITE,
} from './constants.js';
import { KernelError } from './errors.js';
import { handlePteFault, munlockVmaPagesRange, readPte } from './memory.js';
import { findVma, hex, VM_SPECIAL } from './mmap.js';
import { forEachVmaFixup, userRange, vmaModifyFlags, vmasCovering } from './mprotect.js';
import { mlockVmaPage } from './rmap.js';
import type { MmSystem } from './system.js';
import type { Mm, VmArea } from './types.js';

/** VM_LOCKED_CLEAR_MASK — include/linux/mm.h: both ways of being locked. */
const VM_LOCKED_MASK = VM_LOCKED | VM_LOCKONFAULT;

/**
 * Whether populate_vma_page_range() writes: FOLL_WRITE for a private writable mapping, "to break
 * COW" — every page becomes an exclusive anonymous page of this VMA (mm/gup.c).
 */
function populateWrites(vma: VmArea): boolean {
  return (vma.vmFlags & (VM_WRITE | VM_SHARED)) === VM_WRITE;
}

/**
 * populate_vma_page_range() — mm/gup.c (4.9), as __get_user_pages() runs it with FOLL_POPULATE |
 * FOLL_MLOCK (and FOLL_WRITE for a private writable mapping): each page of [start, end) that is
 * absent — or read-only when writing — is faulted in (faultin_page → handle_mm_fault), then
 * follow_page_pte() mlocks it if the VMA is VM_LOCKED. The zero page has no mapping and is never
 * mlocked; it is replaced when writing. The caller holds mmap_sem.
 */
export function populateVmaPageRange(sys: MmSystem, vma: VmArea, start: number, end: number): void {
  if (vma.vmFlags & VM_LOCKONFAULT) return;
  const mm = vma.vmMm;
  const write = populateWrites(vma);
  const locked = (vma.vmFlags & VM_LOCKED) !== 0;
  for (let addr = start; addr < end; addr += PAGE_SIZE) {
    let pte = readPte(mm, addr);
    if (!(pte.bits & PTE_PRESENT) || (write && !(pte.bits & PTE_WRITE))) {
      handlePteFault(sys, mm, vma, addr, write);
      pte = readPte(mm, addr);
    }
    if (locked && !(pte.bits & PTE_SPECIAL)) mlockVmaPage(sys, pte.pfn);
  }
  if (sys.tracing)
    sys.trace(
      'populate_vma_page_range',
      `${vma.name}: [${hex(start)}, ${hex(end)}) faulted in with ${write ? 'write' : 'read'} faults`,
      { vma: vma.id, mm: mm.id },
    );
}

/**
 * Where get_user_pages() stops populating [start, end) of `vma`: at once in a VMA with no R/W/X
 * (check_vma_flags: -EFAULT), else at the first page beyond the end of its file (SIGBUS: -EFAULT).
 */
function populateLimit(vma: VmArea, start: number, end: number): number {
  if (!(vma.vmFlags & (VM_READ | VM_WRITE | VM_EXEC))) return start;
  const file = vma.vmFile;
  if (!file) return end;
  return Math.max(start, Math.min(end, vma.vmStart + (file.sizePages - vma.vmPgoff) * PAGE_SIZE));
}

/**
 * __mm_populate() — mm/gup.c: populate every VMA of [start, end) under mmap_sem for reading
 * (VM_IO/VM_PFNMAP mappings are skipped). A VMA that get_user_pages() fails on is populated up to
 * the failure; the callers that may not fail (mlock) checked with populateLimit() first.
 */
export function mmPopulate(sys: MmSystem, mm: Mm, start: number, end: number): void {
  mm.mmapSem.downRead(sys.current);
  try {
    for (let vma = findVma(mm, start); vma && vma.vmStart < end; vma = vma.vmNext) {
      if (vma.vmFlags & (VM_IO | VM_PFNMAP)) continue;
      const s = Math.max(start, vma.vmStart);
      const e = Math.min(end, vma.vmEnd);
      populateVmaPageRange(sys, vma, s, populateLimit(vma, s, e));
    }
  } finally {
    mm.mmapSem.upRead(sys.current);
  }
}

/**
 * mlock_fixup() — mm/mlock.c (4.9): VM_SPECIAL and hugetlb VMAs are left alone; otherwise the
 * range gets `newFlags` (merge or split). Locking only sets the flag (the populate comes after);
 * unlocking munlocks every page mapped in the range (munlock_vma_pages_range).
 */
export function mlockFixup(
  sys: MmSystem,
  vma: VmArea,
  prev: VmArea | null,
  start: number,
  end: number,
  newFlags: number,
): VmArea {
  if (newFlags === vma.vmFlags || vma.vmFlags & (VM_SPECIAL | VM_HUGETLB)) return vma;
  const target = vmaModifyFlags(sys, vma, prev, start, end, newFlags);
  if (!(newFlags & VM_LOCKED)) munlockVmaPagesRange(sys, target, start, end);
  if (sys.tracing)
    sys.trace(
      'mlock_fixup',
      `[${hex(start)}, ${hex(end)}) of ${target.name} ${newFlags & VM_LOCKED ? 'locked' : 'unlocked'}`,
      { vma: target.id, mm: vma.vmMm.id },
    );
  return target;
}

/**
 * apply_vma_lock_flags() — mm/mlock.c: under mmap_sem for writing, every VMA of the range gets
 * VM_LOCKED (or loses it).
 */
function applyVmaLockFlags(sys: MmSystem, mm: Mm, start: number, end: number, flags: number): void {
  mm.mmapSem.downWrite(sys.current);
  try {
    forEachVmaFixup(mm, start, end, (vma, prev, s, e) =>
      mlockFixup(sys, vma, prev, s, e, (vma.vmFlags & ~VM_LOCKED_MASK) | flags),
    );
  } finally {
    mm.mmapSem.upWrite(sys.current);
  }
}

/** mlock and munlock round the start down to its page and grow the length to match (do_mlock). */
function lockRange(start: number, len: number, what: string): { start: number; end: number } | null {
  const inPage = start % PAGE_SIZE;
  return userRange(start - inPage, len > 0 ? len + inPage : len, what);
}

/**
 * do_mlock() — mm/mlock.c: VM_LOCKED on [start, start + len), then __mm_populate(): write faults
 * in private writable mappings (so the locker stops sharing pages with fork relatives and KSM),
 * read faults elsewhere, and every page mlocked. Refused before any change when the range has a
 * hole or could not be populated (ENOMEM).
 */
export function doMlock(sys: MmSystem, mm: Mm, start: number, len: number): void {
  const range = lockRange(start, len, 'mlock');
  if (!range) return;
  const { end } = range;
  mm.mmapSem.downRead(sys.current);
  try {
    // The kernel sets VM_LOCKED and then fails the populate with ENOMEM
    // (__mlock_posix_error_return); the model refuses before any change.
    for (const vma of vmasCovering(mm, start, end, 'mlock')) {
      if (vma.vmFlags & (VM_IO | VM_PFNMAP | VM_LOCKONFAULT)) continue;
      const s = Math.max(start, vma.vmStart);
      const e = Math.min(end, vma.vmEnd);
      if (populateLimit(vma, s, e) < e)
        throw new KernelError(
          'ENOMEM',
          `mlock: get_user_pages fails in ${vma.name} (PROT_NONE or beyond EOF)`,
        );
    }
  } finally {
    mm.mmapSem.upRead(sys.current);
  }
  applyVmaLockFlags(sys, mm, start, end, VM_LOCKED);
  mmPopulate(sys, mm, start, end);
}

/** sys_munlock() — mm/mlock.c: VM_LOCKED off on [start, start + len); the pages stay. */
export function doMunlock(sys: MmSystem, mm: Mm, start: number, len: number): void {
  const range = lockRange(start, len, 'munlock');
  if (!range) return;
  mm.mmapSem.downRead(sys.current);
  try {
    vmasCovering(mm, range.start, range.end, 'munlock');
  } finally {
    mm.mmapSem.upRead(sys.current);
  }
  applyVmaLockFlags(sys, mm, range.start, range.end, 0);
}
