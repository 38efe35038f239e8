/**
 * Migration of one page — mm/migrate.c (4.9 __unmap_and_move; 6.12 try_to_migrate): replace every
 * PTE of the page by a migration entry, copy the page to a new frame, then turn each migration
 * entry into a PTE of the new frame. A fault on a migration entry meanwhile waits
 * (migration_entry_wait; the model's fault path reports EAGAIN).
 */
import {
  type AddressSpace,
  type AnonVma,
  getPage,
  ksmMigratePage,
  lockPage,
  type MmSystem,
  mlockVmaPage,
  type Page,
  PageAnon,
  PageKsm,
  PageSwapCache,
  PG_active,
  PG_dirty,
  PG_mappedtodisk,
  PG_referenced,
  PG_swapbacked,
  PG_swapcache,
  PG_unevictable,
  PG_uptodate,
  PTE_DIRTY,
  PTE_MIGRATION,
  PTE_PRESENT,
  PTE_PROTNONE,
  PTE_SWP_EXCLUSIVE,
  PTE_WRITE,
  PTE_YOUNG,
  pageAddAnonRmap,
  pageAddFileRmap,
  pageMapped,
  pmdIndex,
  pteIndex,
  putAnonVma,
  putPage,
  RMAP_EXCLUSIVE,
  setPte,
  trylockPage,
  unlockPage,
  VM_EXEC,
  VM_LOCKED,
  VM_READ,
  VM_WRITE,
  type VmArea,
} from '@rmaplab/mm';
import { SWAP_AGAIN, TTU_IGNORE_ACCESS, TTU_IGNORE_MLOCK, TTU_MIGRATION, ttuFlagsMissing } from './codes.js';
import {
  newWalkLog,
  notePteProbe,
  pageGetAnonVma,
  pageMapping,
  type RmapWalkControl,
  rmapWalk,
  rmapWalkLocked,
  type WalkLog,
} from './rmap-walk.js';
import { tryToMigrate, tryToUnmap } from './try-to-unmap.js';

/**
 * remove_migration_pte() — mm/migrate.c: under the PTE lock, a migration entry for `old` becomes a
 * PTE of `newPfn` with the VMA's protection — old and clean under 4.9 (pte_mkold(mk_pte)), young and
 * dirty as the entry recorded under 6.12; writable only for a write entry in a VM_WRITE VMA
 * (maybe_mkwrite) — and the new page gains the reference and the mapping: from 5.19 an exclusive
 * mapping (RMAP_EXCLUSIVE, so PG_anon_exclusive again) for an anonymous page whose entry was
 * writable or readable-exclusive. Always SWAP_AGAIN.
 */
export function removeMigrationPte(
  sys: MmSystem,
  newPfn: number,
  vma: VmArea,
  addr: number,
  old: number,
): number {
  const t = vma.vmMm.pgd.lookup(pmdIndex(addr));
  if (!t) {
    notePteProbe(sys, 'mm_find_pmd', old, vma, addr, false);
    return SWAP_AGAIN;
  }
  const task = sys.current;
  const i = pteIndex(addr);
  t.ptl.lock(task);
  const entry = t.bits[i];
  const found = (entry & PTE_MIGRATION) !== 0 && t.pfn[i] === old;
  notePteProbe(sys, 'is_migration_entry', old, vma, addr, found);
  if (found) {
    getPage(sys, newPfn);
    let bits = PTE_PRESENT;
    if (!(vma.vmFlags & (VM_READ | VM_WRITE | VM_EXEC))) bits |= PTE_PROTNONE;
    else if (entry & PTE_WRITE && vma.vmFlags & VM_WRITE) bits |= PTE_WRITE;
    if (sys.rules['migration-entry-young-dirty']) bits |= entry & (PTE_YOUNG | PTE_DIRTY);
    setPte(t, i, newPfn, bits);
    if (PageAnon(sys.mem, newPfn)) {
      const exclusive = sys.rules['migration-entry-exclusive'] && entry & (PTE_WRITE | PTE_SWP_EXCLUSIVE);
      pageAddAnonRmap(sys, newPfn, vma, addr, exclusive ? RMAP_EXCLUSIVE : 0);
    } else pageAddFileRmap(sys, newPfn);
    if (vma.vmFlags & VM_LOCKED) mlockVmaPage(sys, newPfn);
  }
  t.ptl.unlock(task);
  return SWAP_AGAIN;
}

/**
 * remove_migration_ptes() — mm/migrate.c: walk `newPfn`'s rmap (page_anon_vma and a blocking
 * anon_vma_lock_read, as the page is not mapped yet: no anon_lock) and restore every migration entry
 * for `old`. `newPfn === old` undoes a failed migration. `newPfn` must be locked for a file walk.
 */
export function removeMigrationPtes(
  sys: MmSystem,
  old: number,
  newPfn: number,
  locked = false,
  log?: WalkLog,
): void {
  const rwc: RmapWalkControl<number> = {
    arg: old,
    name: 'remove_migration_pte',
    rmapOne: removeMigrationPte,
    done: null,
    anonLock: null,
    invalidVma: null,
  };
  if (locked) rmapWalkLocked(sys, newPfn, rwc, log);
  else rmapWalk(sys, newPfn, rwc, log);
}

/** What migrating one page did. */
export interface MigrateResult {
  /** MIGRATEPAGE_SUCCESS, or why the page stayed: EAGAIN (still mapped, or extra references). */
  rc: 'MIGRATEPAGE_SUCCESS' | 'EAGAIN';
  oldPfn: number;
  /** The new frame (freed again when the migration failed). */
  newPfn: number;
  /** try_to_unmap's (or try_to_migrate's) result as the model's SWAP_* code (null when the page was not mapped). */
  unmap: number | null;
  /** The try_to_unmap walk and the remove_migration_ptes walk. */
  unmapLog: WalkLog;
  removeLog: WalkLog;
  /** The anon_vma pinned by page_get_anon_vma for the duration (anon pages). */
  anonVma: AnonVma | null;
}

/**
 * Page flags that migrate_page_copy() (6.12 folio_migrate_flags) sets on the new page when set on
 * the old one. PG_mappedtodisk is among them, so PG_anon_exclusive, its bit, goes along on a page
 * that no PTE maps; a mapped page's flag travels in its migration entries instead.
 */
const COPIED_FLAGS = (1 << PG_referenced) | (1 << PG_uptodate) | (1 << PG_dirty) | (1 << PG_mappedtodisk);

/**
 * migrate_page_move_mapping() + migrate_page_copy() — mm/migrate.c (4.9; 6.12
 * __folio_migrate_mapping + folio_migrate_flags): only the expected references may be left — the
 * migration's own isolation reference, plus the cache's for a page-cache or swap-cache page — else
 * -EAGAIN. Then `newPfn` takes over `old`'s mapping and index, its cache slot (with the cache's
 * reference), its data, PG_swapbacked / PG_swapcache, and the flags migrate_page_copy() copies:
 * referenced, uptodate, dirty, and active or else unevictable (both moved). PG_mlocked is not
 * copied: remove_migration_pte() mlocks the new page where a VM_LOCKED VMA maps it.
 */
function moveToNewPage(sys: MmSystem, newPfn: number, old: number): boolean {
  const mem = sys.mem;
  const swapCache = PageSwapCache(mem, old);
  const cached = pageMapping(mem, old) !== null; // a page-cache or swap-cache page
  if (mem.refcount[old] !== (cached ? 2 : 1)) return false;
  mem.mapping[newPfn] = mem.mapping[old];
  mem.mappingTag[newPfn] = mem.mappingTag[old];
  mem.index[newPfn] = mem.index[old];
  mem.content[newPfn] = mem.content[old];
  const f = mem.flags[old];
  let moved = f & ((1 << PG_swapbacked) | (1 << PG_swapcache) | COPIED_FLAGS);
  if (f & (1 << PG_active)) moved |= 1 << PG_active;
  else if (f & (1 << PG_unevictable)) moved |= 1 << PG_unevictable;
  mem.flags[newPfn] |= moved;
  if (swapCache) {
    const entry = mem.private[old];
    mem.private[newPfn] = entry;
    sys.swap.cache.set(entry, newPfn);
    mem.private[old] = 0;
  } else if (cached) (mem.mapping[old] as AddressSpace).pageTree.set(mem.index[old], newPfn);
  if (cached) {
    mem.refcount[newPfn]++;
    mem.refcount[old]--;
  }
  // The old page gives up what moved: its cache slot, and (a cached page) its dirty bit; active
  // and unevictable are test-and-cleared.
  let cleared = (1 << PG_swapcache) | (1 << PG_active) | (1 << PG_unevictable);
  if (cached) cleared |= 1 << PG_dirty;
  mem.flags[old] &= ~cleared;
  ksmMigratePage(sys, newPfn, old);
  return true;
}

/**
 * unmap_and_move() / __unmap_and_move() — mm/migrate.c, for one page, synchronously (MIGRATE_SYNC,
 * force): isolate (a reference), lock the page, pin its anon_vma (page_get_anon_vma), unmap with
 * migration entries (4.9: TTU_MIGRATION|TTU_IGNORE_MLOCK|TTU_IGNORE_ACCESS, without the last from
 * 5.11, which has no such flag; 5.14: try_to_migrate(page, 0)),
 * move to a new frame if nothing maps the old one any more, remove the migration entries (towards
 * the new frame, or back to the old one on failure), drop the pin and the isolation reference.
 */
export function migratePage(sys: MmSystem, page: Page | number): MigrateResult {
  const old = typeof page === 'number' ? page : page.pfn;
  const mem = sys.mem;
  if (!mem.isAllocated(old)) throw new Error(`migrate: pfn ${old} is not an allocated page`);
  getPage(sys, old);
  const newPfn = mem.allocPage(mem.content[old]);
  const result: MigrateResult = {
    rc: 'EAGAIN',
    oldPfn: old,
    newPfn,
    unmap: null,
    unmapLog: newWalkLog(),
    removeLog: newWalkLog(),
    anonVma: null,
  };
  try {
    if (!trylockPage(sys, old)) lockPage(sys, old);
    try {
      if (PageAnon(mem, old) && !PageKsm(mem, old)) result.anonVma = pageGetAnonVma(sys, old);
      trylockPage(sys, newPfn);
      try {
        unmapAndMove(sys, result);
      } finally {
        unlockPage(sys, newPfn);
        if (result.anonVma) putAnonVma(sys, result.anonVma);
      }
    } finally {
      unlockPage(sys, old);
    }
  } finally {
    // putback_lru_page(newpage) (or the unused new page), then the old page's isolation reference.
    putPage(sys, newPfn);
    putPage(sys, old);
  }
  if (sys.tracing)
    sys.trace(
      'migrate_pages',
      `pfn ${old} → ${result.rc === 'MIGRATEPAGE_SUCCESS' ? newPfn : 'stays'}: ${sys.name(result.rc)}`,
      {
        pfn: old,
        result: sys.name(result.rc),
      },
    );
  return result;
}

/** The locked middle of __unmap_and_move(): migration entries, the move, and their removal. */
function unmapAndMove(sys: MmSystem, r: MigrateResult): void {
  const mem = sys.mem;
  const old = r.oldPfn;
  let wasMapped = false;
  if (pageMapped(mem, old)) {
    r.unmap = sys.rules['try-to-migrate']
      ? tryToMigrate(sys, old, 0, r.unmapLog)
      : tryToUnmap(
          sys,
          old,
          (TTU_MIGRATION | TTU_IGNORE_MLOCK | TTU_IGNORE_ACCESS) & ~ttuFlagsMissing(sys.rules),
          r.unmapLog,
        );
    wasMapped = true;
  }
  if (!pageMapped(mem, old) && moveToNewPage(sys, r.newPfn, old)) r.rc = 'MIGRATEPAGE_SUCCESS';
  if (wasMapped)
    removeMigrationPtes(sys, old, r.rc === 'MIGRATEPAGE_SUCCESS' ? r.newPfn : old, false, r.removeLog);
}
