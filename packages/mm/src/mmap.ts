/**
 * VMA management of mm/mmap.c: the per-mm list and tree of VMAs, mmap_region with vma_merge,
 * __split_vma / __vma_adjust (which keep every AVC and i_mmap node keyed right across a change of
 * vm_start, vm_end or vm_pgoff), do_munmap and exit_mmap.
 */
import {
  MAP_SHARED,
  PAGE_SIZE,
  PROT_EXEC,
  PROT_READ,
  PROT_WRITE,
  TASK_SIZE,
  VM_ACCOUNT,
  VM_DONTEXPAND,
  VM_EXEC,
  VM_IO,
  VM_LOCKED,
  VM_MAYEXEC,
  VM_MAYREAD,
  VM_MAYSHARE,
  VM_MAYWRITE,
  VM_MIXEDMAP,
  VM_NORESERVE,
  VM_PFNMAP,
  VM_READ,
  VM_SHARED,
  VM_WRITE,
} from './constants.js';
import { KernelError } from './errors.js';
import { shmemEvictInode, shmemZeroSetup } from './filemap.js';
import {
  anonVmaIntervalTreePostUpdateVma,
  anonVmaIntervalTreePreUpdateVma,
  vmaIntervalTreeInsert,
  vmaIntervalTreeRemove,
} from './interval-tree.js';
import { munlockVmaPagesRange, zapPageRange } from './memory.js';
import { anonVmaClone, anonVmaLockWrite, anonVmaUnlockWrite, unlinkAnonVmas } from './rmap.js';
import type { MmSystem } from './system.js';
import { type File, type Mm, VmArea } from './types.js';

/** VM_SPECIAL — include/linux/mm.h: mappings that never merge. */
export const VM_SPECIAL = VM_IO | VM_DONTEXPAND | VM_PFNMAP | VM_MIXEDMAP;

/** Where top-down allocation of unmapped areas starts (mm->mmap_base). */
export const MMAP_BASE = 0x7f0000000000;

/** calc_vm_prot_bits() + calc_vm_flag_bits() + the VM_MAY* defaults of do_mmap — mm/mmap.c */
export function vmFlagsFor(prot: number, mapFlags: number): number {
  let f = VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
  if (prot & PROT_READ) f |= VM_READ;
  if (prot & PROT_WRITE) f |= VM_WRITE;
  if (prot & PROT_EXEC) f |= VM_EXEC;
  if (mapFlags & MAP_SHARED) f |= VM_SHARED | VM_MAYSHARE;
  return f;
}

/** find_vma() — mm/mmap.c: the first VMA with vm_end > addr, in O(log n). */
export function findVma(mm: Mm, addr: number): VmArea | null {
  return mm.mmRb.iterFirst(addr, Number.MAX_SAFE_INTEGER)?.value ?? null;
}

/** The VMA containing `addr`, or null. */
export function vmaAt(mm: Mm, addr: number): VmArea | null {
  const vma = findVma(mm, addr);
  return vma && vma.vmStart <= addr ? vma : null;
}

/** Re-key a VMA in mm->mm_rb after its bounds changed (vma_rb_erase + vma_rb_insert). */
function vmaRbUpdate(mm: Mm, vma: VmArea): void {
  if (vma.vmRb) mm.mmRb.remove(vma.vmRb);
  vma.vmRb = mm.mmRb.insert(vma.vmStart, vma.vmEnd - 1, vma);
}

/** __vma_link_list() + __vma_link_rb() — mm/mmap.c */
export function vmaLinkList(mm: Mm, vma: VmArea, prev: VmArea | null): void {
  vma.vmPrev = prev;
  const next = prev ? prev.vmNext : mm.mmap;
  if (prev) prev.vmNext = vma;
  else mm.mmap = vma;
  vma.vmNext = next;
  if (next) next.vmPrev = vma;
  vmaRbUpdate(mm, vma);
  mm.mapCount++;
}

/** __vma_unlink() — mm/mmap.c */
function vmaUnlinkList(mm: Mm, vma: VmArea): void {
  const { vmPrev: prev, vmNext: next } = vma;
  if (prev) prev.vmNext = next;
  else mm.mmap = next;
  if (next) next.vmPrev = prev;
  vma.vmPrev = vma.vmNext = null;
  if (vma.vmRb) mm.mmRb.remove(vma.vmRb);
  vma.vmRb = null;
  mm.mapCount--;
}

/** __vma_link_file() — mm/mmap.c: a file VMA joins the file's i_mmap tree. */
export function vmaLinkFile(vma: VmArea): void {
  const file = vma.vmFile;
  if (!file) return;
  if (vma.vmFlags & VM_SHARED) file.mapping.iMmapWritable++;
  vmaIntervalTreeInsert(vma, file.mapping.iMmap);
}

/** __remove_shared_vm_struct() — mm/mmap.c */
function removeSharedVmStruct(vma: VmArea, file: File): void {
  if (vma.vmFlags & VM_SHARED) file.mapping.iMmapWritable--;
  vmaIntervalTreeRemove(vma, file.mapping.iMmap);
}

/** unlink_file_vma() — mm/mmap.c: under i_mmap_rwsem, take the VMA out of i_mmap. */
export function unlinkFileVma(sys: MmSystem, vma: VmArea): void {
  const file = vma.vmFile;
  if (!file || !vma.shared) return;
  file.mapping.iMmapRwsem.downWrite(sys.current);
  removeSharedVmStruct(vma, file);
  file.mapping.iMmapRwsem.upWrite(sys.current);
}

/** vma_link() — mm/mmap.c: into the mm's list and tree, and the file's i_mmap. */
export function vmaLink(sys: MmSystem, mm: Mm, vma: VmArea, prev: VmArea | null): void {
  const file = vma.vmFile;
  if (file) file.mapping.iMmapRwsem.downWrite(sys.current);
  vmaLinkList(mm, vma, prev);
  vmaLinkFile(vma);
  if (file) file.mapping.iMmapRwsem.upWrite(sys.current);
}

/**
 * The last VMA that starts below `addr` (the `prev` of find_vma_links() — mm/mmap.c). With no VMA
 * at or above `addr` it is the highest one, taken from mm_rb's last node rather than by walking
 * the mm->mmap list, so each mmap costs O(log n) and not O(map_count).
 */
export function findVmaPrev(mm: Mm, addr: number): VmArea | null {
  const next = findVma(mm, addr);
  if (next) return next.vmStart < addr ? next : next.vmPrev;
  return mm.mmRb.last()?.value ?? null;
}

/** A new VMA object (vm_area_alloc). */
export function newVma(
  sys: MmSystem,
  mm: Mm,
  start: number,
  end: number,
  pgoff: number,
  flags: number,
  file: File | null,
): VmArea {
  return new VmArea(sys.nextId(), mm, start, end, pgoff, flags, file);
}

/** is_mergeable_vma() — mm/mmap.c */
function isMergeableVma(vma: VmArea, flags: number, file: File | null): boolean {
  return vma.vmFlags === flags && vma.vmFile === file;
}

/**
 * is_mergeable_anon_vma() — mm/mmap.c (mm/vma.c from 6.12): `a` is the anon_vma of the range to
 * merge, that of `src`, the VMA it is part of (null for a new range, and for copy_vma's, whose
 * old VMA goes), and `b` that of `vma`, the neighbour it would join (null when prev and next are
 * checked against each other). Different anon_vmas never merge; when one side has none, the
 * list_is_singular() test keeps a VMA forked from a parent out. Until 6.15 that test is on the
 * neighbour, so an anon_vma never joins a neighbour without one (which has no AVC at all); from
 * 6.16 (rule merge-anon-vma-directional) it is on whichever side has the anon_vma
 * (vma_had_uncowed_parents), so a faulted, unforked range joins an unfaulted neighbour.
 */
function isMergeableAnonVma(
  sys: MmSystem,
  a: VmArea['anonVma'],
  b: VmArea['anonVma'],
  vma: VmArea | null,
  src: VmArea | null,
): boolean {
  if (a && b) return a === b;
  if (!a && !b) return true;
  if (!vma) return true;
  if (!sys.rules['merge-anon-vma-directional']) return vma.anonVmaChain.length === 1;
  const owner = a ? src : vma;
  return !owner || owner.anonVmaChain.length === 1;
}

/** can_vma_merge_before() — mm/mmap.c: the range (of `src`) could merge in front of `vma`. */
function canVmaMergeBefore(
  sys: MmSystem,
  vma: VmArea,
  flags: number,
  anonVma: VmArea['anonVma'],
  file: File | null,
  pgoff: number,
  src: VmArea | null,
): boolean {
  return (
    isMergeableVma(vma, flags, file) &&
    isMergeableAnonVma(sys, anonVma, vma.anonVma, vma, src) &&
    vma.vmPgoff === pgoff
  );
}

/** can_vma_merge_after() — mm/mmap.c: the range (of `src`) could merge after `vma`. */
function canVmaMergeAfter(
  sys: MmSystem,
  vma: VmArea,
  flags: number,
  anonVma: VmArea['anonVma'],
  file: File | null,
  pgoff: number,
  src: VmArea | null,
): boolean {
  return (
    isMergeableVma(vma, flags, file) &&
    isMergeableAnonVma(sys, anonVma, vma.anonVma, vma, src) &&
    vma.vmPgoff + vma.pages === pgoff
  );
}

/**
 * vma_merge() — mm/mmap.c (4.9). Merge [addr, end) with prev and/or next, which must be
 * compatible (flags, file, anon_vma, linear pgoff). `src` is the VMA the range comes from: the one
 * a part of which changes (6.18's vmg->middle), or the one copy_vma() copies; null for a new
 * range. Returns the surviving VMA or null. The kernel numbers the shapes 1–8; the comments name
 * them.
 */
export function vmaMerge(
  sys: MmSystem,
  mm: Mm,
  prev: VmArea | null,
  addr: number,
  end: number,
  flags: number,
  anonVma: VmArea['anonVma'],
  file: File | null,
  pgoff: number,
  src: VmArea | null = null,
): VmArea | null {
  if (flags & VM_SPECIAL) return null;
  const pglen = (end - addr) / PAGE_SIZE;
  let next = prev ? prev.vmNext : mm.mmap;
  const area = next;
  if (area && area.vmEnd === end) next = next!.vmNext; // cases 6, 7, 8
  if (prev && prev.vmEnd === addr && canVmaMergeAfter(sys, prev, flags, anonVma, file, pgoff, src)) {
    if (
      next &&
      end === next.vmStart &&
      canVmaMergeBefore(sys, next, flags, anonVma, file, pgoff + pglen, src) &&
      isMergeableAnonVma(sys, prev.anonVma, next.anonVma, null, null)
    ) {
      vmaAdjust(sys, prev, prev.vmStart, next.vmEnd, prev.vmPgoff, null); // cases 1, 6
    } else {
      vmaAdjust(sys, prev, prev.vmStart, end, prev.vmPgoff, null); // cases 2, 5, 7
    }
    dupAnonVma(sys, prev, anonVma, src);
    if (sys.tracing) sys.trace('vma_merge', `merged into ${prev.name}`, { vma: prev.id, mm: mm.id });
    return prev;
  }
  if (
    next &&
    end === next.vmStart &&
    canVmaMergeBefore(sys, next, flags, anonVma, file, pgoff + pglen, src)
  ) {
    if (prev && addr < prev.vmEnd)
      vmaAdjust(sys, prev, prev.vmStart, addr, prev.vmPgoff, null); // case 4
    else vmaAdjust(sys, area!, addr, next.vmEnd, next.vmPgoff - pglen, null, next); // cases 3, 8
    dupAnonVma(sys, next, anonVma, src);
    if (sys.tracing) sys.trace('vma_merge', `merged into ${next.name}`, { vma: next.id, mm: mm.id });
    return next;
  }
  return null;
}

/**
 * dup_anon_vma() — mm/vma.c: a survivor without an anon_vma that took in the range of another
 * VMA's anon_vma joins it, so that the walk still reaches the pages. __vma_adjust() does it when
 * the range was part of a neighbour; a range that copy_vma() (mremap) brings from elsewhere can
 * merge into an unfaulted neighbour only from 6.16 (merge-anon-vma-directional), and needs it
 * here. (6.18.2 forgot it there, leaving the pages to an anon_vma that the old VMA's unmapping
 * frees; the stable fix of January 2026 adds it. The model follows the fix.)
 */
function dupAnonVma(sys: MmSystem, dst: VmArea, anonVma: VmArea['anonVma'], src: VmArea | null): void {
  if (!anonVma || dst.anonVma || !src) return;
  dst.anonVma = anonVma;
  anonVmaClone(sys, dst, src);
}

/**
 * __vma_adjust() — mm/mmap.c (4.9). Give `vma` new bounds and pgoff; remove the next VMA(s) it now
 * covers, or move the boundary with its neighbour, or insert `insert` (a split's other half).
 * `expand` is the VMA that grows; when it is `vma`'s successor (vma_merge case 8) the two swap
 * roles and `vma` is the one removed. Every AVC and i_mmap node whose key changes is removed before
 * and re-inserted after the change.
 */
export function vmaAdjust(
  sys: MmSystem,
  vma: VmArea,
  start: number,
  end: number,
  pgoff: number,
  insert: VmArea | null,
  expand: VmArea = vma,
): void {
  const mm = vma.vmMm;
  let next = vma.vmNext;
  let removeNext = 0;
  let adjustNext = 0;
  if (next && !insert) {
    let exporter: VmArea | null = null;
    let importer: VmArea | null = null;
    if (end >= next.vmEnd) {
      if (next === expand) {
        removeNext = 3; // case 8: next grows down over vma, vma goes
        [vma, next] = [next, vma];
      } else {
        removeNext = end > next.vmEnd ? 2 : 1; // 2: case 6, next->vm_next goes too
        end = next.vmEnd; // first pass of case 6 stops at next's end
      }
      exporter = next;
      importer = vma;
      if (removeNext === 2 && !next.anonVma) exporter = next.vmNext;
    } else if (end > next.vmStart) {
      adjustNext = (end - next.vmStart) / PAGE_SIZE; // case 5: vma grows into next
      exporter = next;
      importer = vma;
    } else if (end < vma.vmEnd) {
      adjustNext = -(vma.vmEnd - end) / PAGE_SIZE; // case 4: vma shrinks, next grows
      exporter = vma;
      importer = next;
    }
    // The importer must reach every page that the exporter's anon_vma holds.
    if (exporter?.anonVma && importer && !importer.anonVma) {
      importer.anonVma = exporter.anonVma;
      anonVmaClone(sys, importer, exporter);
    }
  }
  for (;;) {
    const file = vma.vmFile;
    const mapping = file?.mapping ?? null;
    if (mapping) {
      mapping.iMmapRwsem.downWrite(sys.current);
      if (insert) vmaLinkFile(insert);
    }
    let anonVma = vma.anonVma;
    if (!anonVma && adjustNext) anonVma = next!.anonVma;
    if (anonVma) {
      anonVmaLockWrite(sys, anonVma);
      anonVmaIntervalTreePreUpdateVma(vma);
      if (adjustNext) anonVmaIntervalTreePreUpdateVma(next!);
    }
    if (mapping) {
      vmaIntervalTreeRemove(vma, mapping.iMmap);
      if (adjustNext) vmaIntervalTreeRemove(next!, mapping.iMmap);
    }
    vma.vmStart = start;
    vma.vmEnd = end;
    vma.vmPgoff = pgoff;
    if (adjustNext) {
      next!.vmStart += adjustNext * PAGE_SIZE;
      next!.vmPgoff += adjustNext;
    }
    if (mapping) {
      if (adjustNext) vmaIntervalTreeInsert(next!, mapping.iMmap);
      vmaIntervalTreeInsert(vma, mapping.iMmap);
    }
    if (removeNext) {
      vmaUnlinkList(mm, next!);
      if (file) removeSharedVmStruct(next!, file);
    } else if (insert) {
      vmaLinkList(mm, insert, insert.vmStart < vma.vmStart ? vma.vmPrev : vma);
    }
    vmaRbUpdate(mm, vma);
    if (adjustNext) vmaRbUpdate(mm, next!);
    if (anonVma) {
      anonVmaIntervalTreePostUpdateVma(vma);
      if (adjustNext) anonVmaIntervalTreePostUpdateVma(next!);
      anonVmaUnlockWrite(sys, anonVma);
    }
    if (mapping) mapping.iMmapRwsem.upWrite(sys.current);
    if (!removeNext) break;
    // anon_vma_merge(): every page of the removed VMA is reachable through vma's anon_vma.
    if (next!.anonVma) unlinkAnonVmas(sys, next!);
    if (sys.tracing) sys.trace('__vma_adjust', `${next!.name} merged away into ${vma.name}`, { vma: vma.id });
    next = removeNext !== 3 ? vma.vmNext : vma;
    if (removeNext !== 2) break;
    removeNext = 1; // case 6, second pass: remove the VMA after next as well
    end = next!.vmEnd;
    insert = null;
  }
  if (sys.tracing)
    sys.trace('vma_adjust', `${vma.name} = [${hex(vma.vmStart)}, ${hex(vma.vmEnd)}) pgoff ${vma.vmPgoff}`, {
      vma: vma.id,
      mm: mm.id,
    });
}

/**
 * __split_vma() — mm/mmap.c: split `vma` at `addr`. The new VMA is the lower part when
 * `newBelow`, else the upper part (whose pgoff advances). It is attached to every anon_vma of
 * `vma` (anon_vma_clone) and to the file's i_mmap.
 */
export function splitVma(sys: MmSystem, vma: VmArea, addr: number, newBelow: boolean): VmArea {
  const mm = vma.vmMm;
  if (addr <= vma.vmStart || addr >= vma.vmEnd || addr % PAGE_SIZE !== 0)
    throw new Error(`split of ${vma.name} at ${hex(addr)} outside it`);
  const n = newVma(sys, mm, vma.vmStart, vma.vmEnd, vma.vmPgoff, vma.vmFlags, vma.vmFile);
  if (newBelow) n.vmEnd = addr;
  else {
    n.vmStart = addr;
    n.vmPgoff += (addr - vma.vmStart) / PAGE_SIZE;
  }
  n.anonVma = vma.anonVma;
  anonVmaClone(sys, n, vma);
  if (newBelow) vmaAdjust(sys, vma, addr, vma.vmEnd, vma.vmPgoff + (addr - n.vmStart) / PAGE_SIZE, n);
  else vmaAdjust(sys, vma, vma.vmStart, addr, vma.vmPgoff, n);
  if (sys.tracing)
    sys.trace('__split_vma', `${vma.name} split at ${hex(addr)}: new ${n.name}`, { vma: n.id });
  return n;
}

/**
 * split_vma() — mm/mmap.c (4.9; mm/vma.c in 6.18): __split_vma behind the vm.max_map_count check.
 * A split adds a VMA, so it is refused when map_count has already reached the limit (`>=`).
 */
export function splitVmaChecked(sys: MmSystem, vma: VmArea, addr: number, newBelow: boolean): VmArea {
  checkMapCountForSplit(sys, vma.vmMm, 'split_vma');
  return splitVma(sys, vma, addr, newBelow);
}

/** The `map_count >= sysctl_max_map_count` refusal of split_vma and of munmap's middle split. */
function checkMapCountForSplit(sys: MmSystem, mm: Mm, what: string): void {
  if (mm.mapCount >= sys.options.maxMapCount)
    throw new KernelError(
      'ENOMEM',
      `${what}: map_count ${mm.mapCount} reached max_map_count ${sys.options.maxMapCount}`,
    );
}

/**
 * accountable_mapping() — mm/mmap.c (4.9; mm/vma.c in 6.18): a private writable mapping commits
 * memory it may have to back with its own pages (COW copies, anonymous pages), so it is accounted
 * (VM_ACCOUNT); a shared one is backed by its file or shmem object, which accounts for itself.
 * (The kernel also leaves out hugetlbfs files, which the model has none of.)
 */
export function accountableMapping(flags: number): boolean {
  return (flags & (VM_NORESERVE | VM_SHARED | VM_WRITE)) === VM_WRITE;
}

/**
 * mmap_region() — mm/mmap.c: map [addr, addr + len) (MAP_FIXED semantics: whatever is there is
 * unmapped first), merging with compatible neighbours, else linking a new VMA. An accountable
 * mapping gets VM_ACCOUNT before the merge is tried, so it only merges with accounted neighbours.
 * The commit charge itself (vm_acct_memory) is not modelled: without an overcommit limit nothing
 * could refuse it.
 */
export function mmapRegion(
  sys: MmSystem,
  mm: Mm,
  addr: number,
  len: number,
  flags: number,
  file: File | null,
  pgoff: number,
): VmArea {
  const end = addr + len;
  if (accountableMapping(flags)) flags |= VM_ACCOUNT;
  doMunmap(sys, mm, addr, len);
  const prev = findVmaPrev(mm, addr);
  // File mappings merge too (same file, contiguous pgoff); a shmem mapping's file is new, so it never does.
  const merged = vmaMerge(sys, mm, prev, addr, end, flags, null, file, pgoff);
  if (merged) return merged;
  const vma = newVma(sys, mm, addr, end, pgoff, flags, file);
  vmaLink(sys, mm, vma, prev);
  if (sys.tracing)
    sys.trace(
      'mmap_region',
      `${vma.name} [${hex(addr)}, ${hex(end)}) pgoff ${pgoff}${file ? ` ${file.name}` : ''}`,
      {
        vma: vma.id,
        mm: mm.id,
        file: file?.name,
      },
    );
  return vma;
}

/** The mmap flags of a private or shared mapping with the given protection. */
export interface MmapRequest {
  /** Fixed address (MAP_FIXED), or undefined for a kernel-chosen one. */
  addr?: number;
  /** Length in bytes (rounded up to pages). */
  len: number;
  prot: number;
  /** MAP_SHARED or MAP_PRIVATE (MAP_ANONYMOUS is implied by a missing file). */
  flags: number;
  file?: File | null;
  /** File offset in pages. */
  pgoff?: number;
}

/**
 * do_mmap() — mm/mmap.c: checks, vm_flags, the page offset rules (private anon: addr >> PAGE_SHIFT;
 * shared anon: a new shmem file at offset 0), then mmap_region().
 */
export function doMmap(sys: MmSystem, mm: Mm, req: MmapRequest): VmArea {
  if (mm.dead) throw new KernelError('EINVAL', 'mmap in an exited address space');
  const len = Math.ceil(req.len / PAGE_SIZE) * PAGE_SIZE;
  if (!(len > 0) || len > TASK_SIZE) throw new KernelError('EINVAL', `bad mmap length ${req.len}`);
  const shared = (req.flags & MAP_SHARED) !== 0;
  const addr = req.addr ?? getUnmappedArea(mm, len);
  if (addr % PAGE_SIZE !== 0 || addr < PAGE_SIZE || addr + len > TASK_SIZE)
    throw new KernelError('EINVAL', `bad mmap address ${hex(addr)}`);
  let file = req.file ?? null;
  let pgoff = req.pgoff ?? 0;
  const flags = vmFlagsFor(req.prot, req.flags);
  // do_mmap() refuses only when map_count is already above the limit (`>`, not `>=`): at the limit
  // one more mapping is still made, in 4.9 as in 6.18.
  if (mm.mapCount > sys.options.maxMapCount)
    throw new KernelError(
      'ENOMEM',
      `mmap: map_count ${mm.mapCount} above max_map_count ${sys.options.maxMapCount}`,
    );
  if (!file) {
    if (shared) {
      file = shmemZeroSetup(sys, len / PAGE_SIZE);
      pgoff = 0;
    } else pgoff = addr / PAGE_SIZE;
  }
  mm.mmapSem.downWrite(sys.current);
  try {
    return mmapRegion(sys, mm, addr, len, flags, file, pgoff);
  } finally {
    mm.mmapSem.upWrite(sys.current);
  }
}

/** arch_get_unmapped_area_topdown() in spirit: the highest free range below the lowest mapping. */
export function getUnmappedArea(mm: Mm, len: number): number {
  const low = mm.mmap ? Math.min(mm.mmap.vmStart, MMAP_BASE) : MMAP_BASE;
  const addr = low - len;
  if (addr < PAGE_SIZE) throw new KernelError('ENOMEM', 'no room for the mapping');
  return addr;
}

/**
 * remove_vma() — mm/mmap.c: the VMA is gone and drops its file reference (fput); a shmem object's
 * only references are the VMAs that map it, so the last one frees it.
 */
function removeVma(sys: MmSystem, vma: VmArea): void {
  if (sys.tracing) sys.trace('remove_vma', `free ${vma.name}`, { vma: vma.id });
  const file = vma.vmFile;
  if (file?.shmem && file.mapping.iMmap.size === 0) shmemEvictInode(sys, file);
}

/**
 * unmap_region() + free_pgtables() — mm/mmap.c, mm/memory.c: zap the PTEs of the detached VMAs,
 * then unlink each from its anon_vmas and its file.
 */
function unmapRegion(sys: MmSystem, mm: Mm, vmas: VmArea[]): void {
  for (const vma of vmas) zapPageRange(sys, mm, vma, vma.vmStart, vma.vmEnd);
  for (const vma of vmas) {
    unlinkAnonVmas(sys, vma);
    unlinkFileVma(sys, vma);
  }
}

/**
 * do_munmap() — mm/mmap.c: split at the range's ends, munlock, detach the VMAs inside, zap
 * their pages and free them. Unmapping nothing is not an error.
 */
export function doMunmap(sys: MmSystem, mm: Mm, start: number, len: number): void {
  if (start % PAGE_SIZE !== 0 || len <= 0) throw new KernelError('EINVAL', 'bad munmap range');
  const end = start + Math.ceil(len / PAGE_SIZE) * PAGE_SIZE;
  let vma = findVma(mm, start);
  if (!vma || vma.vmStart >= end) return;
  let prev = vma.vmPrev;
  if (start > vma.vmStart) {
    // Unmapping the middle of a VMA leaves one more VMA, so it needs room below the limit; cutting
    // an end off does not (its split is __split_vma, unchecked).
    if (end < vma.vmEnd) checkMapCountForSplit(sys, mm, 'munmap');
    splitVma(sys, vma, start, false);
    prev = vma;
  }
  const last = findVma(mm, end);
  if (last && end > last.vmStart) splitVma(sys, last, end, true);
  vma = prev ? prev.vmNext : mm.mmap;
  const detached: VmArea[] = [];
  for (let v = vma; v && v.vmStart < end; v = v.vmNext) detached.push(v);
  for (const v of detached) if (v.vmFlags & VM_LOCKED) munlockVmaPagesRange(sys, v, v.vmStart, v.vmEnd);
  for (const v of detached) vmaUnlinkList(mm, v);
  unmapRegion(sys, mm, detached);
  for (const v of detached) removeVma(sys, v);
  if (sys.tracing && detached.length)
    sys.trace('do_munmap', `unmapped [${hex(start)}, ${hex(end)}) (${detached.length} VMA)`, { mm: mm.id });
}

/** exit_mmap() — mm/mmap.c: munlock, zap and free every VMA; the page tables go with them. */
export function exitMmap(sys: MmSystem, mm: Mm): void {
  const vmas = [...mm.vmas()];
  for (const v of vmas) if (v.vmFlags & VM_LOCKED) munlockVmaPagesRange(sys, v, v.vmStart, v.vmEnd);
  for (const v of vmas) vmaUnlinkList(mm, v);
  unmapRegion(sys, mm, vmas);
  for (const v of vmas) removeVma(sys, v);
  mm.dead = true;
  sys.mms.delete(mm);
  if (sys.tracing) sys.trace('exit_mmap', `mm${mm.id} torn down`, { mm: mm.id });
}

export function hex(n: number): string {
  return `0x${n.toString(16)}`;
}
