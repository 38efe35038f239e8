/**
 * mprotect(2) — mm/mprotect.c: new vm_flags for a page range (merge with a neighbour or split into
 * up to three VMAs, every AVC and i_mmap node re-keyed by vma_adjust), then the PTEs of the range
 * follow (change_protection). Also the range walk and the merge-or-split step that mlock(2) and
 * madvise(2) share with it.
 */

import { migrationEntryWrprotect } from './anon-exclusive.js';
import {
  PAGE_SIZE,
  PROT_EXEC,
  PROT_READ,
  PROT_WRITE,
  PTE_DIRTY,
  PTE_MIGRATION,
  PTE_PRESENT,
  PTE_PROTNONE,
  PTE_SPECIAL,
  PTE_WRITE,
  TASK_SIZE,
  VM_ACCOUNT,
  VM_EXEC,
  VM_HUGETLB,
  VM_LOCKED,
  VM_NORESERVE,
  VM_READ,
  VM_SHARED,
  VM_WRITE,
} from './constants.js';
import { KernelError } from './errors.js';
import { populateVmaPageRange } from './mlock.js';
import { findVma, hex, splitVmaChecked, vmaMerge } from './mmap.js';
import type { MmSystem } from './system.js';
import type { Mm, VmArea } from './types.js';

/** VM_READ | VM_WRITE | VM_EXEC: the flags that mprotect(2) sets. */
const VM_ACCESS_FLAGS = VM_READ | VM_WRITE | VM_EXEC;

/**
 * The checks of a syscall that works on [start, start + len): the page-aligned range, or null for an
 * empty one (which the kernel accepts and ignores).
 */
export function userRange(start: number, len: number, what: string): { start: number; end: number } | null {
  if (start % PAGE_SIZE !== 0 || len < 0) throw new KernelError('EINVAL', `${what}: bad range ${hex(start)}`);
  if (len === 0) return null;
  const end = start + Math.ceil(len / PAGE_SIZE) * PAGE_SIZE;
  if (end > TASK_SIZE) throw new KernelError('ENOMEM', `${what}: range beyond the address space`);
  return { start, end };
}

/**
 * The VMAs that cover [start, end), in order — with the ENOMEM that mprotect, mlock and madvise
 * return for a hole. The kernel finds a hole only when its loop reaches it, after changing the VMAs
 * before it; the model checks first, so that a refused call changes nothing. O(log n + k).
 */
export function vmasCovering(mm: Mm, start: number, end: number, what: string): VmArea[] {
  const out: VmArea[] = [];
  let vma = findVma(mm, start);
  let at = start;
  while (at < end) {
    if (!vma || vma.vmStart > at) throw new KernelError('ENOMEM', `${what}: ${hex(at)} is not mapped`);
    out.push(vma);
    at = vma.vmEnd;
    vma = vma.vmNext;
  }
  return out;
}

/**
 * The loop of sys_mprotect() / apply_vma_lock_flags() / sys_madvise() over a range that
 * vmasCovering() checked: `fixup` gets each VMA, the `prev` to merge with and the part of the range
 * inside the VMA, and returns the VMA that covers that part afterwards (the kernel's *pprev).
 */
export function forEachVmaFixup(
  mm: Mm,
  start: number,
  end: number,
  fixup: (vma: VmArea, prev: VmArea | null, start: number, end: number) => VmArea,
): void {
  let vma = findVma(mm, start)!;
  let prev = start > vma.vmStart ? vma : vma.vmPrev;
  let nstart = start;
  for (;;) {
    const tmp = Math.min(vma.vmEnd, end);
    const done = fixup(vma, prev, nstart, tmp);
    prev = done;
    nstart = Math.max(tmp, done.vmEnd);
    if (nstart >= end) return;
    vma = done.vmNext!;
  }
}

/**
 * The merge-or-split step that 4.9 open-codes in mprotect_fixup(), mlock_fixup() and
 * madvise_behavior() (6.12 names it vma_modify_flags() — mm/vma.c): [start, end) of `vma` is to
 * have `newFlags`. vma_merge() with `prev` or the next VMA when one is compatible, else
 * __split_vma() at `start` (new VMA below) and at `end` (new VMA above), so that the range is a VMA
 * of its own. Returns that VMA with its new flags.
 */
export function vmaModifyFlags(
  sys: MmSystem,
  vma: VmArea,
  prev: VmArea | null,
  start: number,
  end: number,
  newFlags: number,
): VmArea {
  const pgoff = vma.vmPgoff + (start - vma.vmStart) / PAGE_SIZE;
  const merged = vmaMerge(sys, vma.vmMm, prev, start, end, newFlags, vma.anonVma, vma.vmFile, pgoff, vma);
  if (merged) return merged;
  if (start !== vma.vmStart) splitVmaChecked(sys, vma, start, true);
  if (end !== vma.vmEnd) splitVmaChecked(sys, vma, end, false);
  vma.vmFlags = newFlags;
  return vma;
}

/**
 * change_pte_range() — mm/mprotect.c: the PTEs of [start, end) in `vma` take its new protection.
 * An inaccessible VMA (PROT_NONE) keeps its pages mapped, with PTE_PROTNONE and no write bit: the
 * PTE stays pte_present(), the mapcount is unchanged and fork copies it. Otherwise PTE_PROTNONE
 * goes and the write bit follows vm_page_prot: never in a private mapping (a write faults and
 * reuses or copies), and in a writable shared one only on a dirty PTE (the write-notify rule of
 * dirty_accountable). A write migration entry becomes a read one (of an anonymous page, from 5.19,
 * readable-exclusive), as the kernel does to be safe.
 */
export function changeProtection(sys: MmSystem, vma: VmArea, start: number, end: number): number {
  const mm = vma.vmMm;
  const flags = vma.vmFlags;
  const none = (flags & VM_ACCESS_FLAGS) === 0;
  const sharedWrite = (flags & (VM_SHARED | VM_WRITE)) === (VM_SHARED | VM_WRITE);
  let changed = 0;
  mm.pgd.forEachTable(start, end, (t, first, last) => {
    t.ptl.lock(sys.current);
    for (let i = first; i < last; i++) {
      const old = t.bits[i];
      let bits = old;
      if (bits & PTE_MIGRATION) bits = migrationEntryWrprotect(sys, t.pfn[i], bits);
      else if (!(bits & PTE_PRESENT)) continue;
      else if (none) bits = (bits | PTE_PROTNONE) & ~PTE_WRITE;
      else {
        bits &= ~(PTE_PROTNONE | PTE_WRITE);
        if (sharedWrite && bits & PTE_DIRTY && !(bits & PTE_SPECIAL)) bits |= PTE_WRITE;
      }
      if (bits !== old) {
        t.bits[i] = bits;
        changed++;
      }
    }
    t.ptl.unlock(sys.current);
  });
  if (sys.tracing && changed)
    sys.trace('change_protection', `${vma.name}: ${changed} PTEs in [${hex(start)}, ${hex(end)})`, {
      vma: vma.id,
      mm: mm.id,
    });
  return changed;
}

/**
 * The accounting step of mprotect_fixup() — mm/mprotect.c: a private mapping that becomes writable
 * for the first time is charged and gets VM_ACCOUNT (4.9 and on). The commit is never given back
 * when it becomes read-only again — except, since `mprotect-unaccount-unfaulted` (6.7), by a private
 * anonymous VMA that has no anon_vma yet: it has no page that needs the commit. VM_ACCOUNT is part
 * of the flags vma_merge() compares, so such a VMA no longer merges with an accounted neighbour.
 */
function accountFlags(sys: MmSystem, vma: VmArea, oldFlags: number, newFlags: number): number {
  if (newFlags & VM_WRITE) {
    if (!(oldFlags & (VM_ACCOUNT | VM_WRITE | VM_HUGETLB | VM_SHARED | VM_NORESERVE)))
      return newFlags | VM_ACCOUNT;
  } else if (
    sys.rules['mprotect-unaccount-unfaulted'] &&
    oldFlags & VM_ACCOUNT &&
    !vma.vmFile &&
    !vma.anonVma
  )
    return newFlags & ~VM_ACCOUNT;
  return newFlags;
}

/**
 * mprotect_fixup() — mm/mprotect.c (4.9): [start, end) of `vma` gets `newFlags` (merge or split),
 * then its PTEs. A VM_LOCKED private mapping that becomes writable is populated again with write
 * faults, as mlock would have done (populate_vma_page_range): its COW sharing is broken now.
 * Returns the VMA that covers the range.
 */
export function mprotectFixup(
  sys: MmSystem,
  vma: VmArea,
  prev: VmArea | null,
  start: number,
  end: number,
  newFlags: number,
): VmArea {
  const oldFlags = vma.vmFlags;
  if (newFlags === oldFlags) return vma;
  newFlags = accountFlags(sys, vma, oldFlags, newFlags);
  const target = vmaModifyFlags(sys, vma, prev, start, end, newFlags);
  changeProtection(sys, target, start, end);
  if ((oldFlags & (VM_WRITE | VM_SHARED | VM_LOCKED)) === VM_LOCKED && newFlags & VM_WRITE)
    populateVmaPageRange(sys, target, start, end);
  if (sys.tracing)
    sys.trace('mprotect_fixup', `[${hex(start)}, ${hex(end)}) → ${target.name} flags ${hex(newFlags)}`, {
      vma: target.id,
      mm: vma.vmMm.id,
    });
  return target;
}

/** calc_vm_prot_bits() — include/linux/mman.h */
export function calcVmProtBits(prot: number): number {
  return (
    (prot & PROT_READ ? VM_READ : 0) | (prot & PROT_WRITE ? VM_WRITE : 0) | (prot & PROT_EXEC ? VM_EXEC : 0)
  );
}

/**
 * do_mprotect_pkey() — mm/mprotect.c: under mmap_sem for writing, every VMA of [start, start + len)
 * gets the new R/W/X bits. Refused when the range has a hole (ENOMEM) or asks for more than a
 * VMA's VM_MAY* bits allow (EACCES) — checked before anything changes.
 */
export function doMprotect(sys: MmSystem, mm: Mm, start: number, len: number, prot: number): void {
  if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC)) throw new KernelError('EINVAL', `bad prot ${hex(prot)}`);
  const range = userRange(start, len, 'mprotect');
  if (!range) return;
  const { end } = range;
  const vmFlags = calcVmProtBits(prot);
  mm.mmapSem.downWrite(sys.current);
  try {
    for (const vma of vmasCovering(mm, start, end, 'mprotect')) {
      const newFlags = vmFlags | (vma.vmFlags & ~VM_ACCESS_FLAGS);
      // The VM_MAY* bits sit 4 above the ones they allow.
      if (newFlags & ~(newFlags >> 4) & VM_ACCESS_FLAGS)
        throw new KernelError('EACCES', `mprotect: ${vma.name} may not get prot ${hex(prot)}`);
    }
    forEachVmaFixup(mm, start, end, (vma, prev, s, e) =>
      mprotectFixup(sys, vma, prev, s, e, vmFlags | (vma.vmFlags & ~VM_ACCESS_FLAGS)),
    );
  } finally {
    mm.mmapSem.upWrite(sys.current);
  }
}
