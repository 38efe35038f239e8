/**
 * mremap(2) — mm/mremap.c: shrink (unmap the tail), grow in place (vma_adjust), or move: copy_vma()
 * makes the new VMA with the OLD linear page offset (so vma_address() still finds every anonymous
 * page, whose index does not change) and clones its anon_vma chain, move_page_tables() carries the
 * PTEs over without any rmap change, and do_munmap() removes the old range.
 */
import {
  PAGE_SIZE,
  PMD_SIZE,
  TASK_SIZE,
  VM_DONTEXPAND,
  VM_HUGETLB,
  VM_LOCKED,
  VM_MERGEABLE,
  VM_PFNMAP,
} from './constants.js';
import { KernelError } from './errors.js';
import { ksmMadvise } from './ksm.js';
import { setPte } from './memory.js';
import { mmPopulate } from './mlock.js';
import {
  doMunmap,
  findVma,
  findVmaPrev,
  hex,
  MMAP_BASE,
  newVma,
  vmaAdjust,
  vmaLink,
  vmaMerge,
} from './mmap.js';
import { type PteTable, pteIndex } from './pgtable.js';
import { anonVmaClone, anonVmaLockWrite, anonVmaUnlockWrite } from './rmap.js';
import type { MmSystem } from './system.js';
import type { Mm, VmArea } from './types.js';

/** MREMAP_MAYMOVE / MREMAP_FIXED — include/uapi/linux/mman.h */
export const MREMAP_MAYMOVE = 1;
export const MREMAP_FIXED = 2;

/** LATENCY_LIMIT — mm/mremap.c: move_page_tables() moves at most this much under one pair of locks. */
const LATENCY_LIMIT = 64 * PAGE_SIZE;

function pageAlign(len: number): number {
  return Math.ceil(len / PAGE_SIZE) * PAGE_SIZE;
}

/** The end of the page table (PMD) that covers `addr`. */
function pmdEnd(addr: number): number {
  return (Math.floor(addr / PMD_SIZE) + 1) * PMD_SIZE;
}

/**
 * vma_to_resize() — mm/mremap.c: the VMA that holds all of [addr, addr + oldLen), which must be
 * allowed to grow to newLen. Throws the kernel's errno otherwise; changes nothing.
 */
export function vmaToResize(mm: Mm, addr: number, oldLen: number, newLen: number): VmArea {
  const vma = findVma(mm, addr);
  if (!vma || vma.vmStart > addr) throw new KernelError('EFAULT', `mremap: ${hex(addr)} is not mapped`);
  if (vma.vmFlags & VM_HUGETLB) throw new KernelError('EINVAL', 'mremap of a hugetlb mapping');
  if (oldLen > vma.vmEnd - addr)
    throw new KernelError('EFAULT', `mremap: the old range spans beyond ${vma.name}`);
  if (newLen > oldLen && vma.vmFlags & (VM_DONTEXPAND | VM_PFNMAP))
    throw new KernelError('EFAULT', `mremap: ${vma.name} may not grow`);
  return vma;
}

/** vma_expandable() — mm/mremap.c: nothing is mapped in the `delta` bytes after the VMA. */
function vmaExpandable(vma: VmArea, delta: number): boolean {
  const end = vma.vmEnd + delta;
  return end <= TASK_SIZE && !(vma.vmNext && vma.vmNext.vmStart < end);
}

/** What copy_vma() hands back to move_vma(). */
interface CopiedVma {
  newVma: VmArea;
  /** The source VMA — the merged one when copy_vma merged the source into the new range. */
  vma: VmArea;
  /** Whether move_ptes must take the rmap locks (the new VMA may precede the old one in a walk). */
  needRmapLocks: boolean;
}

/**
 * copy_vma() — mm/mmap.c: a VMA for [addr, addr + len) with `vma`'s flags, file and anon_vma and
 * the given pgoff — or `addr >> PAGE_SHIFT` for a private anonymous VMA that has no anon_vma yet, so
 * that it may merge. A compatible neighbour absorbs it (vma_merge); otherwise a new VMA joins every
 * anon_vma of the old one (anon_vma_clone) and the file's i_mmap. A new VMA needs no rmap locks for
 * the move: it sits after the old one in every tree, so a walk that misses a PTE at the old place
 * finds it at the new one.
 */
export function copyVma(sys: MmSystem, vma: VmArea, addr: number, len: number, pgoff: number): CopiedVma {
  const mm = vma.vmMm;
  const vmaStart = vma.vmStart;
  if (!vma.vmFile && !vma.anonVma) pgoff = addr / PAGE_SIZE;
  const prev = findVmaPrev(mm, addr);
  const merged = vmaMerge(sys, mm, prev, addr, addr + len, vma.vmFlags, vma.anonVma, vma.vmFile, pgoff, vma);
  if (merged) {
    if (vmaStart >= merged.vmStart && vmaStart < merged.vmEnd) vma = merged;
    return { newVma: merged, vma, needRmapLocks: merged.vmPgoff <= vma.vmPgoff };
  }
  const n = newVma(sys, mm, addr, addr + len, pgoff, vma.vmFlags, vma.vmFile);
  n.anonVma = vma.anonVma;
  anonVmaClone(sys, n, vma);
  vmaLink(sys, mm, n, prev);
  if (sys.tracing)
    sys.trace('copy_vma', `${n.name} [${hex(addr)}, ${hex(addr + len)}) pgoff ${pgoff} copies ${vma.name}`, {
      vma: n.id,
      mm: mm.id,
    });
  return { newVma: n, vma, needRmapLocks: false };
}

/**
 * move_ptes() — mm/mremap.c: move `pages` PTEs from `src` to the table of `newAddr` as they are (a
 * page keeps its mapcount, mapping and index; a swap or migration entry its slot). Lock order:
 * i_mmap_rwsem, anon_vma (only with need_rmap_locks), the old PTE lock, then the new one nested.
 */
function movePtes(
  sys: MmSystem,
  vma: VmArea,
  src: PteTable,
  oldAddr: number,
  newAddr: number,
  pages: number,
  needRmapLocks: boolean,
): number {
  const mm = vma.vmMm;
  const t = sys.current;
  const dstNo = Math.floor(newAddr / PMD_SIZE);
  const dst = mm.pgd.alloc(dstNo, () => sys.newPtl(mm, dstNo));
  const mapping = needRmapLocks ? (vma.vmFile?.mapping ?? null) : null;
  const anonVma = needRmapLocks ? vma.anonVma : null;
  if (mapping) mapping.iMmapRwsem.downWrite(t);
  if (anonVma) anonVmaLockWrite(sys, anonVma);
  src.ptl.lock(t);
  if (dst !== src) dst.ptl.lockNested(t, 1);
  let moved = 0;
  const i0 = pteIndex(oldAddr);
  const j0 = pteIndex(newAddr);
  for (let k = 0; k < pages; k++) {
    const bits = src.bits[i0 + k];
    if (bits === 0) continue;
    const pfn = src.pfn[i0 + k];
    setPte(src, i0 + k, 0, 0);
    setPte(dst, j0 + k, pfn, bits);
    moved++;
  }
  if (dst !== src) dst.ptl.unlock(t);
  src.ptl.unlock(t);
  if (anonVma) anonVmaUnlockWrite(sys, anonVma);
  if (mapping) mapping.iMmapRwsem.upWrite(t);
  // free_pgtables() of the old range, which do_munmap() does next in the kernel.
  if (src.used === 0 && src !== dst) mm.pgd.free(src);
  return moved;
}

/**
 * move_page_tables() — mm/mremap.c: move the PTEs of [oldAddr, oldAddr + len) to newAddr, one
 * extent at a time: never across a page table on either side, nor more than LATENCY_LIMIT.
 */
export function movePageTables(
  sys: MmSystem,
  vma: VmArea,
  oldAddr: number,
  newVma: VmArea,
  newAddr: number,
  len: number,
  needRmapLocks: boolean,
): number {
  const mm = vma.vmMm;
  const oldEnd = oldAddr + len;
  let moved = 0;
  while (oldAddr < oldEnd) {
    let extent = Math.min(pmdEnd(oldAddr), oldEnd) - oldAddr;
    const src = mm.pgd.lookup(Math.floor(oldAddr / PMD_SIZE));
    if (src && src.used > 0) {
      extent = Math.min(extent, pmdEnd(newAddr) - newAddr, LATENCY_LIMIT);
      moved += movePtes(sys, vma, src, oldAddr, newAddr, extent / PAGE_SIZE, needRmapLocks);
    }
    oldAddr += extent;
    newAddr += extent;
  }
  if (sys.tracing)
    sys.trace('move_page_tables', `${moved} PTEs moved from ${vma.name} to ${newVma.name}`, {
      vma: newVma.id,
      mm: mm.id,
    });
  return moved;
}

/**
 * move_vma() — mm/mremap.c: KSM pages of the old range are unmerged first (ksm_madvise
 * MADV_UNMERGEABLE, leaving VM_MERGEABLE set); the new VMA keeps the old linear offset, new_pgoff =
 * vm_pgoff + ((old_addr - vm_start) >> PAGE_SHIFT); the PTEs move; the old range is unmapped.
 * Returns whether the VMA was VM_LOCKED (its grown part is then populated).
 */
export function moveVma(
  sys: MmSystem,
  vma: VmArea,
  oldAddr: number,
  oldLen: number,
  newLen: number,
  newAddr: number,
): boolean {
  const mm = vma.vmMm;
  const vmFlags = vma.vmFlags;
  if (vmFlags & VM_MERGEABLE) ksmMadvise(sys, vma, oldAddr, oldAddr + oldLen, 'unmergeable');
  const newPgoff = vma.vmPgoff + (oldAddr - vma.vmStart) / PAGE_SIZE;
  const c = copyVma(sys, vma, newAddr, newLen, newPgoff);
  movePageTables(sys, c.vma, oldAddr, c.newVma, newAddr, oldLen, c.needRmapLocks);
  doMunmap(sys, mm, oldAddr, oldLen);
  if (sys.tracing)
    sys.trace('move_vma', `[${hex(oldAddr)}, ${hex(oldAddr + oldLen)}) → ${hex(newAddr)}`, {
      vma: c.newVma.id,
      mm: mm.id,
    });
  return (vmFlags & VM_LOCKED) !== 0;
}

/**
 * mremap_to() — mm/mremap.c (MREMAP_FIXED): whatever is mapped at the destination is unmapped, a
 * shrink unmaps the old tail first, then move_vma(). All checks come before the first unmap.
 */
/** check_mremap_params() — mm/mremap.c: the new range of MREMAP_FIXED is aligned, in the address space and apart from the old one. */
function checkNewRange(addr: number, oldLen: number, newAddr: number, newLen: number): void {
  if (newAddr % PAGE_SIZE !== 0) throw new KernelError('EINVAL', `mremap: bad new address ${hex(newAddr)}`);
  if (newLen > TASK_SIZE || newAddr > TASK_SIZE - newLen || newAddr < PAGE_SIZE)
    throw new KernelError('EINVAL', 'mremap: new range outside the address space');
  if (addr + oldLen > newAddr && newAddr + newLen > addr)
    throw new KernelError('EINVAL', 'mremap: old and new ranges overlap');
}

function mremapTo(sys: MmSystem, mm: Mm, addr: number, oldLen: number, newAddr: number, newLen: number) {
  checkNewRange(addr, oldLen, newAddr, newLen);
  vmaToResize(mm, addr, Math.min(oldLen, newLen), newLen);
  doMunmap(sys, mm, newAddr, newLen);
  if (oldLen > newLen) doMunmap(sys, mm, addr + newLen, oldLen - newLen);
  oldLen = Math.min(oldLen, newLen);
  const vma = vmaToResize(mm, addr, oldLen, newLen);
  return moveVma(sys, vma, addr, oldLen, newLen, newAddr);
}

/**
 * remap_move() — mm/mremap.c (6.17, rule mremap-multi-vma): a same-size MREMAP_FIXED move of
 * [addr, addr + len) moves every VMA in it, split at the ends, each to the same offset from newAddr
 * as from addr, so the gaps between them stay. A gap at the start is EFAULT, as is a range with no
 * VMA. The model checks every part before it moves any (the kernel would have moved the parts
 * before a hugetlb one); no modelled VMA is userfaultfd-armed or has a custom get_unmapped_area,
 * so vma_multi_allowed() always holds. Returns whether any part was VM_LOCKED.
 */
function remapMove(sys: MmSystem, mm: Mm, addr: number, len: number, newAddr: number): boolean {
  checkNewRange(addr, len, newAddr, len);
  const end = addr + len;
  const first = findVma(mm, addr);
  if (!first || first.vmStart > addr) throw new KernelError('EFAULT', `mremap: ${hex(addr)} is not mapped`);
  const parts: [number, number][] = [];
  for (let vma: VmArea | null = first; vma && vma.vmStart < end; vma = vma.vmNext) {
    const from = Math.max(vma.vmStart, addr);
    const to = Math.min(end, vma.vmEnd);
    vmaToResize(mm, from, to - from, to - from);
    parts.push([from, to]);
  }
  let locked = false;
  for (const [from, to] of parts)
    locked = mremapTo(sys, mm, from, to - from, newAddr + (from - addr), to - from) || locked;
  return locked;
}

/** A free, 2 MiB-aligned range of `len` bytes below every mapping (get_unmapped_area, top down). */
function unmappedAreaAligned(mm: Mm, len: number): number {
  const low = mm.mmap ? Math.min(mm.mmap.vmStart, MMAP_BASE) : MMAP_BASE;
  const addr = Math.floor((low - len) / PMD_SIZE) * PMD_SIZE;
  if (addr < PAGE_SIZE) throw new KernelError('ENOMEM', 'mremap: no room to move the mapping');
  return addr;
}

/**
 * sys_mremap() — mm/mremap.c, under mmap_sem for writing: resize [addr, addr + oldLen) to newLen,
 * in place when it can (shrink: unmap the tail; grow: the VMA ends there and the space after it is
 * free), else move it (MREMAP_MAYMOVE) — to `newAddr` with MREMAP_FIXED. A VM_LOCKED mapping that
 * grew has its new part populated. Returns the mapping's address.
 */
export function doMremap(
  sys: MmSystem,
  mm: Mm,
  addr: number,
  oldLen: number,
  newLen: number,
  flags: number,
  newAddr = 0,
): number {
  if (flags & ~(MREMAP_FIXED | MREMAP_MAYMOVE)) throw new KernelError('EINVAL', 'mremap: bad flags');
  if (flags & MREMAP_FIXED && !(flags & MREMAP_MAYMOVE))
    throw new KernelError('EINVAL', 'mremap: MREMAP_FIXED without MREMAP_MAYMOVE');
  if (addr % PAGE_SIZE !== 0) throw new KernelError('EINVAL', `mremap: bad address ${hex(addr)}`);
  oldLen = pageAlign(oldLen);
  newLen = pageAlign(newLen);
  if (!(newLen > 0)) throw new KernelError('EINVAL', 'mremap: new length 0');
  let locked = false;
  let result = addr;
  mm.mmapSem.downWrite(sys.current);
  try {
    if (flags & MREMAP_FIXED) {
      locked =
        oldLen === newLen && sys.rules['mremap-multi-vma']
          ? remapMove(sys, mm, addr, oldLen, newAddr)
          : mremapTo(sys, mm, addr, oldLen, newAddr, newLen);
      result = newAddr;
    } else if (oldLen >= newLen) {
      if (oldLen > newLen) doMunmap(sys, mm, addr + newLen, oldLen - newLen);
    } else {
      const vma = vmaToResize(mm, addr, oldLen, newLen);
      if (oldLen === vma.vmEnd - addr && vmaExpandable(vma, newLen - oldLen)) {
        vmaAdjust(sys, vma, vma.vmStart, addr + newLen, vma.vmPgoff, null);
        locked = (vma.vmFlags & VM_LOCKED) !== 0;
      } else {
        if (!(flags & MREMAP_MAYMOVE)) throw new KernelError('ENOMEM', 'mremap: no room to grow in place');
        result = unmappedAreaAligned(mm, newLen);
        locked = moveVma(sys, vma, addr, oldLen, newLen, result);
      }
    }
  } finally {
    mm.mmapSem.upWrite(sys.current);
  }
  if (locked && newLen > oldLen) mmPopulate(sys, mm, result + oldLen, result + newLen);
  return result;
}
