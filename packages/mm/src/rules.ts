/**
 * The kernel as a timeline: every behaviour of the model that changed between releases is one rule,
 * listed here in the order the kernel took them, with the release that first had the new behaviour
 * and the commit that brought it. Code never asks which release runs; it asks whether a rule is in
 * force (`sys.rules['anon-vma-reuse-counters']`). Read this file like a changelog of rmap.
 *
 * `evidence` says how the release is known: `bracketed` (the change was seen by comparing kernel
 * trees of releases on either side), `sourced` (a public record names the commit and its release),
 * `recalled` (neither yet; treat the release as ±1).
 */
import { type LockOrder, RMAP_LOCK_ORDER_4_9, RMAP_LOCK_ORDER_6_12 } from '@rmaplab/locks';
import {
  atLeast,
  compareReleases,
  NEWEST_MODELLED,
  OLDEST_MODELLED,
  parseRelease,
  type Release,
} from './release.js';

export type RuleArea =
  | 'anon_vma'
  | 'vma'
  | 'fault'
  | 'mlock'
  | 'reclaim'
  | 'unmap'
  | 'migration'
  | 'madvise'
  | 'ksm'
  | 'locking'
  | 'names';

export interface KernelRule {
  /** Kebab-case name, as `rmaplab rules` and `sys.rules` spell it. */
  readonly id: string;
  /** The first mainline release with the new behaviour. */
  readonly since: string;
  /** The commit that introduced it (12 hex digits), when known. */
  readonly commit: string | null;
  /** The commit's (or patch series') title. */
  readonly title: string;
  /** What changed, before → after, as the model shows it. */
  readonly change: string;
  readonly area: RuleArea;
  readonly evidence: 'bracketed' | 'sourced' | 'recalled';
  /**
   * The names the release changed, old → new: functions, lock classes and enum values as the model
   * shows them in traces and reports (the model's code keeps writing 4.9's; MmSystem translates).
   * An old name may be an earlier rule's new one, so a name can be renamed twice.
   */
  readonly renames?: readonly (readonly [string, string])[];
}

/** The catalogue, oldest first. */
export const RULES = [
  {
    id: 'reclaim-dirty-file-seen-twice',
    since: '4.11',
    commit: '4eda48235011',
    title: 'mm: vmscan: only write dirty pages that the scanner has seen twice',
    change:
      'kswapd writes a dirty file page back the first time reclaim reaches it → only one it met before: the first meeting sets PG_reclaim and leaves the page to the flusher threads',
    area: 'reclaim',
    evidence: 'bracketed',
  },
  {
    id: 'reclaim-dirty-file-activate',
    since: '4.11',
    commit: 'c55e8d035b28',
    title: "mm: vmscan: move dirty pages out of the way until they're flushed",
    change:
      'a dirty file page that reclaim may not write back (outside kswapd, or not yet) gets PG_reclaim and stays on the inactive list (keep_locked) → it gets PG_reclaim and is activated (activate_locked), out of the way until the flusher has written it',
    area: 'reclaim',
    evidence: 'bracketed',
  },
  {
    id: 'page-vma-mapped-walk',
    since: '4.11',
    commit: 'ace71a19cec5',
    title: 'mm: introduce page_vma_mapped_walk()',
    change:
      'rmap_one finds the PTE with page_check_address(), and remove_migration_pte() with mm_find_pmd() and is_migration_entry() → every rmap_one finds its PTEs with page_vma_mapped_walk()',
    area: 'names',
    evidence: 'bracketed',
    renames: [
      ['page_check_address', 'page_vma_mapped_walk'],
      ['mm_find_pmd', 'page_vma_mapped_walk'],
      ['is_migration_entry', 'page_vma_mapped_walk'],
    ],
  },
  {
    id: 'swap-codes-removed',
    since: '4.12',
    commit: null,
    title:
      "Minchan Kim's series: mm: make ttu's return boolean / make rmap_one boolean function / remove SWAP_[SUCCESS|AGAIN|FAIL]",
    change:
      'rmap_one and try_to_unmap return SWAP_SUCCESS / AGAIN / FAIL / MLOCK, and reclaim keeps a page on SWAP_AGAIN → they return bool (rmap_one: true to go on walking, false to stop; try_to_unmap: true when nothing maps the page any more), and reclaim activates a page that is still mapped',
    area: 'unmap',
    evidence: 'bracketed',
  },
  {
    id: 'rmap-walk-void',
    since: '4.12',
    commit: null,
    title: "mm: make rmap_walk() return void (Minchan Kim's SWAP_* removal series)",
    change:
      'rmap_walk returns the last rmap_one result (SWAP_AGAIN when it saw every VMA) → it returns nothing: its callers look at the page, or at what their rmap_one counted',
    area: 'unmap',
    evidence: 'bracketed',
  },
  {
    id: 'ttu-lzfree-removed',
    since: '4.12',
    commit: '802a3a92ad7a',
    title: 'mm: reclaim MADV_FREE pages',
    change:
      'shrink_page_list passes TTU_UNMAP, and TTU_LZFREE for an anonymous page it has just added to swap, which try_to_unmap_one discards if clean → lazily freed pages are recognised by !PageSwapBacked and get no swap slot; TTU_LZFREE and TTU_UNMAP are gone and the other flags renumbered',
    area: 'reclaim',
    evidence: 'bracketed',
  },
  {
    id: 'ttu-anon-not-swapcache-warn',
    since: '4.12',
    commit: null,
    title: 'mm: fix lazyfree BUG_ON check in try_to_unmap_one()',
    change:
      'try_to_unmap_one on an anonymous page outside the swap cache hits VM_BUG_ON_PAGE → it has already cleared the PTE, warns once (PageSwapBacked != PageSwapCache) and aborts the walk without restoring it',
    area: 'unmap',
    evidence: 'bracketed',
  },
  {
    id: 'remove-swap-mlock',
    since: '4.12',
    commit: 'ad6b67041a45',
    title: 'mm: remove SWAP_MLOCK in ttu',
    change:
      'shrink_page_list culls an unevictable (mlocked) page to the unevictable list (cull_mlocked) → it goes to activate_locked, which frees the swap slot of an mlocked page in the swap cache and leaves it inactive',
    area: 'mlock',
    evidence: 'bracketed',
  },
  {
    id: 'ksm-max-page-sharing',
    since: '4.13',
    commit: '2c653d0ee2ae',
    title: 'ksm: introduce ksm_max_page_sharing per page deduplication limit',
    change:
      'a KSM page takes any number of sharers → at most max_page_sharing (default 256) per stable node; a full node becomes a chain of dups (stable_node_chains, stable_node_dups); a lookup takes the first dup with room, and walks them all (dropping stale ones, taking the fullest with room) only once every stable_node_chains_prune_millisecs (2 s) of ksmd time',
    area: 'ksm',
    evidence: 'bracketed',
  },
  {
    id: 'ttu-split-freeze',
    since: '4.14',
    commit: null,
    title: 'mm: thp: introduce separate TTU flag for thp freezing',
    change:
      'try_to_unmap takes no TTU_SPLIT_FREEZE → TTU_SPLIT_FREEZE (0x100) makes try_to_unmap_one install migration entries, as TTU_MIGRATION does, for the THP split to freeze a page',
    area: 'unmap',
    evidence: 'bracketed',
  },
  {
    id: 'add-to-swap-dirty',
    since: '4.14',
    commit: null,
    title: 'mm: fix data corruption caused by lazyfree page',
    change:
      'a page added to the swap cache keeps its dirty bit as it was → add_to_swap marks it dirty, so it is always written to swap',
    area: 'reclaim',
    evidence: 'bracketed',
  },
  {
    id: 'filemap-fault-retry',
    since: '5.1',
    commit: '6b4c9f446981',
    title: 'filemap: drop the mmap_sem for all blocking operations',
    change:
      'a major file fault reads ahead under mmap_sem and maps the page it faulted on → filemap_fault drops mmap_sem before the read-ahead I/O and returns VM_FAULT_RETRY; the retried fault finds the window resident and fault-around maps it',
    area: 'fault',
    evidence: 'bracketed',
  },
  {
    id: 'madvise-cold-pageout',
    since: '5.4',
    commit: '1a4e58cce84e',
    title: 'mm: introduce MADV_COLD (9c276cc65a58) / mm: introduce MADV_PAGEOUT',
    change:
      'madvise(MADV_COLD | MADV_PAGEOUT) is refused with EINVAL → it deactivates / reclaims the pages that the caller alone maps',
    area: 'madvise',
    evidence: 'bracketed',
  },
  {
    id: 'mmap-lock-rename',
    since: '5.8',
    commit: 'da1c55f1b272',
    title: 'mmap locking API: rename mmap_sem to mmap_lock',
    change: "the mm's rw_semaphore is mm->mmap_sem → mm->mmap_lock",
    area: 'names',
    evidence: 'bracketed',
    renames: [['mmap_sem', 'mmap_lock']],
  },
  {
    id: 'anon-first-reference',
    since: '5.9',
    commit: 'b518154e59aa',
    title: 'mm/vmscan: protect the workingset on anonymous LRU',
    change:
      'page_check_references activates a swap-backed page on its first referenced PTE → anonymous pages, like file pages, need a second reference (PG_referenced) to be activated',
    area: 'reclaim',
    evidence: 'bracketed',
  },
  {
    id: 'cow-reuse-refcount',
    since: '5.9',
    commit: '09854ba94c6a',
    title: 'mm: do_wp_page() simplification',
    change:
      "do_wp_page reuses an anonymous page when reuse_swap_page finds one mapping and no other swap user (dropping a swap-cache copy on the way), and moves it to the faulting VMA's anon_vma → it reuses the page only when it is mapped once and its refcount is 1, under a trylocked page lock: a page that the swap cache still holds is copied, and a reused page keeps page->mapping as it was",
    area: 'fault',
    evidence: 'bracketed',
  },
  {
    id: 'ttu-ignore-access-removed',
    since: '5.11',
    commit: '013339df116c',
    title: 'mm/rmap: always do TTU_IGNORE_ACCESS',
    change:
      'try_to_unmap_one fails (SWAP_FAIL) on a PTE with the young bit set unless TTU_IGNORE_ACCESS is given → the young bit is ignored and the flag is gone',
    area: 'unmap',
    evidence: 'bracketed',
  },
  {
    id: 'unlink-anon-vmas-clears-pointer',
    since: '5.12',
    commit: 'ee8ab1903e3d',
    title: 'mm: rmap: explicitly reset vma->anon_vma in unlink_anon_vmas()',
    change: 'unlink_anon_vmas leaves vma->anon_vma pointing at the anon_vma it unlinked → it sets it to NULL',
    area: 'anon_vma',
    evidence: 'bracketed',
  },
  {
    id: 'ttu-sync',
    since: '5.13',
    commit: null,
    title: 'mm/thp: try_to_unmap() use TTU_SYNC for safe splitting',
    change:
      'try_to_unmap_one skips a PTE that looks empty without taking its lock → TTU_SYNC (0x10) makes page_vma_mapped_walk take the PTE lock first (PVMW_SYNC), so a PTE changing under it is not missed',
    area: 'unmap',
    evidence: 'recalled',
  },
  {
    id: 'try-to-migrate',
    since: '5.14',
    commit: 'a98a2f0c8ce1',
    title: 'mm/rmap: split migration into its own function',
    change:
      'migration runs try_to_unmap(TTU_MIGRATION | TTU_IGNORE_MLOCK) → try_to_migrate() / try_to_migrate_one(), which migrates pages of VM_LOCKED VMAs without a flag; TTU_MIGRATION is gone',
    area: 'migration',
    evidence: 'bracketed',
  },
  {
    id: 'page-mlock',
    since: '5.14',
    commit: 'cd62734ca60d',
    title: 'mm/rmap: split try_to_munlock from try_to_unmap',
    change:
      "munlock walks with try_to_munlock(), whose rmap_one is try_to_unmap_one() under TTU_MUNLOCK (the model's try_to_munlock_one) → it walks with page_mlock() and page_mlock_one(); TTU_MUNLOCK is gone",
    area: 'names',
    evidence: 'bracketed',
    renames: [
      ['try_to_munlock', 'page_mlock'],
      ['try_to_munlock_one', 'page_mlock_one'],
    ],
  },
  {
    id: 'ttu-void',
    since: '5.14',
    commit: '1fb08ac63bee',
    title: 'mm: rmap: make try_to_unmap() void function',
    change:
      'try_to_unmap returns true when nothing maps the page any more → it returns nothing, and its callers test page_mapped() themselves',
    area: 'unmap',
    evidence: 'bracketed',
  },
  {
    id: 'cow-free-swap-cache',
    since: '5.14',
    commit: 'f4c4a3f48480',
    title: 'mm: free idle swap cache page after COW',
    change:
      'a page that do_wp_page copied away from stays in the swap cache, unmapped, until reclaim frees it (from 5.9, when a swap-cache page is copied rather than reused) → wp_page_copy drops its swap copy at once (free_swap_cache) when no PTE maps it and no swap PTE needs it',
    area: 'fault',
    evidence: 'bracketed',
  },
  {
    id: 'folio-lock',
    since: '5.16',
    commit: null,
    title: 'mm/filemap: Add folio_lock() (the page cache folio series)',
    change:
      'the page lock is taken with lock_page(), trylock_page() and unlock_page() → with folio_lock(), folio_trylock() and folio_unlock(), which the old names now call',
    area: 'names',
    evidence: 'recalled',
    renames: [
      ['lock_page', 'folio_lock'],
      ['trylock_page', 'folio_trylock'],
      ['unlock_page', 'folio_unlock'],
    ],
  },
  {
    id: 'folio-mkclean',
    since: '5.16',
    commit: null,
    title: 'mm/rmap: Add folio_mkclean()',
    change:
      'writeback cleans a page-cache page with page_mkclean() → with folio_mkclean() (page_mkclean stays a wrapper until 6.10)',
    area: 'names',
    evidence: 'recalled',
    renames: [['page_mkclean', 'folio_mkclean']],
  },
  {
    id: 'mlock-count',
    since: '5.18',
    commit: '07ca76067308',
    title: 'mm/munlock: maintain page->mlock_count while unevictable (Hugh Dickins, the munlock rework)',
    change:
      'munlock walks the rmap (try_to_munlock, then page_mlock) to find whether another VM_LOCKED VMA maps the page, skipping the walk when one PTE is left → the page counts its locked mappings (mlock_count), so any locked mapper keeps it mlocked; page_mlock is gone, and munlock_vma_page() becomes munlock_page()',
    area: 'mlock',
    evidence: 'bracketed',
    renames: [['munlock_vma_page', 'munlock_page']],
  },
  {
    id: 'referenced-mlocks',
    since: '5.18',
    commit: null,
    title: "mm/thp: shrink_page_list() avoid splitting VM_LOCKED THP (the munlock rework's last patch)",
    change:
      'page_referenced_one only reports VM_LOCKED and page_check_references returns PAGEREF_RECLAIM for it (try_to_unmap then mlocks) → page_referenced_one mlocks the page itself and reclaim activates it',
    area: 'mlock',
    evidence: 'bracketed',
  },
  {
    id: 'folio-referenced',
    since: '5.18',
    commit: null,
    title: 'mm/rmap: Turn page_referenced() into folio_referenced()',
    change:
      'page_referenced() walks with page_referenced_one() → folio_referenced() with folio_referenced_one()',
    area: 'names',
    evidence: 'bracketed',
    renames: [
      ['page_referenced', 'folio_referenced'],
      ['page_referenced_one', 'folio_referenced_one'],
    ],
  },
  {
    id: 'folio-check-references',
    since: '5.18',
    commit: null,
    title: 'mm/vmscan: Turn page_check_references() into folio_check_references()',
    change:
      'reclaim asks page_check_references() → folio_check_references() (its answers keep the PAGEREF_ names)',
    area: 'names',
    evidence: 'bracketed',
    renames: [['page_check_references', 'folio_check_references']],
  },
  {
    id: 'wp-reuse-swapcache',
    since: '5.18',
    commit: '53a05ad9f21d',
    title: 'mm: optimize do_wp_page() for exclusive pages in the swapcache',
    change:
      "do_wp_page copies a page whose refcount is not 1 → it allows the swap cache's reference: under the page lock it frees the swap slot when no swap PTE needs it (try_to_free_swap) and reuses the page if its refcount is then 1",
    area: 'fault',
    evidence: 'bracketed',
  },
  {
    id: 'reuse-swap-page-removed',
    since: '5.18',
    commit: 'c145e0b47c77',
    title:
      'mm: streamline COW logic in do_swap_page() (the series that ends with mm/swapfile: remove stale reuse_swap_page())',
    change:
      "a write swap-in maps the page writable and exclusive when reuse_swap_page counts one user of page and slot → swap_free comes first, a write fault whose page has refcount 2 (ours and the swap cache's) frees the swap copy (should_try_to_free_swap), and the page is mapped exclusive (RMAP_EXCLUSIVE), writable on a write fault, iff its refcount is then 1",
    area: 'fault',
    evidence: 'bracketed',
  },
  {
    id: 'rmap-trylock',
    since: '5.19',
    commit: '6d4675e60135',
    title: "mm: don't be stuck to rmap lock on reclaim path",
    change:
      "page_referenced waits for the anon_vma / i_mmap lock → it only trylocks it (rwc->try_lock) and, if contended, returns -1 so reclaim keeps the page; rmap_walk_ksm trylocks each rmap_item's anon_vma first",
    area: 'locking',
    evidence: 'bracketed',
  },
  {
    id: 'reclaim-folio-mapped',
    since: '5.19',
    commit: null,
    title: 'mm/vmscan: shrink_page_list() works on a folio',
    change: 'after try_to_unmap, reclaim tests page_mapped(page) → folio_mapped(folio)',
    area: 'names',
    evidence: 'bracketed',
    renames: [['page_mapped', 'folio_mapped']],
  },
  {
    id: 'wp-reuse-moves-anon-rmap',
    since: '5.19',
    commit: '6c54dc6c7437',
    title: 'mm/rmap: use page_move_anon_rmap() when reusing a mapped PageAnon() page exclusively',
    change:
      "a page that do_wp_page reuses by its refcount keeps page->mapping (5.9 dropped the move) → page_move_anon_rmap points it at the faulting VMA's anon_vma again, so rmap walks no longer search the parent and siblings",
    area: 'anon_vma',
    evidence: 'bracketed',
  },
  {
    id: 'page-anon-exclusive',
    since: '5.19',
    commit: '6c287605fd56',
    title: 'mm: remember exclusively mapped anonymous pages with PG_anon_exclusive',
    change:
      "nothing records that an anonymous page is exclusive to one PTE → PG_anon_exclusive (PG_mappedtodisk's bit, shown by /proc/kpageflags as bit 34): set on new and COW-copied pages, on pages mapped RMAP_EXCLUSIVE and on every reuse; cleared by fork (page_try_dup_anon_rmap), by try_to_unmap and try_to_migrate (page_try_share_anon_rmap) and by KSM's write_protect_page; do_wp_page reuses an exclusive page without looking at any count; a KSM page is never exclusive",
    area: 'fault',
    evidence: 'bracketed',
  },
  {
    id: 'migration-entry-exclusive',
    since: '5.19',
    commit: '6c287605fd56',
    title: 'mm: remember exclusively mapped anonymous pages with PG_anon_exclusive (its migration entries)',
    change:
      'a migration entry is readable or writable → readable, readable-exclusive or writable: try_to_migrate_one moves PG_anon_exclusive into the entry and remove_migration_pte sets it again (RMAP_EXCLUSIVE) from an exclusive or writable entry; fork and mprotect make such entries of an anonymous page readable (fork) or readable-exclusive (mprotect)',
    area: 'migration',
    evidence: 'bracketed',
  },
  {
    id: 'swap-pte-exclusive-marker',
    since: '5.19',
    commit: '1493a1913e34',
    title:
      'mm/swap: remember PG_anon_exclusive via a swp pte bit (x86: support __HAVE_ARCH_PTE_SWP_EXCLUSIVE)',
    change:
      "try_to_unmap_one clears PG_anon_exclusive and stores a plain swap entry → the swap PTE of a page that was exclusive carries the exclusive marker, fork clears it in the parent, and do_swap_page maps such a page exclusive (RMAP_EXCLUSIVE: a page read back into a new frame gets the faulting VMA's anon_vma, not the root) whatever its refcount",
    area: 'fault',
    evidence: 'bracketed',
  },
  {
    id: 'anon-vma-reuse-counters',
    since: '6.0',
    commit: '2555283eb40d',
    title: 'mm/rmap: Fix anon_vma->degree ambiguity leading to double-reuse',
    change:
      'anon_vma_clone reuses an anon_vma with degree < 2 → it reuses one with num_children < 2 and num_active_vmas == 0 (CVE-2022-42703)',
    area: 'anon_vma',
    evidence: 'bracketed',
  },
  {
    id: 'migration-entry-young-dirty',
    since: '6.1',
    commit: '2e3468778dbe',
    title: 'mm: remember young/dirty bit for page migrations',
    change:
      'a migration entry carries the page and the write bit, and the restored PTE is old and clean → on x86-64 it also carries young and dirty, and the restored PTE keeps them',
    area: 'migration',
    evidence: 'bracketed',
  },
  {
    id: 'shrink-folio-list',
    since: '6.1',
    commit: null,
    title: 'mm/vmscan: rename shrink_page_list() to shrink_folio_list()',
    change:
      'reclaim runs shrink_page_list(), and page_check_references() answers PAGEREF_* → shrink_folio_list(), answered FOLIOREF_*',
    area: 'names',
    evidence: 'bracketed',
    renames: [
      ['shrink_page_list', 'shrink_folio_list'],
      ['PAGEREF_RECLAIM', 'FOLIOREF_RECLAIM'],
      ['PAGEREF_RECLAIM_CLEAN', 'FOLIOREF_RECLAIM_CLEAN'],
      ['PAGEREF_KEEP', 'FOLIOREF_KEEP'],
      ['PAGEREF_ACTIVATE', 'FOLIOREF_ACTIVATE'],
    ],
  },
  {
    id: 'ttu-hwpoison',
    since: '6.3',
    commit: '6da6b1d4a7df',
    title: 'mm/hwpoison: convert TTU_IGNORE_HWPOISON to TTU_HWPOISON',
    change:
      'try_to_unmap_one leaves a hwpoison entry for a poisoned page unless TTU_IGNORE_HWPOISON → only when TTU_HWPOISON (0x20) asks for one: the flag and its meaning are inverted (the model has no poisoned pages, so neither changes what it does)',
    area: 'unmap',
    evidence: 'bracketed',
  },
  {
    id: 'munlock-folio',
    since: '6.3',
    commit: null,
    title: 'mm/mlock: the munlock side works on folios (munlock_page → munlock_folio)',
    change: 'munlock of a mapped page runs munlock_page() → munlock_folio()',
    area: 'names',
    evidence: 'bracketed',
    renames: [['munlock_page', 'munlock_folio']],
  },
  {
    id: 'vma-has-recency',
    since: '6.3',
    commit: '8788f6781486',
    title: 'mm: add vma_has_recency()',
    change:
      'page_referenced counts the young PTEs of a VM_SEQ_READ VMA without calling them referenced → it skips VMAs with VM_SEQ_READ or VM_RAND_READ altogether (invalid_folio_referenced_vma), and a young PTE anywhere else counts',
    area: 'reclaim',
    evidence: 'bracketed',
  },
  {
    id: 'mprotect-unaccount-unfaulted',
    since: '6.7',
    commit: '9b9143298585',
    title: 'mm/mprotect: allow unfaulted VMAs to be unaccounted on mprotect()',
    change:
      'a private mapping keeps VM_ACCOUNT (and its commit charge) when mprotect makes it read-only → a private anonymous VMA without an anon_vma drops it; it then no longer merges with an accounted neighbour',
    area: 'vma',
    evidence: 'bracketed',
  },
  {
    id: 'folio-move-anon-rmap',
    since: '6.7',
    commit: null,
    title: 'mm/rmap: convert page_move_anon_rmap() to folio_move_anon_rmap()',
    change:
      'a COW fault that reuses an anonymous page moves it to its VMA with page_move_anon_rmap() → folio_move_anon_rmap()',
    area: 'names',
    evidence: 'bracketed',
    renames: [['page_move_anon_rmap', 'folio_move_anon_rmap']],
  },
  {
    id: 'anon-mthp',
    since: '6.8',
    commit: '19eaf44954df',
    title: 'mm: thp: support allocation of anonymous multi-size THP',
    change:
      'an anonymous fault allocates one page or, with transparent_hugepage/enabled, a 2 MiB PMD-mapped THP → also any order from 2 (16 KiB) to 8 (1 MiB) enabled in hugepages-NkB/enabled, the largest whose aligned range lies in the VMA with no PTE yet (alloc_anon_folio), mapped by its PTEs at once',
    area: 'fault',
    evidence: 'sourced',
  },
  {
    id: 'ksm-checksum-first',
    since: '6.11',
    commit: 'd58a361b0350',
    title: "mm/ksm: don't waste time searching stable tree for fast changing page",
    change:
      'cmp_and_merge_page searches the stable tree first and gates only the unstable tree on an unchanged checksum → a page that is not KSM yet must keep its checksum for one scan before any search',
    area: 'ksm',
    evidence: 'bracketed',
  },
  {
    id: 'swapin-map-writable',
    since: '6.11',
    commit: null,
    title: 'mm: swap: reuse exclusive folio directly instead of wp page faults (Barry Song)',
    change:
      'a read swap-in maps an exclusive page read-only, so the first write takes a write fault to reuse it → do_swap_page maps it writable (not dirty) in a VM_WRITE VMA on a read fault too',
    area: 'fault',
    evidence: 'bracketed',
  },
  {
    id: 'merge-anon-vma-directional',
    since: '6.16',
    commit: '879bca0a2c4f',
    title: 'mm/vma: fix incorrectly disallowed anonymous VMA merges',
    change:
      'a range with an anon_vma merges with a neighbour without one only if that neighbour has a singular anon_vma_chain, which it never has, so a faulted part of a VMA never rejoins its unfaulted neighbours → the singular chain is asked of whichever side has the anon_vma (vma_had_uncowed_parents): an unforked faulted range joins them',
    area: 'vma',
    evidence: 'bracketed',
  },
  {
    id: 'folio-alloc-swap',
    since: '6.17',
    commit: null,
    title: 'mm: remove add_to_swap() (reclaim calls folio_alloc_swap() and dirties the folio itself)',
    change:
      'reclaim gives an anonymous page its swap slot with add_to_swap() → with folio_alloc_swap(), then folio_mark_dirty() (between 6.15 and 6.17: no tree of 6.15 or 6.16 was read)',
    area: 'names',
    evidence: 'bracketed',
    renames: [['add_to_swap', 'folio_alloc_swap']],
  },
  {
    id: 'mremap-multi-vma',
    since: '6.17',
    commit: 'd23cb648e365',
    title: 'mm/mremap: permit mremap() move of multiple VMAs (Lorenzo Stoakes)',
    change:
      'a same-size MREMAP_MAYMOVE|MREMAP_FIXED move of a range that spans several VMAs fails with EFAULT → every VMA in the range moves (split at the ends), each at its offset from the start, so the gaps stay; a gap at the start of the range is still EFAULT',
    area: 'vma',
    evidence: 'sourced',
  },
  {
    id: 'migratepage-success-removed',
    since: '6.18',
    commit: null,
    title: 'mm/migrate: remove MIGRATEPAGE_SUCCESS',
    change: 'a page moved by migration reports MIGRATEPAGE_SUCCESS → 0',
    area: 'names',
    evidence: 'bracketed',
    renames: [['MIGRATEPAGE_SUCCESS', '0']],
  },
] as const satisfies readonly KernelRule[];

export type RuleId = (typeof RULES)[number]['id'];

/** Which rules are in force: one boolean per rule, fixed for the life of an MmSystem. */
export type RuleSet = Readonly<Record<RuleId, boolean>>;

/** The rules in force in `release`. */
export function rulesFor(release: Release): RuleSet {
  const set = {} as Record<RuleId, boolean>;
  for (const rule of RULES) set[rule.id] = atLeast(release, rule.since);
  return Object.freeze(set);
}

/**
 * The releases where the model's behaviour changes: the oldest modelled release, every rule's
 * `since`, and the newest modelled release, in order.
 */
export function timelinePoints(): string[] {
  const points = [OLDEST_MODELLED, ...RULES.map((r) => r.since), NEWEST_MODELLED];
  return [...new Set(points)].sort((a, b) => compareReleases(parseRelease(a), parseRelease(b)));
}

/**
 * Names the model gives one kernel function in two roles, so that a release which split the roles
 * can name each: 4.9's try_to_munlock() walks with try_to_unmap_one() under TTU_MUNLOCK, which 5.14
 * made page_mlock_one() (rule page-mlock). Each maps to its name in 4.9.
 */
const MODEL_NAMES: readonly (readonly [string, string])[] = [['try_to_munlock_one', 'try_to_unmap_one']];

/**
 * The names as `rules`' release spells them: each name the model writes (4.9's, or a MODEL_NAMES
 * one) that the release spells differently, with the release's spelling. Renames apply in the
 * order of the timeline, so a name renamed twice ends at its last name.
 */
export function namesFor(rules: RuleSet): ReadonlyMap<string, string> {
  const names = new Map<string, string>(MODEL_NAMES);
  for (const rule of RULES as readonly KernelRule[]) {
    if (!rules[rule.id as RuleId] || !rule.renames) continue;
    for (const [from, to] of rule.renames) {
      for (const [name, now] of names) if (now === from) names.set(name, to);
      names.set(from, to);
    }
  }
  return names;
}

/** The rule named `id`. */
export function ruleById(id: RuleId): KernelRule {
  return RULES.find((r) => r.id === id)!;
}

/**
 * The lock order documented at the top of mm/rmap.c, as read in these releases' trees. A release
 * validates against the newest comment not after it (the comment was rewritten piecemeal between
 * them; lock classes renamed on the way — mmap_sem → mmap_lock, i_mutex → i_rwsem — are aliases).
 */
const DOCUMENTED_LOCK_ORDERS: readonly (readonly [string, LockOrder])[] = [
  ['4.9', RMAP_LOCK_ORDER_4_9],
  ['6.12', RMAP_LOCK_ORDER_6_12],
];

/** The documented lock order that applies in `release`. */
export function lockOrderFor(release: Release): LockOrder {
  let order = DOCUMENTED_LOCK_ORDERS[0][1];
  for (const [since, o] of DOCUMENTED_LOCK_ORDERS) if (atLeast(release, since)) order = o;
  return order;
}
