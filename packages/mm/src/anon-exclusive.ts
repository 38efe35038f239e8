/**
 * PG_anon_exclusive — include/linux/page-flags.h, include/linux/rmap.h (5.19, 6c287605fd56 "mm:
 * remember exclusively mapped anonymous pages with PG_anon_exclusive"): an anonymous page that one
 * PTE of one process maps, and that only that process can reach, may be written in place without
 * any count being asked. Who sets and clears the bit lives with the code that does it (rmap.ts,
 * memory.ts, try_to_unmap, migration, KSM); this module holds the bit's accessors, the entry
 * conversions the flag brings, and the invariants the flag must keep.
 */
import {
  PAGE_MAPPING_ANON,
  PAGE_MAPPING_FLAGS,
  PAGE_MAPPING_KSM,
  PAGE_SIZE,
  PG_anon_exclusive,
  PTE_MIGRATION,
  PTE_SPECIAL,
  PTE_SWAP,
  PTE_SWP_EXCLUSIVE,
  PTE_WRITE,
  PTRS_PER_PTE,
  VM_SHARED,
} from './constants.js';
import type { PhysMem } from './page.js';
import type { MmSystem } from './system.js';

const EXCLUSIVE = 1 << PG_anon_exclusive;

/** PageAnonExclusive() — include/linux/page-flags.h (5.19). */
export function PageAnonExclusive(mem: PhysMem, pfn: number): boolean {
  return (mem.flags[pfn] & EXCLUSIVE) !== 0;
}

/** SetPageAnonExclusive() — include/linux/page-flags.h (5.19). */
export function SetPageAnonExclusive(mem: PhysMem, pfn: number): void {
  mem.flags[pfn] |= EXCLUSIVE;
}

/** ClearPageAnonExclusive() — include/linux/page-flags.h (5.19). */
export function ClearPageAnonExclusive(mem: PhysMem, pfn: number): void {
  mem.flags[pfn] &= ~EXCLUSIVE;
}

/**
 * folio_try_share_anon_rmap_pte() — include/linux/rmap.h (5.19 page_try_share_anon_rmap): an
 * exclusive page whose PTE was just cleared, to become a swap or migration entry or to be merged by
 * KSM, is marked possibly shared. The kernel refuses (-EBUSY) for a page that may be DMA-pinned;
 * the model has no GUP pins, so it never refuses.
 */
export function folioTryShareAnonRmapPte(mem: PhysMem, pfn: number): void {
  ClearPageAnonExclusive(mem, pfn);
}

/**
 * The readable form of a migration entry, as change_pte_range() — mm/mprotect.c — makes it when
 * write permission goes: a writable entry of an anonymous page becomes readable-exclusive from 5.19
 * (migration-entry-exclusive; it was exclusive, being writable), any other one readable.
 */
export function migrationEntryWrprotect(sys: MmSystem, pfn: number, bits: number): number {
  if (!(bits & PTE_WRITE)) return bits;
  const anon = (sys.mem.mappingTag[pfn] & PAGE_MAPPING_ANON) !== 0;
  const exclusive = anon && sys.rules['migration-entry-exclusive'] ? PTE_SWP_EXCLUSIVE : 0;
  return (bits & ~PTE_WRITE) | exclusive;
}

/**
 * PG_anon_exclusive's invariants (the kernel's VM_BUG_ONs and sanity checks around it), for the
 * invariant checker:
 *  1. no page, swap entry or migration entry carries the flag or marker before the release that
 *     brought it;
 *  2. an exclusive page is anonymous and not KSM, mapped by at most one PTE, of a private VMA;
 *  3. from 5.19 a writable PTE that maps an anonymous page maps an exclusive one (do_swap_page's
 *     and copy_present_pte's VM_BUG_ON: a possibly shared page is never writable);
 *  4. a swap PTE with the exclusive marker is the only PTE that uses its slot, and no swap PTE
 *     refers to a swap-cache page that is exclusive (do_swap_page's BUG_ON);
 *  5. a readable-exclusive migration entry is of an anonymous non-KSM page, which has handed its
 *     flag to the entry.
 */
export function checkAnonExclusive(sys: MmSystem, fail: (invariant: string, detail: string) => never): void {
  const mem = sys.mem;
  const rules = sys.rules;
  const mapped = new Map<number, number>();
  for (const mm of sys.mms)
    for (const vma of mm.vmas())
      mm.pgd.forEachTable(vma.vmStart, vma.vmEnd, (t, first, last) => {
        for (let i = first; i < last; i++) {
          const bits = t.bits[i];
          if (bits === 0) continue;
          const pfn = t.pfn[i];
          const where = `mm${mm.id} 0x${((t.pmdNo * PTRS_PER_PTE + i) * PAGE_SIZE).toString(16)}`;
          if (bits & PTE_SWAP) {
            if (bits & PTE_SWP_EXCLUSIVE && !rules['swap-pte-exclusive-marker'])
              fail('swap PTEs have no exclusive marker before 5.19', where);
            if (bits & PTE_SWP_EXCLUSIVE && sys.swap.swapCount(pfn) !== 1)
              fail(
                'an exclusive swap entry is its slot’s only user',
                `${where}: slot ${pfn} has ${sys.swap.swapCount(pfn)} users`,
              );
            const cached = sys.swap.cache.get(pfn);
            if (cached !== undefined && PageAnonExclusive(mem, cached))
              fail('no swap PTE refers to an exclusive page', `${where}: slot ${pfn} → pfn ${cached}`);
            continue;
          }
          if (bits & PTE_MIGRATION) {
            if (!(bits & PTE_SWP_EXCLUSIVE)) continue;
            if (!rules['migration-entry-exclusive'])
              fail('migration entries are readable or writable before 5.19', where);
            if ((mem.mappingTag[pfn] & PAGE_MAPPING_FLAGS) !== PAGE_MAPPING_ANON || bits & PTE_WRITE)
              fail('a readable-exclusive migration entry is of an anonymous page', `${where}: pfn ${pfn}`);
            if (PageAnonExclusive(mem, pfn))
              fail('an exclusive migration entry holds the flag', `${where}: pfn ${pfn} is still exclusive`);
            continue;
          }
          if (bits & PTE_SPECIAL) continue;
          if (PageAnonExclusive(mem, pfn)) {
            mapped.set(pfn, (mapped.get(pfn) ?? 0) + 1);
            if (vma.vmFlags & VM_SHARED)
              fail(
                'an exclusive page is mapped by a private VMA',
                `${where}: pfn ${pfn} in shared ${vma.name}`,
              );
          } else if (
            rules['page-anon-exclusive'] &&
            bits & PTE_WRITE &&
            mem.mappingTag[pfn] & PAGE_MAPPING_ANON
          )
            fail('a writable anonymous PTE maps an exclusive page', `${where}: pfn ${pfn}`);
        }
      });
  for (let pfn = 1; pfn < mem.frames; pfn++) {
    if (!mem.isAllocated(pfn) || !PageAnonExclusive(mem, pfn)) continue;
    if (!rules['page-anon-exclusive']) fail('no PG_anon_exclusive before 5.19', `pfn ${pfn}`);
    const tag = mem.mappingTag[pfn] & PAGE_MAPPING_FLAGS;
    if (tag !== PAGE_MAPPING_ANON)
      fail(
        'an exclusive page is anonymous and not KSM',
        `pfn ${pfn} (${tag === PAGE_MAPPING_KSM ? 'KSM' : 'file'})`,
      );
    if ((mapped.get(pfn) ?? 0) > 1)
      fail('an exclusive page is mapped by one PTE at most', `pfn ${pfn}: ${mapped.get(pfn)} PTEs`);
  }
}
