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
  | 'locking';

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
    id: 'ttu-lzfree-removed',
    since: '4.12',
    commit: null,
    title: 'mm: reclaim MADV_FREE pages (TTU_LZFREE removed)',
    change:
      'shrink_page_list passes TTU_LZFREE for an anonymous page it just added to swap, and try_to_unmap_one discards it if clean → lazily freed pages are recognised by !PageSwapBacked and no flag is passed',
    area: 'reclaim',
    evidence: 'recalled',
  },
  {
    id: 'swap-codes-removed',
    since: '4.12',
    commit: null,
    title: 'mm: make rmap_one boolean function / make try_to_unmap return boolean (Minchan Kim)',
    change:
      'rmap_one and try_to_unmap return SWAP_SUCCESS / AGAIN / FAIL / MLOCK, and reclaim keeps a page on SWAP_AGAIN → they return bool (later void), and reclaim activates any page that is still mapped after try_to_unmap',
    area: 'unmap',
    evidence: 'recalled',
  },
  {
    id: 'ttu-anon-not-swapcache-warn',
    since: '4.12',
    commit: null,
    title: 'mm: reclaim MADV_FREE pages',
    change:
      'try_to_unmap_one on a swap-backed anonymous page outside the swap cache hits VM_BUG_ON_PAGE → it warns once and stops the walk with the page still mapped',
    area: 'unmap',
    evidence: 'recalled',
  },
  {
    id: 'add-to-swap-dirty',
    since: '4.13',
    commit: null,
    title: 'add_to_swap() sets the page dirty',
    change:
      'a page added to the swap cache keeps its dirty bit as it was → add_to_swap marks it dirty, so it is always written out',
    area: 'reclaim',
    evidence: 'recalled',
  },
  {
    id: 'ksm-max-page-sharing',
    since: '4.13',
    commit: '2c653d0ee2ae',
    title: 'ksm: introduce ksm_max_page_sharing per page deduplication limit',
    change:
      'a KSM page takes any number of sharers → at most max_page_sharing (default 256) per stable node; a full node becomes a chain of dups (stable_node_chains, stable_node_dups)',
    area: 'ksm',
    evidence: 'recalled',
  },
  {
    id: 'ksm-checksum-first',
    since: '4.14',
    commit: null,
    title: 'ksm: the checksum gate before the stable tree search',
    change:
      'cmp_and_merge_page searches the stable tree first and gates only the unstable tree on an unchanged checksum → a page that is not KSM yet must keep its checksum for one scan before any search',
    area: 'ksm',
    evidence: 'recalled',
  },
  {
    id: 'filemap-fault-retry',
    since: '5.1',
    commit: '6b4c9f446981',
    title: 'filemap: drop the mmap_sem for all blocking operations',
    change:
      'a major file fault maps the page it read at once → filemap_fault drops mmap_sem for the read and returns VM_FAULT_RETRY; the retried fault finds the read-around window resident and fault-around maps it',
    area: 'fault',
    evidence: 'recalled',
  },
  {
    id: 'madvise-cold-pageout',
    since: '5.4',
    commit: '1a4e58cce84e',
    title: 'mm: introduce MADV_COLD / MADV_PAGEOUT',
    change:
      'madvise(MADV_COLD | MADV_PAGEOUT) is refused with EINVAL → it deactivates / reclaims the pages the caller alone maps',
    area: 'madvise',
    evidence: 'recalled',
  },
  {
    id: 'anon-first-reference',
    since: '5.9',
    commit: 'b518154e59aa',
    title: 'mm/vmscan: protect the workingset on anonymous LRU',
    change:
      'page_check_references activates a swap-backed page on its first referenced PTE → anonymous pages, like file pages, need a second reference (PG_referenced) to be activated',
    area: 'reclaim',
    evidence: 'recalled',
  },
  {
    id: 'ttu-ignore-access-removed',
    since: '5.11',
    commit: '013339df116c',
    title: 'mm/rmap: always do TTU_IGNORE_ACCESS',
    change:
      'try_to_unmap_one fails (SWAP_FAIL) on a PTE with the young bit set unless TTU_IGNORE_ACCESS is given → the young bit is ignored; the flag is gone',
    area: 'unmap',
    evidence: 'recalled',
  },
  {
    id: 'try-to-migrate',
    since: '5.14',
    commit: null,
    title: 'mm/rmap: split migration into its own function',
    change:
      'migration runs try_to_unmap(TTU_MIGRATION | TTU_IGNORE_MLOCK) → try_to_migrate() / try_to_migrate_one(), which migrates pages of VM_LOCKED VMAs without a flag; TTU_MIGRATION is gone',
    area: 'migration',
    evidence: 'recalled',
  },
  {
    id: 'rmap-trylock',
    since: '5.17',
    commit: '6d4675e60135',
    title: "mm: don't be stuck to rmap lock on reclaim path",
    change:
      "page_referenced waits for the anon_vma / i_mmap lock → it only trylocks it (rwc->try_lock) and, if contended, reports -1 so reclaim keeps the page; rmap_walk_ksm trylocks each rmap_item's anon_vma first",
    area: 'locking',
    evidence: 'recalled',
  },
  {
    id: 'mlock-count',
    since: '5.18',
    commit: '07ca76067308',
    title: 'mm/munlock: maintain page->mlock_count while unevictable (the mlock rework)',
    change:
      "munlock walks the rmap (try_to_munlock) to see whether another locked VMA maps the page → the page counts its locked mappings (mlock_count); page_referenced / try_to_unmap mlock a page they meet in a VM_LOCKED VMA, reclaim activates VM_LOCKED and unevictable pages (no cull_mlocked), and frees an mlocked page's swap slot",
    area: 'mlock',
    evidence: 'recalled',
  },
  {
    id: 'anon-vma-reuse-counters',
    since: '6.0',
    commit: '2555283eb40d',
    title: 'mm/rmap: Fix anon_vma->degree ambiguity leading to double-reuse',
    change:
      'anon_vma_clone reuses an anon_vma with degree < 2 → it reuses one with num_children < 2 and num_active_vmas == 0; unlink_anon_vmas clears vma->anon_vma (CVE-2022-42703)',
    area: 'anon_vma',
    evidence: 'sourced',
  },
  {
    id: 'migration-entry-young-dirty',
    since: '6.1',
    commit: '2e3468778dbe',
    title: 'mm: remember young/dirty bit for page migrations',
    change:
      'a migration entry carries the page and the write bit; the restored PTE is old and clean → it also carries young and dirty, and the restored PTE keeps them',
    area: 'migration',
    evidence: 'recalled',
  },
  {
    id: 'vma-has-recency',
    since: '6.3',
    commit: '8788f6781486',
    title: 'mm: add vma_has_recency()',
    change:
      'page_referenced counts the PTEs of a VM_SEQ_READ VMA without calling them referenced → it skips VMAs with VM_SEQ_READ or VM_RAND_READ altogether (invalid_folio_referenced_vma), and a young PTE anywhere else counts',
    area: 'reclaim',
    evidence: 'recalled',
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
