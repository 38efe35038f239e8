/**
 * The invariant checker — in the spirit of mm/debug.c's validate_mm() and CONFIG_DEBUG_VM, but
 * complete: it recomputes from the page tables everything the rmap structures claim, so that an rmap
 * walk from any page is known to reach every PTE that maps it.
 */

import { checkAnonExclusive } from './anon-exclusive.js';
import {
  PAGE_MAPPING_ANON,
  PAGE_MAPPING_FLAGS,
  PAGE_SIZE,
  PG_swapcache,
  PTE_MIGRATION,
  PTE_PRESENT,
  PTE_PROTNONE,
  PTE_SPECIAL,
  PTE_SWAP,
  PTRS_PER_PTE,
  VM_SHARED,
} from './constants.js';
import { vmaLastPgoff, vmaStartPgoff } from './interval-tree.js';
import { checkKsmWalkReach, ksmCounters } from './ksm.js';
import { vmaAt } from './mmap.js';
import { linearPageIndex } from './rmap.js';
import type { MmSystem } from './system.js';
import type { AddressSpace, AnonVma, Mm, VmArea } from './types.js';

/** A broken invariant: which one, and the objects involved. */
export class InvariantError extends Error {
  constructor(
    readonly invariant: string,
    detail: string,
  ) {
    super(`invariant "${invariant}" broken: ${detail}`);
    this.name = 'InvariantError';
  }
}

/** References to pages and anon_vmas held outside @rmaplab/mm (KSM, migration, ...). */
export interface ExternalRefs {
  /** Extra anon_vma references (KSM rmap_items, page_get_anon_vma). */
  anonVma?: (av: AnonVma) => number;
  /** Extra page references and an alternative rmap check for pages @rmaplab/mm does not own (KSM). */
  page?: (pfn: number) => number;
  /**
   * Mappings the page counts (in its mapcount, each with its reference) that no PTE holds any
   * more: try_to_unmap_one's WARN abort clears a PTE and leaves the page as it was (@rmaplab/rmap).
   */
  mapcount?: (pfn: number) => number;
  /** Check one PTE of a page whose mapping is not anon or file (a KSM page). */
  foreignMapping?: (pfn: number, vma: VmArea, addr: number) => string | null;
}

function fail(invariant: string, detail: string): never {
  throw new InvariantError(invariant, detail);
}

/**
 * Check every invariant; throws {@link InvariantError} naming the first broken one.
 *  1. mapcount = PTEs mapping the page (+ leaked mappings); refcount = PTEs + page cache + swap
 *     cache (+ external);
 *  2. a VMA mapping an anon page at `addr` has an AVC in the tree of the page's anon_vma and
 *     vma_address() of the page in it is `addr`; a file page's VMA is in its file's i_mmap;
 *  3. anon_vma counters (degree, or num_children/num_active_vmas) and refcounts equal what they count;
 *  4. every interval tree validates and holds exactly the right keys;
 *  5. VMAs are sorted and disjoint, and the list, the tree and map_count agree;
 *  6. swap counts equal the swap PTEs (+ the swap cache);
 *  7. with no process left, no anon_vma (but those KSM rmap_items hold) or anonymous page is left;
 *  8. no lock is held.
 */
export function checkInvariants(sys: MmSystem, ext: ExternalRefs = {}): void {
  const mem = sys.mem;
  const ptes = new Map<number, number>();
  const swapPtes = new Map<number, number>();
  const liveVmas = new Set<VmArea>();
  for (const mm of sys.mms) {
    checkVmaList(mm);
    for (const vma of mm.vmas()) {
      liveVmas.add(vma);
      checkVmaRmapLinks(vma);
    }
    for (const t of mm.pgd.allTables()) {
      let used = 0;
      for (let i = 0; i < PTRS_PER_PTE; i++) {
        const bits = t.bits[i];
        if (bits === 0) continue;
        used++;
        const pfn = t.pfn[i];
        const addr = (t.pmdNo * PTRS_PER_PTE + i) * PAGE_SIZE;
        const vma = vmaAt(mm, addr);
        if (!vma)
          fail('PTEs only inside VMAs', `mm${mm.id} has a PTE at 0x${addr.toString(16)} outside every VMA`);
        if (bits & PTE_SWAP) {
          swapPtes.set(pfn, (swapPtes.get(pfn) ?? 0) + 1);
          continue;
        }
        if (bits & PTE_MIGRATION) continue;
        if (!(bits & (PTE_PRESENT | PTE_PROTNONE))) fail('PTE encoding', `bad PTE bits ${bits}`);
        if (bits & PTE_SPECIAL) {
          if (pfn !== 0) fail('special PTEs map the zero page', `pfn ${pfn}`);
          continue;
        }
        if (!mem.isAllocated(pfn))
          fail('PTEs map allocated pages', `mm${mm.id} 0x${addr.toString(16)} → free pfn ${pfn}`);
        ptes.set(pfn, (ptes.get(pfn) ?? 0) + 1);
        checkPageReachable(sys, pfn, vma, addr, ext);
      }
      if (used !== t.used) fail('PTE table use count', `mm${mm.id} table ${t.pmdNo}: ${t.used} ≠ ${used}`);
    }
  }
  for (let pfn = 1; pfn < mem.frames; pfn++) {
    if (!mem.isAllocated(pfn)) continue;
    const leaked = ext.mapcount?.(pfn) ?? 0;
    const n = (ptes.get(pfn) ?? 0) + leaked;
    if (mem.mapcount[pfn] + 1 !== n)
      fail(
        'mapcount = PTEs',
        `pfn ${pfn}: mapcount ${mem.mapcount[pfn] + 1}, mapped by ${n - leaked} PTEs${leaked ? ` and ${leaked} leaked mappings` : ''}`,
      );
    let refs = n + (ext.page?.(pfn) ?? 0);
    if (mem.flags[pfn] & (1 << PG_swapcache)) {
      refs++;
      if (sys.swap.cache.get(mem.private[pfn]) !== pfn)
        fail('swap cache', `pfn ${pfn} not cached under its entry`);
    }
    const m = mem.mapping[pfn];
    if ((mem.mappingTag[pfn] & PAGE_MAPPING_FLAGS) === 0 && m && 'pageTree' in m) {
      if (m.pageTree.get(mem.index[pfn]) === pfn) refs++;
    }
    if (mem.refcount[pfn] !== refs)
      fail('refcount = references', `pfn ${pfn}: refcount ${mem.refcount[pfn]}, ${refs} references`);
    if (refs === 0) fail('no leaked pages', `pfn ${pfn} is allocated but nothing refers to it`);
  }
  checkKsmWalkReach(sys, fail);
  checkAnonExclusive(sys, fail);
  checkSwap(sys, swapPtes);
  checkAnonVmas(sys, liveVmas, ext);
  for (const file of sys.files.values()) checkMapping(file.mapping, liveVmas);
  // KSM's rmap_items keep their anon_vmas (ext.anonVma) until ksmd next passes.
  const left = sys.mms.size === 0 ? [...sys.anonVmas].filter((a) => !ext.anonVma?.(a)) : [];
  if (left.length > 0)
    fail('nothing left after exit', `anon_vmas left: ${left.map((a) => a.name).join(', ')}`);
  sys.locks.assertNoLocksHeld();
}

function checkVmaList(mm: Mm): void {
  let count = 0;
  let prev: VmArea | null = null;
  for (let v = mm.mmap; v; v = v.vmNext) {
    count++;
    if (v.vmPrev !== prev) fail('VMA list links', `${v.name}.vm_prev is wrong`);
    if (v.vmStart >= v.vmEnd || v.vmStart % PAGE_SIZE || v.vmEnd % PAGE_SIZE)
      fail('VMA bounds', `${v.name} [${v.vmStart}, ${v.vmEnd})`);
    if (prev && prev.vmEnd > v.vmStart) fail('VMAs sorted and disjoint', `${prev.name} overlaps ${v.name}`);
    if (!v.vmRb || v.vmRb.start !== v.vmStart || v.vmRb.last !== v.vmEnd - 1 || v.vmRb.value !== v)
      fail('mm tree keys', `${v.name} is not keyed by its bounds in mm_rb`);
    if (v.vmMm !== mm) fail('vma->vm_mm', `${v.name} belongs to another mm`);
    prev = v;
  }
  if (count !== mm.mapCount || mm.mmRb.size !== count)
    fail('map_count', `mm${mm.id}: list ${count}, map_count ${mm.mapCount}, tree ${mm.mmRb.size}`);
  mm.mmRb.validate();
}

function checkVmaRmapLinks(vma: VmArea): void {
  let root: AnonVma | null = null;
  for (const avc of vma.anonVmaChain) {
    if (avc.vma !== vma) fail('AVC->vma', `AVC${avc.id} in ${vma.name}'s chain points elsewhere`);
    if (avc.anonVma.freed) fail('no freed anon_vma reachable', `${vma.name} → freed ${avc.anonVma.name}`);
    if (
      !avc.rb ||
      avc.rb.start !== vmaStartPgoff(vma) ||
      avc.rb.last !== vmaLastPgoff(vma) ||
      avc.rb.value !== avc
    )
      fail(
        'AVC keys',
        `AVC${avc.id} of ${vma.name} is not keyed [${vmaStartPgoff(vma)}, ${vmaLastPgoff(vma)}]`,
      );
    root ??= avc.anonVma.root;
    if (avc.anonVma.root !== root)
      fail('one root per VMA', `${vma.name} spans roots ${root.name} and ${avc.anonVma.root.name}`);
  }
  if (vma.anonVma && !vma.anonVmaChain.some((a) => a.anonVma === vma.anonVma))
    fail('vma->anon_vma is chained', `${vma.name}->anon_vma ${vma.anonVma.name} has no AVC`);
  if (!vma.anonVma && vma.anonVmaChain.length > 0) fail('chain without anon_vma', `${vma.name}`);
  const file = vma.vmFile;
  if (file) {
    const n = vma.shared;
    if (!n || n.value !== vma || n.start !== vmaStartPgoff(vma) || n.last !== vmaLastPgoff(vma))
      fail('i_mmap keys', `${vma.name} is not keyed right in ${file.name}'s i_mmap`);
  } else if (vma.shared) fail('i_mmap', `anonymous ${vma.name} is in an i_mmap`);
}

/** The rmap reachability invariant for one PTE: the walk from the page must find (vma, addr). */
function checkPageReachable(sys: MmSystem, pfn: number, vma: VmArea, addr: number, ext: ExternalRefs): void {
  const mem = sys.mem;
  const tag = mem.mappingTag[pfn] & PAGE_MAPPING_FLAGS;
  const m = mem.mapping[pfn];
  if (tag === PAGE_MAPPING_ANON) {
    const av = m as AnonVma;
    if (av.freed) fail('anon page → live anon_vma', `pfn ${pfn} → freed ${av.name}`);
    if (linearPageIndex(vma, addr) !== mem.index[pfn])
      fail(
        'vma_address finds the PTE',
        `pfn ${pfn} index ${mem.index[pfn]} ≠ ${linearPageIndex(vma, addr)} in ${vma.name}`,
      );
    if (!vma.anonVmaChain.some((avc) => avc.anonVma === av))
      fail('rmap reaches every PTE', `${vma.name} maps pfn ${pfn} but has no AVC in ${av.name}`);
  } else if (tag === 0) {
    const mapping = m as AddressSpace | null;
    if (!mapping || vma.vmFile?.mapping !== mapping)
      fail('file page in its VMA', `pfn ${pfn} mapped by ${vma.name} of another file`);
    if (linearPageIndex(vma, addr) !== mem.index[pfn])
      fail('vma_address finds the PTE', `pfn ${pfn} index ${mem.index[pfn]} in ${vma.name}`);
  } else {
    const err = ext.foreignMapping ? ext.foreignMapping(pfn, vma, addr) : `pfn ${pfn} has mapping tag ${tag}`;
    if (err) fail('rmap reaches every PTE', err);
  }
}

function checkSwap(sys: MmSystem, swapPtes: Map<number, number>): void {
  for (const [entry, count] of sys.swap.swapMap) {
    const expected = (swapPtes.get(entry) ?? 0) + (sys.swap.cache.has(entry) ? 1 : 0);
    if (count !== expected) fail('swap_map = users', `entry ${entry}: ${count} ≠ ${expected}`);
  }
  for (const entry of swapPtes.keys())
    if (!sys.swap.swapMap.has(entry)) fail('swap PTEs use live slots', `entry ${entry}`);
}

function checkAnonVmas(sys: MmSystem, liveVmas: Set<VmArea>, ext: ExternalRefs): void {
  const counters = sys.rules['anon-vma-reuse-counters'];
  const children = new Map<AnonVma, number>();
  const active = new Map<AnonVma, number>();
  const rootPins = new Map<AnonVma, number>();
  for (const av of sys.anonVmas) {
    if (av.root.root !== av.root || av.root.freed) fail('anon_vma root', `${av.name}->root ${av.root.name}`);
    if (av.parent.root !== av.root) fail('anon_vma family', `${av.name}'s parent has another root`);
    if (av.rbRoot.size > 0) children.set(av.parent, (children.get(av.parent) ?? 0) + 1);
    if (av.root !== av) rootPins.set(av.root, (rootPins.get(av.root) ?? 0) + 1);
    av.rbRoot.validate();
    for (const n of av.rbRoot.overlapping(0, Number.MAX_SAFE_INTEGER)) {
      if (!liveVmas.has(n.value.vma))
        fail('AVCs of live VMAs', `${av.name} holds AVC${n.value.id} of a dead VMA`);
      if (n.value.anonVma !== av) fail('AVC in its anon_vma', `AVC${n.value.id}`);
    }
  }
  for (const v of liveVmas) if (v.anonVma) active.set(v.anonVma, (active.get(v.anonVma) ?? 0) + 1);
  for (const av of sys.anonVmas) {
    const c = children.get(av) ?? 0;
    const a = active.get(av) ?? 0;
    if (counters) {
      if (av.numChildren !== c || av.numActiveVmas !== a)
        fail(
          'anon_vma counters',
          `${av.name}: num_children ${av.numChildren}/${c}, num_active_vmas ${av.numActiveVmas}/${a}`,
        );
    } else if (av.degree !== c + a)
      fail('anon_vma degree', `${av.name}: degree ${av.degree}, counts ${c} children + ${a} VMAs`);
    const refs = (av.rbRoot.size > 0 ? 1 : 0) + (rootPins.get(av) ?? 0) + (ext.anonVma?.(av) ?? 0);
    if (av.refcount !== refs)
      fail('anon_vma refcount', `${av.name}: refcount ${av.refcount}, ${refs} references`);
  }
}

function checkMapping(mapping: AddressSpace, liveVmas: Set<VmArea>): void {
  mapping.iMmap.validate();
  let writable = 0;
  for (const n of mapping.iMmap.overlapping(0, Number.MAX_SAFE_INTEGER)) {
    if (!liveVmas.has(n.value)) fail('i_mmap holds live VMAs', `${mapping.name} holds dead ${n.value.name}`);
    if (n.value.vmFlags & VM_SHARED) writable++;
  }
  if (writable !== mapping.iMmapWritable)
    fail('i_mmap_writable', `${mapping.name}: ${mapping.iMmapWritable} ≠ ${writable} shared VMAs`);
}

/**
 * Everything a statement can change, as one string: each allocated page's counts, flags, index,
 * private, content and mapping, every PTE, every VMA, the anon_vmas, the swap device and KSM's
 * counters. Equal before and after a refused statement: it changed nothing a later statement or
 * observation could see (the runner's contract). For tests; it reads the whole machine.
 */
export function stateFingerprint(sys: MmSystem): string {
  const mem = sys.mem;
  const parts: (string | number)[] = [mem.allocated, sys.anonVmas.size];
  for (let pfn = 1; pfn < mem.frames; pfn++)
    if (mem.isAllocated(pfn))
      parts.push(
        pfn,
        mem.flags[pfn],
        mem.mapcount[pfn],
        mem.refcount[pfn],
        mem.index[pfn],
        mem.private[pfn],
        mem.content[pfn],
        mem.mappingTag[pfn],
      );
  for (const mm of sys.mms) {
    parts.push('mm', mm.id);
    for (const v of mm.vmas()) parts.push(v.vmStart, v.vmEnd, v.vmFlags, v.vmPgoff, v.anonVma?.id ?? 0);
    for (const t of mm.pgd.allTables())
      for (let i = 0; i < PTRS_PER_PTE; i++) if (t.bits[i]) parts.push(t.pmdNo, i, t.pfn[i], t.bits[i]);
  }
  parts.push('swap');
  for (const [entry, users] of sys.swap.swapMap) parts.push(entry, users, sys.swap.cache.get(entry) ?? 0);
  const c = ksmCounters(sys);
  parts.push('ksm', c.pagesShared, c.pagesSharing, c.pagesUnshared, c.pagesVolatile, c.fullScans);
  return parts.join(',');
}
