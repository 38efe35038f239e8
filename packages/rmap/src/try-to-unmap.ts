/**
 * try_to_unmap() and try_to_munlock() — mm/rmap.c (4.9): one rmap walk whose rmap_one,
 * try_to_unmap_one(), replaces each PTE of the page by a swap entry (anon), a migration entry
 * (TTU_MIGRATION, and 4.14–5.13's TTU_SPLIT_FREEZE) or nothing (file), in the kernel's order of
 * checks.
 *
 * Later releases change the walk rule by rule (rules.ts): no young check (ttu-ignore-access-removed,
 * so TTU_IGNORE_ACCESS does not exist), VM_LOCKED re-mlocks the page and aborts the walk
 * (mlock-count); migration is try_to_migrate() (try-to-migrate: try_to_migrate_one never stops at
 * VM_LOCKED, and its entries keep the young and dirty bits, migration-entry-young-dirty), which the
 * model runs as this walk with TTU_MIGRATION set internally. Which flags a release takes is
 * TTU_FLAG_TABLE's business (codes.ts). The walk computes with 4.9's codes — an abort at VM_LOCKED
 * is SWAP_MLOCK, an anonymous page outside the swap cache SWAP_FAIL, a page left unmapped
 * SWAP_SUCCESS, one still mapped SWAP_AGAIN — and reports say them as the release returns them:
 * SWAP_* to 4.11, a bool to 5.13, nothing from 5.14 (codes.ts unmapResultWord).
 */
import {
  folioTryShareAnonRmapPte,
  type MmSystem,
  mlockVmaPage,
  mmCounter,
  type Page,
  PageAnon,
  PageAnonExclusive,
  PageKsm,
  PageLocked,
  PageSwapCache,
  PG_dirty,
  PTE_DIRTY,
  PTE_MIGRATION,
  PTE_SWAP,
  PTE_SWP_EXCLUSIVE,
  PTE_WRITE,
  PTE_YOUNG,
  pageMapped,
  pageRemoveRmap,
  pteIndex,
  putPage,
  setPageDirty,
  setPte,
  VM_GROWSDOWN,
  VM_LOCKED,
  VM_STACK_INCOMPLETE_SETUP,
  type VmArea,
} from '@rmaplab/mm';
import {
  checkTtuFlags,
  SWAP_AGAIN,
  SWAP_FAIL,
  SWAP_LZFREE,
  SWAP_MLOCK,
  SWAP_SUCCESS,
  TTU_BATCH_FLUSH,
  TTU_IGNORE_ACCESS,
  TTU_IGNORE_MLOCK,
  TTU_LZFREE,
  TTU_MIGRATION,
  TTU_MUNLOCK,
  TTU_RMAP_LOCKED,
  TTU_SPLIT_FREEZE,
  TTU_SPLIT_HUGE_PMD,
  TTU_SYNC,
  ttuFlagNames,
} from './codes.js';
import { ttuAnonNotInSwapCache } from './kernel-warn.js';
import {
  pageCheckAddress,
  pageLockAnonVmaRead,
  type RmapWalkControl,
  rmapWalk,
  rmapWalkLocked,
  type WalkLog,
} from './rmap-walk.js';

/** `struct rmap_private` — mm/rmap.c (4.9): the flags and the count of lazily freed PTEs. */
export interface RmapPrivate {
  flags: number;
  lazyfreed: number;
}

/**
 * try_to_unmap_one() — mm/rmap.c (4.9). Order: TTU_MUNLOCK skips unlocked VMAs; locate the PTE
 * (TTU_SYNC, 5.13: under its lock even when it looks empty); VM_LOCKED → mlock_vma_page +
 * SWAP_MLOCK (unless TTU_IGNORE_MLOCK); a young PTE is aged and gives SWAP_FAIL (unless
 * TTU_IGNORE_ACCESS; never from 5.11); then the PTE is cleared, its dirty bit moved to the page, the
 * replacement entry installed, and the page loses a mapping and a reference — except an anonymous
 * page outside the swap cache, which 4.12+ leaves as it was (kernel-warn.ts).
 */
export function tryToUnmapOne(
  sys: MmSystem,
  pfn: number,
  vma: VmArea,
  address: number,
  rp: RmapPrivate,
): number {
  const flags = rp.flags;
  if (flags & TTU_MUNLOCK && !(vma.vmFlags & VM_LOCKED)) return SWAP_AGAIN;
  // TTU_SPLIT_HUGE_PMD: the model has no huge pages, so there is no PMD to split; the kernel's
  // check after the split still applies.
  if (flags & TTU_SPLIT_HUGE_PMD && !pageMapped(sys.mem, pfn)) return SWAP_AGAIN;
  const t = pageCheckAddress(sys, pfn, vma, address, (flags & TTU_SYNC) !== 0);
  if (!t) return SWAP_AGAIN;
  const task = sys.current;
  const i = pteIndex(address);
  const migration = (flags & (TTU_MIGRATION | TTU_SPLIT_FREEZE)) !== 0;
  if (!(flags & TTU_IGNORE_MLOCK) && !(sys.rules['try-to-migrate'] && migration)) {
    if (vma.vmFlags & VM_LOCKED) {
      mlockVmaPage(sys, pfn);
      t.ptl.unlock(task);
      return SWAP_MLOCK;
    }
    if (flags & TTU_MUNLOCK) {
      t.ptl.unlock(task);
      return SWAP_AGAIN;
    }
  }
  if (!sys.rules['ttu-ignore-access-removed'] && !(flags & TTU_IGNORE_ACCESS) && t.bits[i] & PTE_YOUNG) {
    t.bits[i] &= ~PTE_YOUNG;
    t.ptl.unlock(task);
    return SWAP_FAIL;
  }
  const mem = sys.mem;
  const anon = PageAnon(mem, pfn);
  const pteval = t.bits[i];
  setPte(t, i, 0, 0);
  if (pteval & PTE_DIRTY) setPageDirty(sys, pfn);
  const mm = vma.vmMm;
  if (!migration && anon && !PageSwapCache(mem, pfn)) {
    // 4.12+ warns and aborts with the PTE cleared; 4.9–4.11 BUG (refused by preconditions.ts).
    t.ptl.unlock(task);
    return ttuAnonNotInSwapCache(sys, pfn, vma, address);
  }
  // 5.19: the page stops being exclusive while unmapped (folio_try_share_anon_rmap_pte, which never
  // fails without GUP pins); the entry remembers that it was.
  const exclusive = anon && PageAnonExclusive(mem, pfn);
  if (exclusive) folioTryShareAnonRmapPte(mem, pfn);
  if (migration) {
    // The entry carries the old frame and the write bit (a writable entry), from 5.19 the exclusive
    // bit of a read-only one (readable-exclusive); 6.12 (x86) also keeps young and dirty.
    const keep = sys.rules['migration-entry-young-dirty'] ? PTE_WRITE | PTE_YOUNG | PTE_DIRTY : PTE_WRITE;
    const readableExclusive =
      exclusive && sys.rules['migration-entry-exclusive'] && !(pteval & PTE_WRITE) ? PTE_SWP_EXCLUSIVE : 0;
    setPte(t, i, pfn, PTE_MIGRATION | (pteval & keep) | readableExclusive);
  } else if (anon) {
    if (!(mem.flags[pfn] & (1 << PG_dirty)) && flags & TTU_LZFREE) {
      mm.rss.anon--;
      rp.lazyfreed++;
    } else {
      // swap_duplicate() cannot fail in the model: a slot's count has no limit.
      const entry = mem.private[pfn];
      sys.swap.swapDuplicate(entry);
      mm.rss.anon--;
      mm.rss.swap++;
      const marker = exclusive && sys.rules['swap-pte-exclusive-marker'] ? PTE_SWP_EXCLUSIVE : 0;
      setPte(t, i, entry, PTE_SWAP | marker);
    }
  } else mm.rss[mmCounter(sys, pfn)]--;
  pageRemoveRmap(sys, pfn);
  putPage(sys, pfn);
  t.ptl.unlock(task);
  return SWAP_AGAIN;
}

/** is_vma_temporary_stack() — mm/rmap.c: exec's stack while it is being moved. */
export function isVmaTemporaryStack(vma: VmArea): boolean {
  if (!(vma.vmFlags & VM_GROWSDOWN)) return false;
  return (vma.vmFlags & VM_STACK_INCOMPLETE_SETUP) === VM_STACK_INCOMPLETE_SETUP;
}

/** invalid_migration_vma() — mm/rmap.c: migration skips exec's temporary stack. */
function invalidMigrationVma(vma: VmArea): boolean {
  return isVmaTemporaryStack(vma);
}

/** page_mapcount_is_zero() / page_not_mapped() — mm/rmap.c: the walk can stop, nothing maps the page. */
function pageNotMapped(sys: MmSystem, pfn: number): boolean {
  return !pageMapped(sys.mem, pfn);
}

/**
 * try_to_unmap() — mm/rmap.c (4.9): walk with try_to_unmap_one until the page is no longer mapped.
 * The caller holds the page lock (and a reference, as isolation gives it). Returns SWAP_SUCCESS when
 * nothing maps the page any more (SWAP_LZFREE if that was by discarding a clean page), else the
 * walk's value: SWAP_AGAIN, SWAP_FAIL or SWAP_MLOCK. Not transactional: mappings removed before a
 * FAIL or MLOCK stay removed.
 */
export function tryToUnmap(sys: MmSystem, page: Page | number, flags: number, log?: WalkLog): number {
  // The scenario's `unmap` checks its flag names before anything runs (ttuFlags); this guards
  // callers that pass the model's bits directly.
  checkTtuFlags(sys, flags);
  return unmapWalk(sys, typeof page === 'number' ? page : page.pfn, flags, 'try_to_unmap_one', log);
}

/** Flags that try_to_migrate() takes (TTU_BATCH_FLUSH from 6.3; the model takes it from 5.14). */
const TRY_TO_MIGRATE_FLAGS = TTU_RMAP_LOCKED | TTU_SPLIT_HUGE_PMD | TTU_SYNC | TTU_BATCH_FLUSH;

/**
 * try_to_migrate() — mm/rmap.c (5.14): replace every PTE of the page by a migration entry with
 * try_to_migrate_one(), which never stops at VM_LOCKED and keeps the young and dirty bits in the
 * entry (6.1). 4.9 has no such function (its migration calls try_to_unmap with TTU_MIGRATION).
 * Returns SWAP_SUCCESS when nothing maps the page any more, else SWAP_AGAIN, for the model's own
 * use: the kernel's returns void, and its callers test page_mapped() / folio_mapped().
 */
export function tryToMigrate(sys: MmSystem, page: Page | number, flags: number, log?: WalkLog): number {
  if (!sys.rules['try-to-migrate'])
    throw new RangeError(
      `try_to_migrate: not in Linux ${sys.options.kernel} (migration calls try_to_unmap with TTU_MIGRATION)`,
    );
  if (flags & ~TRY_TO_MIGRATE_FLAGS)
    throw new RangeError(
      `try_to_migrate: unexpected flags ${ttuFlagNames(sys.rules, flags & ~TRY_TO_MIGRATE_FLAGS).join(', ')}`,
    );
  return unmapWalk(
    sys,
    typeof page === 'number' ? page : page.pfn,
    flags | TTU_MIGRATION,
    'try_to_migrate_one',
    log,
  );
}

/**
 * The rmap_walk_control of try_to_unmap(), try_to_migrate() and try_to_munlock(): try_to_unmap_one
 * with `flags` (named `name` in events), stopping once nothing maps the page; migration (and
 * TTU_SPLIT_FREEZE) of an anonymous page skips exec's temporary stack.
 */
function unmapControl(sys: MmSystem, pfn: number, flags: number, name: string): RmapWalkControl<RmapPrivate> {
  const mem = sys.mem;
  return {
    arg: { flags, lazyfreed: 0 },
    name,
    rmapOne: tryToUnmapOne,
    done: pageNotMapped,
    anonLock: pageLockAnonVmaRead,
    invalidVma:
      flags & (TTU_MIGRATION | TTU_SPLIT_FREEZE) && !PageKsm(mem, pfn) && PageAnon(mem, pfn)
        ? invalidMigrationVma
        : null,
  };
}

/** The walk of try_to_unmap() and try_to_migrate(): `flags` as try_to_unmap_one reads them. */
function unmapWalk(sys: MmSystem, pfn: number, flags: number, name: string, log?: WalkLog): number {
  const mem = sys.mem;
  const rwc = unmapControl(sys, pfn, flags, name);
  let ret = flags & TTU_RMAP_LOCKED ? rmapWalkLocked(sys, pfn, rwc, log) : rmapWalk(sys, pfn, rwc, log);
  if (ret !== SWAP_MLOCK && !pageMapped(mem, pfn)) {
    ret = SWAP_SUCCESS;
    if (rwc.arg.lazyfreed && !(mem.flags[pfn] & (1 << PG_dirty))) ret = SWAP_LZFREE;
  }
  return ret;
}

/**
 * try_to_munlock() — mm/rmap.c (4.9; 5.14's page_mlock): after munlock cleared PG_mlocked, look for
 * another VM_LOCKED VMA that maps the page; if one does, try_to_unmap_one re-mlocks it and the
 * result is SWAP_MLOCK. The page must be locked. Its rmap_one is named `try_to_munlock_one`, a
 * model name that reads try_to_unmap_one up to 5.13 and page_mlock_one from 5.14 (rules.ts). (5.18
 * removed it with the mlock rework, whose per-folio mlock_count gives the same outcome; the model
 * keeps this walk, out of that release's trace: installRmap.)
 */
export function tryToMunlock(sys: MmSystem, page: Page | number, log?: WalkLog): number {
  const pfn = typeof page === 'number' ? page : page.pfn;
  if (!PageLocked(sys.mem, pfn)) throw new Error(`try_to_munlock: pfn ${pfn} is not locked (VM_BUG_ON_PAGE)`);
  return rmapWalk(sys, pfn, unmapControl(sys, pfn, TTU_MUNLOCK, 'try_to_munlock_one'), log);
}
