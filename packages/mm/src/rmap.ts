/**
 * The anon_vma bookkeeping and the page-level rmap counters of mm/rmap.c: how anonymous memory
 * records which VMAs may map it (anon_vma_prepare / _clone / _fork, unlink_anon_vmas) and how each
 * PTE that maps a page is counted (page_add_*_rmap, page_remove_rmap). The walks that read these
 * structures live in @rmaplab/rmap.
 *
 * Lock order (top of mm/rmap.c): mm->mmap_sem → page lock → mapping->i_mmap_rwsem →
 * anon_vma->rwsem → mm->page_table_lock or pte lock. The anon_vma lock is always the root's.
 */

import { ClearPageAnonExclusive, SetPageAnonExclusive } from './anon-exclusive.js';
import {
  PAGE_MAPPING_ANON,
  PAGE_MAPPING_FLAGS,
  PAGE_MAPPING_KSM,
  PAGE_SIZE,
  PG_mlocked,
  PG_swapbacked,
  PG_unevictable,
  RMAP_EXCLUSIVE,
  VM_MERGE_IGNORED,
} from './constants.js';
import { anonVmaIntervalTreeInsert, anonVmaIntervalTreeRemove } from './interval-tree.js';
import type { MmSystem } from './system.js';
import { type AnonVma, AnonVmaChain, type VmArea } from './types.js';

/** anon_vma_alloc() — mm/rmap.c: refcount 1; 4.x degree 1, 6.x both counters 0. */
export function anonVmaAlloc(sys: MmSystem): AnonVma {
  const av = sys.newAnonVma();
  if (sys.rules['anon-vma-reuse-counters']) av.degree = 0;
  if (sys.tracing) sys.trace('anon_vma_alloc', `new ${av.name}`, { anonVma: av.id });
  return av;
}

/** anon_vma_free() — mm/rmap.c */
function anonVmaFree(sys: MmSystem, av: AnonVma): void {
  if (av.rbRoot.size !== 0)
    throw new Error(`freeing ${av.name} whose tree still holds ${av.rbRoot.size} AVCs`);
  av.freed = true;
  sys.anonVmas.delete(av);
  if (sys.tracing) sys.trace('anon_vma_free', `free ${av.name}`, { anonVma: av.id });
}

/** get_anon_vma() — include/linux/rmap.h */
export function getAnonVma(av: AnonVma): void {
  if (av.freed) throw new Error(`get_anon_vma on freed ${av.name}`);
  av.refcount++;
}

/** put_anon_vma() / __put_anon_vma() — mm/rmap.c: the last put frees it, then drops its pin on the root. */
export function putAnonVma(sys: MmSystem, av: AnonVma): void {
  if (--av.refcount > 0) return;
  const root = av.root;
  anonVmaFree(sys, av);
  if (root !== av && --root.refcount === 0) anonVmaFree(sys, root);
}

/** anon_vma_lock_write() — include/linux/rmap.h: the root's rwsem, for writing. */
export function anonVmaLockWrite(sys: MmSystem, av: AnonVma): void {
  av.root.rwsem.downWrite(sys.current);
}
/** anon_vma_unlock_write() — include/linux/rmap.h */
export function anonVmaUnlockWrite(sys: MmSystem, av: AnonVma): void {
  av.root.rwsem.upWrite(sys.current);
}
/** anon_vma_lock_read() — include/linux/rmap.h */
export function anonVmaLockRead(sys: MmSystem, av: AnonVma): void {
  av.root.rwsem.downRead(sys.current);
}
/** anon_vma_unlock_read() — include/linux/rmap.h */
export function anonVmaUnlockRead(sys: MmSystem, av: AnonVma): void {
  av.root.rwsem.upRead(sys.current);
}

/** lock_anon_vma_root() — mm/rmap.c: switch the held root lock only when the root changes. */
function lockAnonVmaRoot(sys: MmSystem, held: AnonVma | null, av: AnonVma): AnonVma {
  const root = av.root;
  if (root !== held) {
    if (held) held.rwsem.upWrite(sys.current);
    root.rwsem.downWrite(sys.current);
  }
  return root;
}
/** unlock_anon_vma_root() — mm/rmap.c */
function unlockAnonVmaRoot(sys: MmSystem, held: AnonVma | null): void {
  if (held) held.rwsem.upWrite(sys.current);
}

/** anon_vma_chain_link() — mm/rmap.c: add at the head of vma->anon_vma_chain and insert in the tree. */
export function anonVmaChainLink(sys: MmSystem, vma: VmArea, av: AnonVma): AnonVmaChain {
  const avc = new AnonVmaChain(sys.nextId(), vma, av);
  vma.anonVmaChain.unshift(avc);
  anonVmaIntervalTreeInsert(avc, av.rbRoot);
  if (sys.tracing)
    sys.trace(
      'anon_vma_chain_link',
      `AVC${avc.id}: ${vma.name} ↔ ${av.name} [${avc.rb!.start}, ${avc.rb!.last}]`,
      { vma: vma.id, anonVma: av.id, avc: avc.id },
    );
  return avc;
}

/**
 * anon_vma_compatible() — mm/mmap.c: `a` and `b` are neighbours whose pages could share an
 * anon_vma: same file, flags equal apart from R/W/X, and b's pgoff continues a's linearly.
 */
export function anonVmaCompatible(a: VmArea, b: VmArea): boolean {
  const [lo, hi] = a.vmEnd <= b.vmStart ? [a, b] : [b, a];
  return (
    lo.vmEnd === hi.vmStart &&
    lo.vmFile === hi.vmFile &&
    anonVmaCompatibleFlags(lo, hi) &&
    hi.vmPgoff === lo.vmPgoff + (hi.vmStart - lo.vmStart) / PAGE_SIZE
  );
}

function anonVmaCompatibleFlags(a: VmArea, b: VmArea): boolean {
  return ((a.vmFlags ^ b.vmFlags) & ~VM_MERGE_IGNORED) === 0;
}

/**
 * find_mergeable_anon_vma() — mm/mmap.c: try vm_next, then vm_prev; accept a neighbour that is
 * anon_vma_compatible and whose anon_vma_chain is singular (reusable_anon_vma).
 */
export function findMergeableAnonVma(vma: VmArea): AnonVma | null {
  for (const near of [vma.vmNext, vma.vmPrev]) {
    if (near?.anonVma && anonVmaCompatible(vma, near) && near.anonVmaChain.length === 1) return near.anonVma;
  }
  return null;
}

/**
 * anon_vma_prepare() — mm/rmap.c. Give `vma` an anon_vma before its first anonymous page: a
 * mergeable neighbour's, or a new root (4.9: degree 2 = self-parent + VMA; 6.12: num_children 1,
 * num_active_vmas 1).
 */
export function anonVmaPrepare(sys: MmSystem, vma: VmArea): void {
  if (vma.anonVma) return;
  const mm = vma.vmMm;
  let av = findMergeableAnonVma(vma);
  if (av) {
    if (sys.tracing) sys.trace('find_mergeable_anon_vma', `${vma.name} reuses ${av.name} of a neighbour`);
  } else {
    av = anonVmaAlloc(sys);
    if (sys.rules['anon-vma-reuse-counters']) av.numChildren++;
  }
  anonVmaLockWrite(sys, av);
  mm.pageTableLock.lock(sys.current);
  vma.anonVma = av;
  anonVmaChainLink(sys, vma, av);
  if (sys.rules['anon-vma-reuse-counters']) av.numActiveVmas++;
  else av.degree++;
  mm.pageTableLock.unlock(sys.current);
  anonVmaUnlockWrite(sys, av);
  if (sys.tracing)
    sys.trace('anon_vma_prepare', `${vma.name}->anon_vma = ${av.name}`, { vma: vma.id, anonVma: av.id });
}

/**
 * anon_vma_clone() — mm/rmap.c. Attach `dst` to every anon_vma that `src` is attached to, oldest
 * first. Reuses an old anon_vma when the kernel's rule allows it (4.9: degree < 2 and not
 * src->anon_vma; 6.12: num_children < 2 and num_active_vmas == 0).
 */
export function anonVmaClone(sys: MmSystem, dst: VmArea, src: VmArea): void {
  let root: AnonVma | null = null;
  const counters = sys.rules['anon-vma-reuse-counters'];
  for (let i = src.anonVmaChain.length - 1; i >= 0; i--) {
    const av = src.anonVmaChain[i].anonVma;
    root = lockAnonVmaRoot(sys, root, av);
    anonVmaChainLink(sys, dst, av);
    if (!dst.anonVma) {
      const reusable = counters
        ? src.anonVma !== null && av.numChildren < 2 && av.numActiveVmas === 0
        : av !== src.anonVma && av.degree < 2;
      if (reusable) {
        dst.anonVma = av;
        if (sys.tracing)
          sys.trace('anon_vma_clone', `${dst.name} reuses ${av.name}`, { vma: dst.id, anonVma: av.id });
      }
    }
  }
  if (dst.anonVma) {
    if (counters) dst.anonVma.numActiveVmas++;
    else dst.anonVma.degree++;
  }
  unlockAnonVmaRoot(sys, root);
}

/**
 * anon_vma_fork() — mm/rmap.c. The child VMA joins every anon_vma of the parent VMA and, unless
 * one could be reused, gets a new anon_vma whose parent is the parent VMA's and root is its root.
 */
export function anonVmaFork(sys: MmSystem, vma: VmArea, pvma: VmArea): void {
  if (!pvma.anonVma) return;
  vma.anonVma = null;
  anonVmaClone(sys, vma, pvma);
  if (vma.anonVma) return;
  const av = anonVmaAlloc(sys);
  if (sys.rules['anon-vma-reuse-counters']) av.numActiveVmas++;
  av.root = pvma.anonVma.root;
  av.parent = pvma.anonVma;
  getAnonVma(av.root);
  vma.anonVma = av;
  anonVmaLockWrite(sys, av);
  anonVmaChainLink(sys, vma, av);
  if (sys.rules['anon-vma-reuse-counters']) av.parent.numChildren++;
  else av.parent.degree++;
  anonVmaUnlockWrite(sys, av);
  if (sys.tracing)
    sys.trace(
      'anon_vma_fork',
      `${vma.name}->anon_vma = ${av.name} (parent ${av.parent.name}, root ${av.root.name})`,
      {
        vma: vma.id,
        anonVma: av.id,
      },
    );
}

/**
 * unlink_anon_vmas() — mm/rmap.c. Take `vma` out of every anon_vma tree; an anon_vma whose tree
 * empties gives up its parent link and its reference (outside the lock, root last).
 */
export function unlinkAnonVmas(sys: MmSystem, vma: VmArea): void {
  let root: AnonVma | null = null;
  const counters = sys.rules['anon-vma-reuse-counters'];
  const emptied: AnonVmaChain[] = [];
  for (const avc of vma.anonVmaChain) {
    const av = avc.anonVma;
    root = lockAnonVmaRoot(sys, root, av);
    anonVmaIntervalTreeRemove(avc, av.rbRoot);
    if (av.rbRoot.size === 0) {
      if (counters) av.parent.numChildren--;
      else av.parent.degree--;
      emptied.push(avc);
    }
  }
  if (vma.anonVma) {
    if (counters) vma.anonVma.numActiveVmas--;
    else vma.anonVma.degree--;
  }
  unlockAnonVmaRoot(sys, root);
  if (sys.tracing && vma.anonVmaChain.length > 0)
    sys.trace(
      'unlink_anon_vmas',
      `${vma.name} leaves ${vma.anonVmaChain.map((a) => a.anonVma.name).join(', ')}`,
      {
        vma: vma.id,
      },
    );
  vma.anonVmaChain = [];
  if (sys.rules['unlink-anon-vmas-clears-pointer']) vma.anonVma = null;
  for (const avc of emptied) putAnonVma(sys, avc.anonVma);
}

/** linear_page_index() — include/linux/pagemap.h */
export function linearPageIndex(vma: VmArea, addr: number): number {
  return (addr - vma.vmStart) / PAGE_SIZE + vma.vmPgoff;
}

/**
 * vma_address() — mm/internal.h: where `vma` maps the page with offset `pgoff`, or -1 when that is
 * outside the VMA (6.12's -EFAULT; 4.9 asserts instead).
 */
export function vmaAddress(vma: VmArea, pgoff: number): number {
  const addr = vma.vmStart + (pgoff - vma.vmPgoff) * PAGE_SIZE;
  return addr >= vma.vmStart && addr < vma.vmEnd ? addr : -1;
}

/**
 * __page_set_anon_rmap() — mm/rmap.c: the first anonymous mapping decides page->mapping and index
 * (vma->anon_vma for an exclusive page, its root otherwise). From 5.19 an exclusive mapping also
 * sets PG_anon_exclusive, on a page that was anonymous already too (a swap-cache page mapped back,
 * a migration target).
 */
function pageSetAnonRmap(sys: MmSystem, pfn: number, vma: VmArea, addr: number, exclusive: boolean): void {
  const mem = sys.mem;
  if (!(mem.mappingTag[pfn] & PAGE_MAPPING_ANON)) {
    let av = vma.anonVma;
    if (!av) throw new Error(`${vma.name} has no anon_vma`);
    if (!exclusive) av = av.root;
    mem.mapping[pfn] = av;
    mem.mappingTag[pfn] = PAGE_MAPPING_ANON;
    mem.index[pfn] = linearPageIndex(vma, addr);
  }
  if (exclusive && sys.rules['page-anon-exclusive']) SetPageAnonExclusive(mem, pfn);
}

/**
 * page_add_new_anon_rmap() — mm/rmap.c (6.3 folio_add_new_anon_rmap(RMAP_EXCLUSIVE)): a fresh page,
 * exclusive to `vma`: mapcount 1, mapping = vma->anon_vma, and from 5.19 PG_anon_exclusive.
 */
export function pageAddNewAnonRmap(sys: MmSystem, pfn: number, vma: VmArea, addr: number): void {
  const mem = sys.mem;
  mem.flags[pfn] |= 1 << PG_swapbacked;
  mem.mapcount[pfn] = 0;
  pageSetAnonRmap(sys, pfn, vma, addr, true);
}

/**
 * page_add_anon_rmap() / do_page_add_anon_rmap() — mm/rmap.c: one more PTE maps an anonymous page.
 * A KSM page keeps its stable-node mapping and is never exclusive; the first mapping of a page that
 * is not anon yet (swap-in) sets it, to the root anon_vma unless RMAP_EXCLUSIVE, which (5.19) also
 * marks the page PG_anon_exclusive.
 */
export function pageAddAnonRmap(sys: MmSystem, pfn: number, vma: VmArea, addr: number, flags = 0): void {
  const mem = sys.mem;
  const first = ++mem.mapcount[pfn] === 0;
  if ((mem.mappingTag[pfn] & PAGE_MAPPING_FLAGS) === PAGE_MAPPING_KSM) return;
  if (first) pageSetAnonRmap(sys, pfn, vma, addr, (flags & RMAP_EXCLUSIVE) !== 0);
}

/** page_dup_rmap() — include/linux/rmap.h (5.19 page_dup_file_rmap): fork copied a PTE of a file page. */
export function pageDupRmap(sys: MmSystem, pfn: number): void {
  sys.mem.mapcount[pfn]++;
}

/**
 * page_try_dup_anon_rmap() — include/linux/rmap.h (5.19; 6.8 folio_try_dup_anon_rmap_pte): fork
 * copied a PTE of an anonymous page, which both processes now map read-only, so it is exclusive no
 * more. The kernel refuses (-EBUSY, and fork copies the page) for a page that may be DMA-pinned; the
 * model has no GUP pins, so it never refuses. Before 5.19 this is page_dup_rmap.
 */
export function pageTryDupAnonRmap(sys: MmSystem, pfn: number): void {
  ClearPageAnonExclusive(sys.mem, pfn);
  sys.mem.mapcount[pfn]++;
}

/** page_add_file_rmap() — mm/rmap.c: one more PTE maps a page-cache page (mapping and index unchanged). */
export function pageAddFileRmap(sys: MmSystem, pfn: number): void {
  sys.mem.mapcount[pfn]++;
}

/**
 * page_remove_rmap() — mm/rmap.c: one PTE less. On the last one an mlocked page leaves the
 * unevictable list (clear_page_mlock). page->mapping is left alone: it is cleared when the page is freed.
 */
export function pageRemoveRmap(sys: MmSystem, pfn: number): void {
  const mem = sys.mem;
  if (--mem.mapcount[pfn] >= 0) return;
  if (mem.mapcount[pfn] < -1) throw new Error(`page_remove_rmap: pfn ${pfn} mapcount went negative`);
  clearPageMlock(sys, pfn);
}

/** clear_page_mlock() — mm/mlock.c */
export function clearPageMlock(sys: MmSystem, pfn: number): void {
  const mem = sys.mem;
  if (mem.flags[pfn] & (1 << PG_mlocked)) mem.flags[pfn] &= ~((1 << PG_mlocked) | (1 << PG_unevictable));
}

/** mlock_vma_page() — mm/mlock.c: set PG_mlocked and move the page to the unevictable list. */
export function mlockVmaPage(sys: MmSystem, pfn: number): void {
  if (pfn === 0) return;
  sys.mem.flags[pfn] |= (1 << PG_mlocked) | (1 << PG_unevictable);
}

/** page_move_anon_rmap() — mm/rmap.c: the page became exclusive to `vma`: point it at vma->anon_vma (index kept). */
export function pageMoveAnonRmap(sys: MmSystem, pfn: number, vma: VmArea): void {
  if (!vma.anonVma) throw new Error(`${vma.name} has no anon_vma`);
  sys.mem.mapping[pfn] = vma.anonVma;
  sys.mem.mappingTag[pfn] = PAGE_MAPPING_ANON;
  if (sys.tracing)
    sys.trace('page_move_anon_rmap', `pfn ${pfn} → ${vma.anonVma.name}`, { pfn, anonVma: vma.anonVma.id });
}

/** get_page() — include/linux/mm.h */
export function getPage(sys: MmSystem, pfn: number): void {
  sys.mem.refcount[pfn]++;
}

/** put_page() — include/linux/mm.h: the last reference frees the frame. */
export function putPage(sys: MmSystem, pfn: number): void {
  if (pfn === 0) return;
  if (--sys.mem.refcount[pfn] === 0) sys.mem.freePage(pfn);
}
