/**
 * Kernel samepage merging — mm/ksm.c (4.9, and 6.12 where noted). ksmd walks the registered mms
 * (mm_slots) in list order, their VM_MERGEABLE VMAs in address order and their anonymous pages in
 * address order, keeping one rmap_item per (mm, address) it has seen. Identical pages meet in the
 * unstable tree (rebuilt on every full scan) and are merged into one write-protected KSM page whose
 * page->mapping points at a stable_node; the stable_node lists the rmap_items that map it, which is
 * what rmap_walk_ksm (in @rmaplab/rmap) walks.
 *
 * The trees are keyed by page content: `mem.content` is the model's identity of a page's bytes, so
 * memcmp_pages() is an equality test and a Map stands for each rb-tree (the rb order decides nothing
 * observable once content is an identity).
 *
 * ksmd's clock. The scenario's `ksm` drives ksmd as rmaplab-kcheck drives the real one: batches of
 * KSMD_PAGES_TO_SCAN pages (ksm_do_scan), each followed by a sleep of KSMD_SLEEP_MILLISECS
 * (ksm_scan_thread). The model's jiffies (`KsmState.clock`, in milliseconds) advance by that sleep
 * after every batch and by nothing else: scanning takes no time, and neither do the statements
 * between two `ksm`s. That clock decides when a stable-node chain is pruned (4.13+,
 * stable_node_chains_prune_millisecs). The kernel's clock runs at least as fast (jiffies round the
 * sleep up, and real time passes while pages are scanned and statements run), so a chain lookup
 * that the model makes under 2 s after the last pruning may be a pruning one in the kernel.
 *
 * Not modelled: NUMA (merge_across_nodes = 1, so no migrate_nodes list), use_zero_pages (0), the
 * advisor (6.8, off by default), and 6.7's smart scan: rmaplab-kcheck turns smart_scan off while
 * it runs ksmd (with it, an unchanged unique page leaves the unstable tree on the passes it is
 * skipped, so pages_unshared never settles and no fixed point can be told; kernel-facts §F7), and
 * without it 6.7 scans as 6.6 did, so the `ksm` statement is the same in every release. The stable
 * tree is a Map by content, not an rb-tree in memcmp order: the kernel also looks at (and prunes)
 * the chains on the way down to a page's place, and the model only at the one of the page's own
 * content, so a chain that lost a dup can collapse later in the model than in the kernel.
 */

import { folioTryShareAnonRmapPte, PageAnonExclusive } from './anon-exclusive.js';
import {
  PAGE_MAPPING_ANON,
  PAGE_MAPPING_FLAGS,
  PAGE_MAPPING_KSM,
  PAGE_SIZE,
  PG_dirty,
  PG_mlocked,
  PG_referenced,
  PG_swapcache,
  PG_uptodate,
  PTE_DIRTY,
  PTE_PRESENT,
  PTE_PROTNONE,
  PTE_SPECIAL,
  PTE_WRITE,
  PTE_YOUNG,
  PTRS_PER_PTE,
  VM_DONTEXPAND,
  VM_HUGETLB,
  VM_IO,
  VM_LOCKED,
  VM_MAYSHARE,
  VM_MERGEABLE,
  VM_MIXEDMAP,
  VM_PFNMAP,
  VM_SHARED,
} from './constants.js';
import type { ExternalRefs } from './debug.js';
import { handlePteFault, munlockVmaPage, setPte, tryToFreeSwap } from './memory.js';
import { findVma, vmaAt } from './mmap.js';
import { type PhysMem, pageMapped } from './page.js';
import { lockPage, trylockPage, unlockPage } from './page-lock.js';
import { type PteTable, pmdIndex, pteIndex } from './pgtable.js';
import {
  getAnonVma,
  linearPageIndex,
  mlockVmaPage,
  pageAddAnonRmap,
  pageRemoveRmap,
  putAnonVma,
  putPage,
} from './rmap.js';
import type { MmSystem } from './system.js';
import type { AnonVma, Mm, VmArea } from './types.js';

/** rmap_item->address low bits — mm/ksm.c: the unstable tree's scan number, and the two tree flags. */
export const SEQNR_MASK = 0x0ff;
export const UNSTABLE_FLAG = 0x100;
export const STABLE_FLAG = 0x200;
/** STABLE_NODE_CHAIN — mm/ksm.c (4.13+): rmap_hlist_len of a chain of dups. */
export const STABLE_NODE_CHAIN = -1024;

/** /sys/kernel/mm/ksm/pages_to_scan as rmaplab-kcheck sets it while it runs ksmd: one ksm_do_scan() batch. */
export const KSMD_PAGES_TO_SCAN = 10_000;
/** /sys/kernel/mm/ksm/sleep_millisecs as rmaplab-kcheck sets it: ksmd's sleep after each batch. */
export const KSMD_SLEEP_MILLISECS = 5;
/** ksm_stable_node_chains_prune_millisecs — mm/ksm.c (4.13+): its default. */
export const STABLE_NODE_CHAINS_PRUNE_MILLISECS = 2000;

/**
 * `struct rmap_item` — mm/ksm.c: one (mm, address) that ksmd has scanned. While stable it hangs off a
 * stable_node's hlist and holds a reference on the anon_vma of the VMA that merged it.
 */
export class KsmRmapItem {
  /** rmap_item->rmap_list: the next item of the mm_slot's list, in address order. */
  rmapList: KsmRmapItem | null = null;
  /** rmap_item->anon_vma (while stable): vma->anon_vma of the merging VMA, with get_anon_vma(). */
  anonVma: AnonVma | null = null;
  /** The low bits of rmap_item->address: SEQNR_MASK | UNSTABLE_FLAG | STABLE_FLAG. */
  flags = 0;
  /** rmap_item->oldchecksum: 0 until the first scan (kmem_cache_zalloc). */
  oldchecksum = 0;
  /** rmap_item->head (while stable): the stable_node whose hlist holds this item. */
  head: KsmStableNode | null = null;
  /** rmap_item->hlist: links in head->hlist (newest first). */
  hnext: KsmRmapItem | null = null;
  hprev: KsmRmapItem | null = null;
  constructor(
    readonly id: number,
    /** rmap_item->mm */
    readonly mm: Mm,
    /** rmap_item->address & PAGE_MASK */
    readonly address: number,
  ) {}
}

/**
 * `struct stable_node` (6.12 `struct ksm_stable_node`) — mm/ksm.c: one per KSM page, or (6.12) a
 * chain of dups that share one content when a page reached max_page_sharing.
 */
export class KsmStableNode {
  readonly kind = 'stable_node' as const;
  /** stable_node->hlist: the rmap_items mapping this KSM page, newest first (empty for a chain). */
  hlist: KsmRmapItem | null = null;
  /** stable_node->rmap_hlist_len (4.13+; STABLE_NODE_CHAIN for a chain). Kept under 4.9 as a count. */
  rmapHlistLen = 0;
  /** A chain's dups, newest (or most recently chosen) first: its hlist of hlist_dup (6.12). */
  dups: KsmStableNode[] | null = null;
  /** The chain this node is a dup of (is_stable_node_dup), or null. */
  chain: KsmStableNode | null = null;
  /** stable_node->chain_prune_time (4.13+, a chain's): ksmd's clock when it was made or last pruned. */
  chainPruneTime = 0;
  constructor(
    readonly id: number,
    /** stable_node->kpfn: the frame of the KSM page (meaningless for a chain). */
    public kpfn: number,
    /** The node's place in the stable tree: the content of its page (memcmp order). */
    readonly content: number,
  ) {}
  /** The rmap_items of the hlist, head first. */
  *items(): IterableIterator<KsmRmapItem> {
    for (let i = this.hlist; i; i = i.hnext) yield i;
  }
  get name(): string {
    return `SN${this.id}`;
  }
}

/** `struct mm_slot` — mm/ksm.c: an mm registered with ksmd (__ksm_enter), on the ksm_mm_head list. */
export class KsmMmSlot {
  /** mm_slot->rmap_list: this mm's rmap_items in address order. */
  rmapList: KsmRmapItem | null = null;
  /** mm_slot->mm_list links (null: ksm_mm_head). */
  prev: KsmMmSlot | null = null;
  next: KsmMmSlot | null = null;
  constructor(readonly mm: Mm) {}
}

/** The KSM counters of /sys/kernel/mm/ksm. */
export interface KsmCounters {
  pagesShared: number;
  pagesSharing: number;
  pagesUnshared: number;
  pagesVolatile: number;
  fullScans: number;
  /** stable_node_chains / stable_node_dups (6.12). */
  stableNodeChains: number;
  stableNodeDups: number;
  /** pages_scanned (6.12): pages ksmd has looked at. */
  pagesScanned: number;
}

/** The globals of mm/ksm.c: mm_slots, the scan cursor, both trees and the counters. */
export class KsmState {
  /** ksm_mm_head.mm_list: first and last registered slot. */
  first: KsmMmSlot | null = null;
  last: KsmMmSlot | null = null;
  /** mm_slots_hash */
  readonly slots = new Map<Mm, KsmMmSlot>();
  /** ksm_scan.mm_slot (null: &ksm_mm_head, between full scans). */
  scanSlot: KsmMmSlot | null = null;
  /** ksm_scan.address */
  scanAddress = 0;
  /** ksm_scan.rmap_list, as the item whose ->rmap_list it points at (null: the slot's list head). */
  scanPrev: KsmRmapItem | null = null;
  /** ksm_scan.seqnr: completed full scans. */
  seqnr = 0;
  /** jiffies, as ksmd's clock (see the file's header), in milliseconds. */
  clock = 0;
  /** ksm_stable_node_chains_prune_millisecs (4.13+). */
  stableNodeChainsPruneMillisecs = STABLE_NODE_CHAINS_PRUNE_MILLISECS;
  /** root_stable_tree: content → stable_node or chain. */
  readonly stableTree = new Map<number, KsmStableNode>();
  /** root_unstable_tree: content → rmap_item (rebuilt on each full scan). */
  readonly unstableTree = new Map<number, KsmRmapItem>();
  pagesShared = 0;
  pagesSharing = 0;
  pagesUnshared = 0;
  /** ksm_rmap_items */
  rmapItems = 0;
  stableNodeChains = 0;
  stableNodeDups = 0;
  pagesScanned = 0;
  /** The page that scan_get_next_rmap_item() returns beside the item (its *page out-parameter). */
  scanPage = -1;
  /**
   * Not kernel state: ksmd is at rest after a run to its fixed point (or never ran), and nothing
   * since gave a KSM page a PTE that no rmap_item may lead to (a VMA made mergeable, a swap-in of
   * a KSM page). Only ksmd drops rmap_items, so only while it runs can a PTE of a KSM page have
   * lost the item that led to it before ksmd gave its own mm one (the invariant checker's
   * allowance, checkKsmWalkReach).
   */
  settled = true;
  /** Not kernel state: how many times ksmd was run to a fixed point (the scenario's `ksm` statements). */
  fixedPointRuns = 0;
  /** The registered mms in scan order. */
  *mmSlots(): IterableIterator<KsmMmSlot> {
    for (let s = this.first; s; s = s.next) yield s;
  }
  /** The stable_nodes that stand for a KSM page (chains expanded into their dups). */
  *stableNodes(): IterableIterator<KsmStableNode> {
    for (const n of this.stableTree.values()) {
      if (n.dups) yield* n.dups;
      else yield n;
    }
  }
}

/** KSM state of `sys`, created on first use (the statics of mm/ksm.c). */
export function ksmState(sys: MmSystem): KsmState {
  if (sys === lastSys) return lastState;
  let s = states.get(sys);
  if (!s) {
    s = new KsmState();
    states.set(sys, s);
  }
  lastSys = sys;
  lastState = s;
  return s;
}
const states = new WeakMap<MmSystem, KsmState>();
/** ksmState()'s last answer: ksmd asks for it at every step. */
let lastSys: MmSystem | null = null;
let lastState = new KsmState();

/** The counters as /sys/kernel/mm/ksm shows them (pages_volatile clamped at 0, as the kernel does). */
export function ksmCounters(sys: MmSystem): KsmCounters {
  const k = ksmState(sys);
  return {
    pagesShared: k.pagesShared,
    pagesSharing: k.pagesSharing,
    pagesUnshared: k.pagesUnshared,
    pagesVolatile: Math.max(0, k.rmapItems - k.pagesShared - k.pagesSharing - k.pagesUnshared),
    fullScans: k.seqnr,
    stableNodeChains: k.stableNodeChains,
    stableNodeDups: k.stableNodeDups,
    pagesScanned: k.pagesScanned,
  };
}

/** page_stable_node() — include/linux/ksm.h: the stable_node of a KSM page (null while it is being made one). */
export function pageStableNode(mem: PhysMem, pfn: number): KsmStableNode | null {
  if ((mem.mappingTag[pfn] & PAGE_MAPPING_FLAGS) !== PAGE_MAPPING_KSM) return null;
  return mem.mapping[pfn] as KsmStableNode | null;
}

/**
 * ksm_might_need_to_copy() — mm/ksm.c (4.9 to 6.18): the page do_swap_page() found in the swap
 * cache, or a new copy of it to map instead. A KSM page swapped out left one swap entry in every
 * place it was merged at; the first swap-in makes the cached page an ordinary anonymous page at one
 * of those places, so a PTE of another place (another index, or another anon_vma root) gets a copy
 * of its own: dirty and up to date, not in the swap cache. Returns `pfn` when no copy is needed.
 */
export function ksmMightNeedToCopy(sys: MmSystem, pfn: number, vma: VmArea, addr: number): number {
  const mem = sys.mem;
  const tag = mem.mappingTag[pfn] & PAGE_MAPPING_FLAGS;
  if (tag === PAGE_MAPPING_KSM) {
    if (pageStableNode(mem, pfn)) {
      // The PTE comes back where ksmd may have dropped the rmap_item while the page was out (a
      // swap entry is no page to scan): rmap_walk_ksm reaches it once the next scan gives it one.
      ksmState(sys).settled = false;
      return pfn;
    }
  } else if (tag !== PAGE_MAPPING_ANON) return pfn;
  else if (
    mem.index[pfn] === linearPageIndex(vma, addr) &&
    (mem.mapping[pfn] as AnonVma).root === vma.anonVma?.root
  )
    return pfn;
  const copy = mem.allocPage(mem.content[pfn]);
  mem.flags[copy] |= (1 << PG_dirty) | (1 << PG_uptodate);
  if (sys.tracing)
    sys.trace('ksm_might_need_to_copy', `pfn ${pfn} is another family's: copied to pfn ${copy}`, {
      vma: vma.id,
      addr,
      pfn: copy,
    });
  return copy;
}

/** set_page_stable_node() — include/linux/ksm.h: mapping = node | PAGE_MAPPING_KSM (node may be null). */
function setPageStableNode(mem: PhysMem, pfn: number, node: KsmStableNode | null): void {
  mem.mapping[pfn] = node;
  mem.mappingTag[pfn] = PAGE_MAPPING_KSM;
}

/** calc_checksum() — mm/ksm.c: a digest of the page's bytes that is never the zalloc'ed 0. */
function calcChecksum(mem: PhysMem, pfn: number): number {
  return mem.content[pfn] + 1;
}

/**
 * An unstable item's place in the tree: the content it had when inserted, which its checksum (taken
 * on that scan, and not updated before the item leaves the tree) records.
 */
function unstableKey(item: KsmRmapItem): number {
  return item.oldchecksum - 1;
}

/**
 * follow_page(vma, addr, FOLL_GET) — mm/gup.c: the normal page a present PTE maps (a reference
 * taken), or -1 for none, a swap or migration entry, or the zero page (vm_normal_page() is NULL).
 */
function followPage(sys: MmSystem, mm: Mm, addr: number): number {
  const t = mm.pgd.lookup(pmdIndex(addr));
  if (!t) return -1;
  const i = pteIndex(addr);
  const bits = t.bits[i];
  if (!(bits & (PTE_PRESENT | PTE_PROTNONE)) || bits & PTE_SPECIAL) return -1;
  const pfn = t.pfn[i];
  sys.mem.refcount[pfn]++;
  return pfn;
}

/** ksm_test_exit() — mm/ksm.c: the mm is being torn down. */
function ksmTestExit(mm: Mm): boolean {
  return mm.dead;
}

/** find_mergeable_vma() — mm/ksm.c: the VM_MERGEABLE VMA with an anon_vma that covers `addr`. */
function findMergeableVma(mm: Mm, addr: number): VmArea | null {
  if (ksmTestExit(mm)) return null;
  const vma = vmaAt(mm, addr);
  if (!vma || !(vma.vmFlags & VM_MERGEABLE) || !vma.anonVma) return null;
  return vma;
}

/**
 * break_ksm() — mm/ksm.c: if `addr` maps a KSM page, raise a write fault on it so that do_wp_page()
 * gives this VMA a private copy (it does so even where the VMA is not writable). The caller holds
 * mmap_sem.
 */
function breakKsm(sys: MmSystem, vma: VmArea, addr: number): void {
  const page = followPage(sys, vma.vmMm, addr);
  if (page < 0) return;
  const ksm = (sys.mem.mappingTag[page] & PAGE_MAPPING_FLAGS) === PAGE_MAPPING_KSM;
  if (ksm) handlePteFault(sys, vma.vmMm, vma, addr, true);
  putPage(sys, page);
  if (ksm && sys.tracing)
    sys.trace('break_ksm', `${vma.name} 0x${addr.toString(16)}: KSM pfn ${page} copied`, {
      vma: vma.id,
      addr,
      pfn: page,
    });
}

/** break_cow() — mm/ksm.c: undo a merge just made, dropping the item's anon_vma reference. */
function breakCow(sys: MmSystem, item: KsmRmapItem): void {
  const mm = item.mm;
  if (item.anonVma) putAnonVma(sys, item.anonVma);
  item.anonVma = null;
  mm.mmapSem.downRead(sys.current);
  const vma = findMergeableVma(mm, item.address);
  if (vma) breakKsm(sys, vma, item.address);
  mm.mmapSem.upRead(sys.current);
}

/** get_mergeable_page() — mm/ksm.c: the anonymous page an unstable-tree item still maps (a reference taken), or -1. */
function getMergeablePage(sys: MmSystem, item: KsmRmapItem): number {
  const mm = item.mm;
  mm.mmapSem.downRead(sys.current);
  let page = -1;
  const vma = findMergeableVma(mm, item.address);
  if (vma) {
    page = followPage(sys, mm, item.address);
    if (page >= 0 && !(sys.mem.mappingTag[page] & PAGE_MAPPING_ANON)) {
      putPage(sys, page);
      page = -1;
    }
  }
  mm.mmapSem.upRead(sys.current);
  return page;
}

/**
 * get_ksm_page() (6.12 ksm_get_folio()) — mm/ksm.c: the node's KSM page with a reference (and the
 * page lock if asked), checked through the "keyhole" page->mapping == node|KSM since the node holds
 * no reference. A node whose page has gone is stale and is removed from the stable tree.
 */
function getKsmPage(sys: MmSystem, node: KsmStableNode, lockIt: boolean): number {
  const mem = sys.mem;
  const kpfn = node.kpfn;
  if (mem.mapping[kpfn] !== node || mem.mappingTag[kpfn] !== PAGE_MAPPING_KSM || mem.refcount[kpfn] <= 0) {
    removeNodeFromStableTree(sys, node);
    return -1;
  }
  mem.refcount[kpfn]++;
  if (lockIt) lockPage(sys, kpfn);
  return kpfn;
}

/** unlock_page() + put_page() of a page that getKsmPage() returned locked. */
function unlockPutPage(sys: MmSystem, pfn: number): void {
  unlockPage(sys, pfn);
  putPage(sys, pfn);
}

/** The rmap_items of a node are unhooked one by one: fix the counters as the kernel does. */
function countUnhooked(k: KsmState, stillShared: boolean): void {
  if (stillShared) k.pagesSharing--;
  else k.pagesShared--;
}

/**
 * remove_node_from_stable_tree() — mm/ksm.c: a stale node goes; its items stay on their mm_slot
 * lists, unhooked (flags cleared, anon_vma reference dropped).
 */
function removeNodeFromStableTree(sys: MmSystem, node: KsmStableNode): void {
  const k = ksmState(sys);
  for (let item = node.hlist; item; item = item.hnext) {
    countUnhooked(k, item.hnext !== null);
    node.rmapHlistLen--;
    if (item.anonVma) putAnonVma(sys, item.anonVma);
    item.anonVma = null;
    item.head = null;
    item.flags = 0;
  }
  node.hlist = null;
  if (node.chain) stableNodeDupDel(k, node);
  else if (k.stableTree.get(node.content) === node) k.stableTree.delete(node.content);
  if (sys.tracing) sys.trace('remove_node_from_stable_tree', `${node.name} (pfn ${node.kpfn}) is stale`);
}

/** __stable_node_dup_del() — mm/ksm.c (6.12): a dup leaves its chain (an emptied chain goes on the next lookup). */
function stableNodeDupDel(k: KsmState, dup: KsmStableNode): void {
  const chain = dup.chain!;
  chain.dups!.splice(chain.dups!.indexOf(dup), 1);
  dup.chain = null;
  k.stableNodeDups--;
}

/** hlist_del() of an item from its stable node. */
function hlistDel(item: KsmRmapItem): void {
  const node = item.head!;
  if (item.hprev) item.hprev.hnext = item.hnext;
  else node.hlist = item.hnext;
  if (item.hnext) item.hnext.hprev = item.hprev;
  item.hnext = item.hprev = null;
}

/**
 * remove_rmap_item_from_tree() — mm/ksm.c: take an item out of the stable tree (dropping its
 * anon_vma reference) or the unstable tree; either way it is left as a bare (mm, address).
 */
function removeRmapItemFromTree(sys: MmSystem, item: KsmRmapItem): void {
  const k = ksmState(sys);
  if (item.flags & STABLE_FLAG) {
    const node = item.head!;
    const page = getKsmPage(sys, node, true);
    if (page < 0) return; // the stale node took the item with it
    hlistDel(item);
    unlockPutPage(sys, page);
    countUnhooked(k, node.hlist !== null);
    node.rmapHlistLen--;
    putAnonVma(sys, item.anonVma!);
    item.anonVma = null;
    item.head = null;
    item.flags = 0;
  } else if (item.flags & UNSTABLE_FLAG) {
    // An item inserted by this scan is still in the tree; older ones went when the tree was reset.
    const age = (k.seqnr - item.flags) & 0xff;
    if (age > 1) throw new Error(`rmap_item ${item.id}: unstable item of age ${age}`);
    if (age === 0 && k.unstableTree.get(unstableKey(item)) === item) k.unstableTree.delete(unstableKey(item));
    k.pagesUnshared--;
    item.flags = 0;
  }
}

/** free_rmap_item() — mm/ksm.c */
function freeRmapItem(k: KsmState, _item: KsmRmapItem): void {
  k.rmapItems--;
}

/** remove_trailing_rmap_items() — mm/ksm.c: drop every item from the cursor position to the end of the list. */
function removeTrailingRmapItems(sys: MmSystem, slot: KsmMmSlot, prev: KsmRmapItem | null): void {
  const k = ksmState(sys);
  let item = prev ? prev.rmapList : slot.rmapList;
  if (prev) prev.rmapList = null;
  else slot.rmapList = null;
  while (item) {
    const next = item.rmapList;
    removeRmapItemFromTree(sys, item);
    freeRmapItem(k, item);
    item = next;
  }
}

/** mm_find_pmd() + pte_offset_map_lock(): the PTE table of `addr`, locked, or null when there is none. */
function pteMapLock(sys: MmSystem, mm: Mm, addr: number): PteTable | null {
  const t = mm.pgd.lookup(pmdIndex(addr));
  if (t) t.ptl.lock(sys.current);
  return t ?? null;
}

/**
 * page_address_in_vma() — mm/rmap.c, for the anonymous non-KSM pages KSM merges: where `vma` maps
 * the page, or -1 when the page is not of this VMA's anon_vma family or outside it.
 */
function pageAddressInVma(sys: MmSystem, pfn: number, vma: VmArea): number {
  const mem = sys.mem;
  if ((mem.mappingTag[pfn] & PAGE_MAPPING_FLAGS) !== PAGE_MAPPING_ANON) return -1;
  const av = mem.mapping[pfn] as AnonVma;
  if (!vma.anonVma || vma.anonVma.root !== av.root) return -1;
  const addr = vma.vmStart + (mem.index[pfn] - vma.vmPgoff) * PAGE_SIZE;
  return addr >= vma.vmStart && addr < vma.vmEnd ? addr : -1;
}

/**
 * write_protect_page() — mm/ksm.c: make the PTE that maps the page read-only and clean (a dirty
 * PTE dirties the page), unless someone other than the PTEs, the swap cache and our own reference
 * holds the page (O_DIRECT / GUP). From 5.19 an exclusive page goes the same way even with a clean
 * read-only PTE, and gives up PG_anon_exclusive (page_try_share_anon_rmap): a KSM page is never
 * exclusive. Returns the PTE bits as left (orig_pte), or -1.
 */
function writeProtectPage(sys: MmSystem, vma: VmArea, pfn: number): number {
  const mem = sys.mem;
  const addr = pageAddressInVma(sys, pfn, vma);
  const t = addr < 0 ? null : pteMapLock(sys, vma.vmMm, addr);
  if (!t) return -1;
  const i = pteIndex(addr);
  let bits = t.bits[i];
  let ok = (bits & (PTE_PRESENT | PTE_PROTNONE)) !== 0 && !(bits & PTE_SPECIAL) && t.pfn[i] === pfn;
  const exclusive = PageAnonExclusive(mem, pfn);
  if (ok && (bits & (PTE_WRITE | PTE_DIRTY) || exclusive)) {
    const swapped = mem.flags[pfn] & (1 << PG_swapcache) ? 1 : 0;
    if (mem.mapcount[pfn] + 1 + 1 + swapped !== mem.refcount[pfn]) ok = false;
    else {
      if (exclusive) folioTryShareAnonRmapPte(mem, pfn);
      if (bits & PTE_DIRTY) mem.flags[pfn] |= 1 << PG_dirty;
      bits &= ~(PTE_WRITE | PTE_DIRTY);
      setPte(t, i, pfn, bits);
    }
  }
  t.ptl.unlock(sys.current);
  return ok ? bits : -1;
}

/**
 * replace_page() — mm/ksm.c: point the PTE that maps `page` (still `origBits`) at `kpage` instead,
 * read-only as the VMA's vm_page_prot makes it; `page` loses the mapping and our caller's reference
 * is what keeps it until the scan lets go.
 */
function replacePage(sys: MmSystem, vma: VmArea, page: number, kpage: number, origBits: number): boolean {
  const addr = pageAddressInVma(sys, page, vma);
  const t = addr < 0 ? null : pteMapLock(sys, vma.vmMm, addr);
  if (!t) return false;
  const i = pteIndex(addr);
  if (t.pfn[i] !== page || t.bits[i] !== origBits) {
    t.ptl.unlock(sys.current);
    return false;
  }
  sys.mem.refcount[kpage]++;
  pageAddAnonRmap(sys, kpage, vma, addr);
  setPte(t, i, kpage, (origBits & (PTE_PRESENT | PTE_PROTNONE)) | PTE_YOUNG);
  pageRemoveRmap(sys, page);
  if (!pageMapped(sys.mem, page)) tryToFreeSwap(sys, page);
  putPage(sys, page);
  t.ptl.unlock(sys.current);
  if (sys.tracing)
    sys.trace('replace_page', `${vma.name} 0x${addr.toString(16)}: pfn ${page} → KSM pfn ${kpage}`, {
      vma: vma.id,
      addr,
      pfn: kpage,
    });
  return true;
}

/**
 * try_to_merge_one_page() — mm/ksm.c: under a trylocked page lock, write-protect `page` and either
 * upgrade it to a KSM page with no node yet (kpage < 0) or replace it by the identical `kpage`.
 * `page === kpage` is a KSM page that a forked mm inherited: nothing to do.
 */
function tryToMergeOnePage(sys: MmSystem, vma: VmArea, page: number, kpage: number): boolean {
  const mem = sys.mem;
  if (page === kpage) return true;
  if (!(mem.mappingTag[page] & PAGE_MAPPING_ANON)) return false;
  if (!trylockPage(sys, page)) return false;
  let locked = page;
  let ok = false;
  const orig = writeProtectPage(sys, vma, page);
  if (orig >= 0) {
    if (kpage < 0) {
      setPageStableNode(mem, page, null);
      mem.flags[page] |= (1 << PG_referenced) | (1 << PG_dirty);
      ok = true;
    } else if (mem.content[page] === mem.content[kpage]) ok = replacePage(sys, vma, page, kpage, orig);
  }
  if (vma.vmFlags & VM_LOCKED && kpage >= 0 && ok) {
    munlockVmaPage(sys, page);
    if (!(mem.flags[kpage] & (1 << PG_mlocked))) {
      unlockPage(sys, page);
      lockPage(sys, kpage);
      mlockVmaPage(sys, kpage);
      locked = kpage;
    }
  }
  unlockPage(sys, locked);
  return ok;
}

/**
 * try_to_merge_with_ksm_page() — mm/ksm.c: merge the item's page under its mm's mmap_sem; on
 * success the item leaves any tree and takes a reference on vma->anon_vma, ready to be appended.
 */
function tryToMergeWithKsmPage(sys: MmSystem, item: KsmRmapItem, page: number, kpage: number): boolean {
  const mm = item.mm;
  mm.mmapSem.downRead(sys.current);
  const vma = findMergeableVma(mm, item.address);
  const ok = vma !== null && tryToMergeOnePage(sys, vma, page, kpage);
  if (ok) {
    removeRmapItemFromTree(sys, item);
    item.anonVma = vma!.anonVma;
    getAnonVma(item.anonVma!);
  }
  mm.mmapSem.upRead(sys.current);
  return ok;
}

/**
 * try_to_merge_two_pages() — mm/ksm.c: the scanned page becomes the KSM page and replaces the
 * earlier-scanned identical tree page; if the second step fails, the lone KSM page is broken again.
 */
function tryToMergeTwoPages(
  sys: MmSystem,
  item: KsmRmapItem,
  page: number,
  treeItem: KsmRmapItem,
  treePage: number,
): boolean {
  if (!tryToMergeWithKsmPage(sys, item, page, -1)) return false;
  if (tryToMergeWithKsmPage(sys, treeItem, treePage, page)) return true;
  breakCow(sys, item);
  return false;
}

/** __is_page_sharing_candidate() — mm/ksm.c (6.12): the dup has mappers and room for `offset` + 1 more. */
function isPageSharingCandidate(sys: MmSystem, node: KsmStableNode, offset = 0): boolean {
  return node.rmapHlistLen > 0 && node.rmapHlistLen + offset < sys.options.ksmMaxSharing;
}

/** A stable-tree entry resolved to one KSM page: the dup to use and its page (a reference held). */
interface DupPage {
  dup: KsmStableNode;
  page: number;
}

/**
 * __stable_node_chain() / stable_node_dup() — mm/ksm.c (4.13+): for a plain node its page; for a
 * chain, one dup and its page. The walk over the dups drops every stale one it meets. A pruning
 * lookup (chain_prune(), from stable_tree_search) walks them all and takes the fullest dup that
 * can take another sharer (else the first live one), but only once every
 * stable_node_chains_prune_millisecs of ksmd's clock; any other lookup (chain(), from
 * stable_tree_insert, or a pruning one too soon after the last) stops at the first dup that can
 * take a sharer. A chain left with one dup collapses into it, one left with none is freed; a dup
 * found behind the head that can take one more sharer than the merge under way moves to the head.
 */
function stableNodeChain(sys: MmSystem, node: KsmStableNode, pruneRequested: boolean): DupPage | null {
  if (!node.dups) {
    const page = getKsmPage(sys, node, false);
    return page < 0 ? null : { dup: node, page };
  }
  const k = ksmState(sys);
  const prune = pruneRequested && k.clock >= node.chainPruneTime + k.stableNodeChainsPruneMillisecs;
  if (prune) node.chainPruneTime = k.clock;
  let found: DupPage | null = null;
  let foundLen = 0;
  for (const dup of [...node.dups]) {
    const page = getKsmPage(sys, dup, false);
    if (page < 0) continue;
    if (
      !found ||
      (isPageSharingCandidate(sys, dup) &&
        (!isPageSharingCandidate(sys, found.dup) || dup.rmapHlistLen > foundLen))
    ) {
      if (found) putPage(sys, found.page);
      found = { dup, page };
      foundLen = dup.rmapHlistLen;
      if (!prune && isPageSharingCandidate(sys, dup)) break;
    } else putPage(sys, page);
  }
  if (!found) {
    k.stableTree.delete(node.content);
    k.stableNodeChains--;
    return null;
  }
  const dups = node.dups;
  if (dups.length === 1) {
    k.stableTree.set(node.content, found.dup);
    found.dup.chain = null;
    k.stableNodeChains--;
    k.stableNodeDups--;
  } else if (dups[0] !== found.dup && isPageSharingCandidate(sys, found.dup, 1)) {
    dups.splice(dups.indexOf(found.dup), 1);
    dups.unshift(found.dup);
  }
  return found;
}

/**
 * stable_tree_search() — mm/ksm.c: a KSM page identical to `page` that can take another sharer
 * (a reference held), or -1. A KSM page finds itself ("ksm page forked").
 */
function stableTreeSearch(sys: MmSystem, page: number): number {
  const mem = sys.mem;
  if (pageStableNode(mem, page)) {
    mem.refcount[page]++;
    return page;
  }
  const k = ksmState(sys);
  for (;;) {
    const node = k.stableTree.get(mem.content[page]);
    if (!node) return -1;
    const found = stableNodeChain(sys, node, true);
    if (!found) continue; // a stale node went: search again
    putPage(sys, found.page);
    if (sys.rules['ksm-max-page-sharing'] && !isPageSharingCandidate(sys, found.dup)) return -1;
    const tree = getKsmPage(sys, found.dup, true);
    if (tree < 0) continue;
    unlockPage(sys, tree);
    return tree;
  }
}

/**
 * stable_tree_insert() — mm/ksm.c: a node for the new KSM page. 4.9 gives up if the content is
 * already there; 6.12 turns the entry into a chain (alloc_stable_node_chain) and adds a dup.
 */
function stableTreeInsert(sys: MmSystem, kpage: number): KsmStableNode | null {
  const k = ksmState(sys);
  const mem = sys.mem;
  const content = mem.content[kpage];
  let existing: KsmStableNode | undefined;
  for (;;) {
    existing = k.stableTree.get(content);
    if (!existing) break;
    const found = stableNodeChain(sys, existing, false);
    if (!found) continue;
    putPage(sys, found.page);
    existing = k.stableTree.get(content);
    break;
  }
  if (existing && !sys.rules['ksm-max-page-sharing']) return null;
  const node = new KsmStableNode(sys.nextId(), kpage, content);
  if (!existing) k.stableTree.set(content, node);
  else {
    let chain = existing;
    if (!chain.dups) {
      chain = new KsmStableNode(sys.nextId(), 0, content);
      chain.rmapHlistLen = STABLE_NODE_CHAIN;
      chain.chainPruneTime = k.clock;
      chain.dups = [existing];
      existing.chain = chain;
      k.stableTree.set(content, chain);
      k.stableNodeChains++;
      k.stableNodeDups++;
    }
    chain.dups!.unshift(node);
    node.chain = chain;
    k.stableNodeDups++;
  }
  setPageStableNode(mem, kpage, node);
  if (sys.tracing)
    sys.trace(
      'stable_tree_insert',
      `${node.name} for KSM pfn ${kpage}${node.chain ? ` (dup in chain)` : ''}`,
      {
        pfn: kpage,
      },
    );
  return node;
}

/**
 * unstable_tree_search_insert() — mm/ksm.c: an earlier-scanned item whose page is identical to
 * `page` (that page, referenced, in `out.treePage`), or null after inserting this item. A tree item whose page is gone, or is this very page (forked), ends the search.
 */
function unstableTreeSearchInsert(
  sys: MmSystem,
  item: KsmRmapItem,
  page: number,
  out: { treePage: number },
): KsmRmapItem | null {
  const k = ksmState(sys);
  const content = sys.mem.content[page];
  const treeItem = k.unstableTree.get(content);
  if (treeItem) {
    const treePage = getMergeablePage(sys, treeItem);
    if (treePage < 0) return null;
    if (treePage === page) {
      putPage(sys, treePage);
      return null;
    }
    if (sys.mem.content[treePage] === content) {
      out.treePage = treePage;
      return treeItem;
    }
    // The tree page changed since it was inserted: the slot is ours now.
    putPage(sys, treePage);
  }
  item.flags |= UNSTABLE_FLAG | (k.seqnr & SEQNR_MASK);
  k.unstableTree.set(unstableKey(item), item);
  k.pagesUnshared++;
  return null;
}

/** stable_tree_append() — mm/ksm.c: hlist_add_head; the first item is the shared page, each later one sharing. */
function stableTreeAppend(sys: MmSystem, item: KsmRmapItem, node: KsmStableNode): void {
  const k = ksmState(sys);
  node.rmapHlistLen++;
  item.head = node;
  item.flags |= STABLE_FLAG;
  item.hnext = node.hlist;
  item.hprev = null;
  if (node.hlist) node.hlist.hprev = item;
  node.hlist = item;
  if (item.hnext) k.pagesSharing++;
  else k.pagesShared++;
  if (sys.tracing)
    sys.trace(
      'stable_tree_append',
      `mm${item.mm.id} 0x${item.address.toString(16)} → ${node.name} (pfn ${node.kpfn}, ${node.rmapHlistLen} items)`,
      { mm: item.mm.id, addr: item.address, pfn: node.kpfn },
    );
}

/** The checksum gate of cmp_and_merge_page(): true when the page did not change since the last scan. */
function checksumStable(sys: MmSystem, item: KsmRmapItem, page: number): boolean {
  const checksum = calcChecksum(sys.mem, page);
  if (item.oldchecksum === checksum) return true;
  item.oldchecksum = checksum;
  return false;
}

/**
 * cmp_and_merge_page() — mm/ksm.c. 4.9: the stable tree first (a match merges on the first scan),
 * then the checksum gate before the unstable tree. 6.12: the checksum gate first for every page
 * that is not KSM yet (review §9).
 */
function cmpAndMergePage(sys: MmSystem, page: number, item: KsmRmapItem): void {
  const mem = sys.mem;
  const node = pageStableNode(mem, page);
  if (node) {
    if (item.head === node) return;
  } else if (sys.rules['ksm-checksum-first']) {
    removeRmapItemFromTree(sys, item);
    if (!checksumStable(sys, item, page)) return;
  }
  const kpage = stableTreeSearch(sys, page);
  removeRmapItemFromTree(sys, item);
  if (kpage >= 0) {
    if (tryToMergeWithKsmPage(sys, item, page, kpage)) {
      lockPage(sys, kpage);
      stableTreeAppend(sys, item, pageStableNode(mem, kpage)!);
      unlockPage(sys, kpage);
    }
    putPage(sys, kpage);
    return;
  }
  if (!sys.rules['ksm-checksum-first'] && !checksumStable(sys, item, page)) return;
  const out = { treePage: -1 };
  const treeItem = unstableTreeSearchInsert(sys, item, page, out);
  if (!treeItem) return;
  const merged = tryToMergeTwoPages(sys, item, page, treeItem, out.treePage);
  putPage(sys, out.treePage);
  if (!merged) return;
  lockPage(sys, page);
  const sn = stableTreeInsert(sys, page);
  if (sn) {
    stableTreeAppend(sys, treeItem, sn);
    stableTreeAppend(sys, item, sn);
  }
  unlockPage(sys, page);
  if (!sn) {
    breakCow(sys, treeItem);
    breakCow(sys, item);
  }
}

/**
 * get_next_rmap_item() — mm/ksm.c: the item for `addr` at the cursor, freeing the items of
 * addresses that are no longer scanned on the way; a new item is linked in when there is none.
 */
function getNextRmapItem(
  sys: MmSystem,
  slot: KsmMmSlot,
  prev: KsmRmapItem | null,
  addr: number,
): KsmRmapItem {
  const k = ksmState(sys);
  let item = prev ? prev.rmapList : slot.rmapList;
  while (item) {
    if (item.address === addr) return item;
    if (item.address > addr) break;
    const next = item.rmapList;
    if (prev) prev.rmapList = next;
    else slot.rmapList = next;
    removeRmapItemFromTree(sys, item);
    freeRmapItem(k, item);
    item = next;
  }
  const fresh = new KsmRmapItem(sys.nextId(), slot.mm, addr);
  fresh.rmapList = item;
  if (prev) prev.rmapList = fresh;
  else slot.rmapList = fresh;
  k.rmapItems++;
  return fresh;
}

/** Unlink a slot from ksm_mm_head and the hash (the mm is no longer MMF_VM_MERGEABLE). */
function freeMmSlot(k: KsmState, slot: KsmMmSlot): void {
  listDelSlot(k, slot);
  k.slots.delete(slot.mm);
}

/** list_del(&slot->mm_list): out of ksm_mm_head's list (the hash keeps it). */
function listDelSlot(k: KsmState, slot: KsmMmSlot): void {
  if (slot.prev) slot.prev.next = slot.next;
  else k.first = slot.next;
  if (slot.next) slot.next.prev = slot.prev;
  else k.last = slot.prev;
}

/**
 * The next anonymous page of a VM_MERGEABLE VMA with an anon_vma, from the cursor on, stepping over
 * unpopulated page tables; its address, with a reference on the page in `k.scanPage`, or -1.
 */
function nextScannablePage(sys: MmSystem, k: KsmState, vma: VmArea): number {
  const mm = vma.vmMm;
  const mem = sys.mem;
  while (k.scanAddress < vma.vmEnd) {
    const addr = k.scanAddress;
    const pmdNo = pmdIndex(addr);
    const t = mm.pgd.lookup(pmdNo);
    if (!t || t.used === 0) {
      k.scanAddress = Math.min(vma.vmEnd, (pmdNo + 1) * PTRS_PER_PTE * PAGE_SIZE);
      continue;
    }
    k.scanAddress += PAGE_SIZE;
    const page = followPage(sys, mm, addr);
    if (page < 0) continue;
    if (mem.mappingTag[page] & PAGE_MAPPING_ANON) {
      k.scanPage = page;
      return addr;
    }
    putPage(sys, page);
  }
  return -1;
}

/**
 * scan_get_next_rmap_item() — mm/ksm.c: advance the cursor to the next anonymous page of a
 * VM_MERGEABLE VMA (mm_slots in list order, VMAs and pages in address order) and return its item,
 * the page (referenced) in `k.scanPage`. At the end of an mm its trailing items go, and an mm with
 * no mergeable VMA left leaves the list; at the end of the list a full scan is complete (null).
 */
function scanGetNextRmapItem(sys: MmSystem): KsmRmapItem | null {
  const k = ksmState(sys);
  if (!k.first) return null;
  if (!k.scanSlot) {
    k.unstableTree.clear();
    k.scanSlot = k.first;
    k.scanAddress = 0;
    k.scanPrev = null;
  }
  let slot: KsmMmSlot = k.scanSlot;
  for (;;) {
    const mm = slot.mm;
    mm.mmapSem.downRead(sys.current);
    let vma = ksmTestExit(mm) ? null : findVma(mm, k.scanAddress);
    for (; vma; vma = vma.vmNext) {
      if (!(vma.vmFlags & VM_MERGEABLE)) continue;
      if (k.scanAddress < vma.vmStart) k.scanAddress = vma.vmStart;
      if (!vma.anonVma) k.scanAddress = vma.vmEnd;
      const addr = nextScannablePage(sys, k, vma);
      if (addr >= 0) {
        const item = getNextRmapItem(sys, slot, k.scanPrev, addr);
        k.scanPrev = item;
        mm.mmapSem.upRead(sys.current);
        return item;
      }
    }
    if (ksmTestExit(mm)) {
      k.scanAddress = 0;
      k.scanPrev = null;
    }
    removeTrailingRmapItems(sys, slot, k.scanPrev);
    const next: KsmMmSlot | null = slot.next;
    k.scanSlot = next;
    if (k.scanAddress === 0) {
      freeMmSlot(k, slot);
      if (sys.tracing)
        sys.trace('ksm_scan', `mm${mm.id} has no mergeable VMA left: mm_slot freed`, { mm: mm.id });
    }
    mm.mmapSem.upRead(sys.current);
    if (!next) break;
    slot = next;
    k.scanAddress = 0;
    k.scanPrev = null;
  }
  k.seqnr++;
  return null;
}

/**
 * ksm_do_scan() — mm/ksm.c: ksmd looks at up to `pages` pages (fewer when a full scan ends first).
 * Returns the number of pages it looked at. Runs as ksmd.
 */
export function ksmDoScan(sys: MmSystem, pages: number): number {
  const k = ksmState(sys);
  k.settled = false;
  return sys.as(sys.ksmd, () => {
    let n = 0;
    while (n < pages) {
      const item = scanGetNextRmapItem(sys);
      if (!item) break;
      const page = k.scanPage;
      n++;
      k.pagesScanned++;
      cmpAndMergePage(sys, page, item);
      putPage(sys, page);
    }
    return n;
  });
}

/**
 * One turn of ksm_scan_thread() — mm/ksm.c, as rmaplab-kcheck drives ksmd: a batch of
 * KSMD_PAGES_TO_SCAN pages, then KSMD_SLEEP_MILLISECS of sleep on ksmd's clock. Returns the pages
 * looked at.
 */
export function ksmScanThreadTurn(sys: MmSystem): number {
  const k = ksmState(sys);
  const pass = k.seqnr;
  let n = 0;
  // One ksm_do_scan() of KSMD_PAGES_TO_SCAN pages, made of shorter calls that stop where it
  // would (at the end of the pass): the same pages, and a third faster in the settled scans of
  // the KSM benchmark than a single 10,000-page call.
  while (n < KSMD_PAGES_TO_SCAN && k.seqnr === pass) {
    const got = ksmDoScan(sys, Math.min(SCAN_STEP, KSMD_PAGES_TO_SCAN - n));
    n += got;
    if (got < SCAN_STEP) break;
  }
  k.clock += KSMD_SLEEP_MILLISECS;
  return n;
}

/** The pages of one ksmDoScan() call within a turn of ksmd. */
const SCAN_STEP = 1024;

/** ksmd's turns until the full scan under way (or the next one) is complete. Returns the pages looked at. */
export function ksmScanOnce(sys: MmSystem): number {
  const k = ksmState(sys);
  const start = k.seqnr;
  let n = 0;
  while (k.first && k.seqnr === start) n += ksmScanThreadTurn(sys);
  return n;
}

/** Full scans after which ksmRunToFixedPoint() gives up: the kernel reaches its fixed point within 3 (kernel-facts §F7). */
const MAX_SCANS = 64;

/**
 * The full scans rmaplab-kcheck waits for before it looks at the counters, and how many more must
 * leave pages_shared, pages_sharing and pages_unshared unchanged (its do_ksm()).
 */
const FIRST_LOOK = 3;
const STABLE_LOOKS = 2;

/** Whether a live process has a VM_MERGEABLE VMA: ksmd has something to merge. */
function anyMergeable(sys: MmSystem): boolean {
  for (const mm of sys.mms) {
    if (mm.dead) continue;
    for (const vma of mm.vmas()) if (vma.vmFlags & VM_MERGEABLE) return true;
  }
  return false;
}

/**
 * The scenario's `ksm` statement: ksmd run the way rmaplab-kcheck runs it on the kernel (smart
 * scan off, the batches and sleeps of ksmScanThreadTurn), and stopped the way it stops it: after
 * FIRST_LOOK full scans, once STABLE_LOOKS more in a row have left the counters unchanged. When no
 * live process has a VM_MERGEABLE VMA there is nothing to merge, and ksmd runs only if it still
 * holds rmap_items (of exited mms, or of areas no longer mergeable): for the one full scan that
 * drops them all. Returns the number of full scans run.
 */
export function ksmRunToFixedPoint(sys: MmSystem): number {
  const k = ksmState(sys);
  k.fixedPointRuns++;
  if (!anyMergeable(sys)) {
    const scans = k.first && k.rmapItems > 0 ? 1 : 0;
    if (scans) ksmScanOnce(sys);
    k.settled = true;
    return scans;
  }
  const look = () => `${k.pagesShared}/${k.pagesSharing}/${k.pagesUnshared}`;
  let prev = '';
  let same = 0;
  let scans = 0;
  while (k.first) {
    if (scans === MAX_SCANS) throw new Error(`KSM found no fixed point in ${MAX_SCANS} full scans`);
    ksmScanOnce(sys);
    scans++;
    if (scans < FIRST_LOOK) continue;
    const now = look();
    same = scans > FIRST_LOOK && now === prev ? same + 1 : 0;
    prev = now;
    if (same === STABLE_LOOKS) break;
  }
  k.settled = true;
  return scans;
}

/**
 * __ksm_enter() — mm/ksm.c: register an mm with ksmd, just behind the scan cursor (at the end of the
 * current pass), so that a fresh mm settles before ksmd looks at it.
 */
export function ksmEnter(sys: MmSystem, mm: Mm): void {
  const k = ksmState(sys);
  if (k.slots.has(mm)) return;
  const slot = new KsmMmSlot(mm);
  k.slots.set(mm, slot);
  const before = k.scanSlot;
  slot.next = before;
  slot.prev = before ? before.prev : k.last;
  if (slot.prev) slot.prev.next = slot;
  else k.first = slot;
  if (before) before.prev = slot;
  else k.last = slot;
  if (sys.tracing) sys.trace('__ksm_enter', `mm${mm.id} registered with ksmd`, { mm: mm.id });
}

/** ksm_fork() — include/linux/ksm.h: a child of a registered mm is registered too (dup_mmap). */
export function ksmFork(sys: MmSystem, mm: Mm, oldmm: Mm): void {
  if (ksmState(sys).slots.has(oldmm)) ksmEnter(sys, mm);
}

/**
 * __ksm_exit() — mm/ksm.c (4.9 and 6.18 alike): an exiting mm's slot is freed at once only when it
 * has no rmap_items and is not under the scan cursor. Otherwise it stays, moved right after the
 * cursor's slot (to the front between scans) so that ksmd reaches it next, and its rmap_items stay
 * in the stable tree until then: the mm is gone, but their anon_vmas are not (each item holds a
 * reference), so rmap_walk_ksm still reaches the children the mm forked after the merge through
 * them. ksmd drops them when it finds the mm exiting (scan_get_next_rmap_item: ksm_test_exit,
 * remove_trailing_rmap_items). The mmap_sem write cycle waits out a break_cow() in progress.
 */
export function ksmExit(sys: MmSystem, mm: Mm): void {
  const k = ksmState(sys);
  const slot = k.slots.get(mm);
  if (!slot) return;
  // A slot under the cursor stays where it is: ksmd drops its items and frees it as it moves on.
  if (k.scanSlot !== slot && !slot.rmapList) freeMmSlot(k, slot);
  else {
    if (k.scanSlot !== slot) moveSlotAfterCursor(k, slot);
    mm.mmapSem.downWrite(sys.current);
    mm.mmapSem.upWrite(sys.current);
  }
  if (sys.tracing)
    sys.trace(
      '__ksm_exit',
      k.slots.has(mm)
        ? `mm${mm.id} exits: its mm_slot and rmap_items stay for ksmd to drop`
        : `mm${mm.id} leaves ksmd`,
      { mm: mm.id },
    );
}

/** list_move(&slot->mm_list, &ksm_scan.mm_slot->mm_list) — mm/ksm.c: `slot` goes right after the cursor's slot. */
function moveSlotAfterCursor(k: KsmState, slot: KsmMmSlot): void {
  const after = k.scanSlot;
  if (after === slot.prev) return;
  listDelSlot(k, slot);
  slot.prev = after;
  slot.next = after ? after.next : k.first;
  if (slot.prev) slot.prev.next = slot;
  else k.first = slot;
  if (slot.next) slot.next.prev = slot;
  else k.last = slot;
}

/** VMA kinds that MADV_MERGEABLE ignores — ksm_madvise() (4.9) / vma_ksm_compatible() (6.12). */
const KSM_REFUSED = VM_SHARED | VM_MAYSHARE | VM_PFNMAP | VM_IO | VM_DONTEXPAND | VM_HUGETLB | VM_MIXEDMAP;

/**
 * ksm_madvise() — mm/ksm.c: the vm_flags that [start, end) of `vma` gets. MADV_MERGEABLE sets
 * VM_MERGEABLE (refused VMA kinds keep their flags, as the kernel ignores the advice there) and
 * registers the mm with ksmd; MADV_UNMERGEABLE breaks every KSM page of the range at once
 * (unmerge_ksm_pages) and clears the flag, leaving the stale rmap_items to the next scan. The caller
 * holds mmap_sem for writing and applies the flags (madvise_behavior, or move_vma for mremap).
 */
export function ksmMadvise(
  sys: MmSystem,
  vma: VmArea,
  start: number,
  end: number,
  advice: 'mergeable' | 'unmergeable',
): number {
  const flags = vma.vmFlags;
  if (advice === 'mergeable') {
    if (flags & (VM_MERGEABLE | KSM_REFUSED)) return flags;
    ksmEnter(sys, vma.vmMm);
    // ksmd has not looked at this VMA yet: a KSM page it already maps (a child's, moved by mremap
    // away from the address of the parent's rmap_item) is reached only once a scan gives it an item.
    ksmState(sys).settled = false;
    return flags | VM_MERGEABLE;
  }
  if (!(flags & VM_MERGEABLE)) return flags;
  if (vma.anonVma) unmergeKsmPages(sys, vma, start, end);
  return flags & ~VM_MERGEABLE;
}

/** unmerge_ksm_pages() — mm/ksm.c: break_ksm() on every page of [start, end). */
export function unmergeKsmPages(sys: MmSystem, vma: VmArea, start: number, end: number): void {
  for (let addr = start; addr < end; addr += PAGE_SIZE) {
    if (ksmTestExit(vma.vmMm)) break;
    breakKsm(sys, vma, addr);
  }
}

/**
 * ksm_migrate_page() — mm/ksm.c: migration moved a KSM page to `newpfn` (whose mapping was copied
 * from the old page): the node follows it and the old frame's mapping is emptied.
 */
export function ksmMigratePage(sys: MmSystem, newpfn: number, oldpfn: number): void {
  const node = pageStableNode(sys.mem, newpfn);
  if (!node) return;
  if (node.kpfn !== oldpfn) throw new Error(`ksm_migrate_page: ${node.name}.kpfn ${node.kpfn} ≠ ${oldpfn}`);
  node.kpfn = newpfn;
  setPageStableNode(sys.mem, oldpfn, null);
}

/**
 * What KSM contributes to the invariant checker's accounting: the anon_vma references held by
 * rmap_items (stale ones and those of exited mms included: the kernel drops them only when ksmd
 * passes), no page references (the keyhole: a stable node holds none), and the KSM structures' own
 * consistency (counters, hlists, chains). Whether the walk reaches every PTE of a KSM page is
 * checkKsmWalkReach(), which checkInvariants() calls itself.
 */
export function ksmExternalRefs(sys: MmSystem): ExternalRefs {
  const k = ksmState(sys);
  checkKsm(k);
  const avRefs = new Map<AnonVma, number>();
  for (const slot of k.mmSlots())
    for (let item = slot.rmapList; item; item = item.rmapList)
      if (item.anonVma) avRefs.set(item.anonVma, (avRefs.get(item.anonVma) ?? 0) + 1);
  return {
    anonVma: (av) => avRefs.get(av) ?? 0,
    page: () => 0,
    foreignMapping: (pfn) =>
      pageStableNode(sys.mem, pfn) ? null : `pfn ${pfn} is a KSM page without a stable node`,
  };
}

/**
 * The invariant that rmap_walk_ksm reaches every PTE of a KSM page, by brute force over the page
 * tables. The walk visits, for each rmap_item of the page's stable node, the VMAs that have an AVC
 * in the item's anon_vma and cover its address — the item's own mm first, then the mms forked from
 * it (search_new_forks) — so a PTE is reached when an item at its address has its anon_vma in the
 * VMA's chain. A PTE that its own mm's item does not lead to is always wrong. Any other PTE must be
 * reached as well, with two exceptions that are the kernel's own blind spots: while ksmd runs (not
 * `settled`) it may have dropped the item a PTE was reached through — an exited mm's, or one whose
 * page changed — before giving the PTE's own mm an item, and a VMA made mergeable since ksmd last
 * rested has not been scanned yet, nor a KSM page swapped back in since (ksm_might_need_to_copy);
 * and a VMA that stopped being mergeable is not scanned, so a KSM page that comes back into it
 * (from the swap cache) is never reached again.
 */
export function checkKsmWalkReach(sys: MmSystem, fail: (invariant: string, detail: string) => never): void {
  const k = states.get(sys);
  if (!k || k.stableTree.size === 0) return;
  const mem = sys.mem;
  /** Per stable node: address → its rmap_items there (one per mm that merged or was given it). */
  const byNode = new Map<KsmStableNode, Map<number, KsmRmapItem[]>>();
  const itemsAt = (node: KsmStableNode, addr: number): KsmRmapItem[] => {
    let m = byNode.get(node);
    if (!m) {
      m = new Map();
      for (const item of node.items()) {
        const list = m.get(item.address);
        if (list) list.push(item);
        else m.set(item.address, [item]);
      }
      byNode.set(node, m);
    }
    return m.get(addr) ?? [];
  };
  for (const mm of sys.mms)
    for (const vma of mm.vmas()) {
      if (!vma.anonVma) continue; // no anonymous page, so no KSM page, without an anon_vma
      mm.pgd.forEachTable(vma.vmStart, vma.vmEnd, (t, first, last) => {
        for (let i = first; i < last; i++) {
          const bits = t.bits[i];
          if (!(bits & (PTE_PRESENT | PTE_PROTNONE)) || bits & PTE_SPECIAL) continue;
          const pfn = t.pfn[i];
          const node =
            (mem.mappingTag[pfn] & PAGE_MAPPING_FLAGS) === PAGE_MAPPING_KSM && pageStableNode(mem, pfn);
          if (!node) continue;
          const addr = (t.pmdNo * PTRS_PER_PTE + i) * PAGE_SIZE;
          const items = itemsAt(node, addr);
          if (items.some((item) => vma.anonVmaChain.some((c) => c.anonVma === item.anonVma))) continue;
          const where = `${vma.name} of mm${mm.id} maps KSM pfn ${pfn} at 0x${addr.toString(16)}`;
          if (items.some((item) => item.mm === mm))
            fail(
              'rmap_walk_ksm reaches every PTE',
              `${where} but its own rmap_item on ${node.name} does not lead there`,
            );
          if (k.settled && vma.vmFlags & VM_MERGEABLE)
            fail('rmap_walk_ksm reaches every PTE', `${where} but no rmap_item of ${node.name} leads there`);
        }
      });
    }
}

/** The KSM structures agree with themselves and with the pages (thrown as plain errors). */
function checkKsm(k: KsmState): void {
  let items = 0;
  let unshared = 0;
  for (const slot of k.mmSlots()) {
    if (k.slots.get(slot.mm) !== slot) throw new Error(`ksm: mm${slot.mm.id}'s slot is not hashed`);
    let last = -1;
    for (let item = slot.rmapList; item; item = item.rmapList) {
      items++;
      if (item.address <= last) throw new Error(`ksm: mm${slot.mm.id} rmap_list out of order`);
      last = item.address;
      if (item.flags & UNSTABLE_FLAG) unshared++;
      if (item.flags & STABLE_FLAG && (!item.head || !item.anonVma))
        throw new Error(`ksm: stable rmap_item ${item.id} without node or anon_vma`);
    }
  }
  if (k.slots.size !== [...k.mmSlots()].length) throw new Error('ksm: mm_slots hash and list differ');
  if (items !== k.rmapItems) throw new Error(`ksm: ${items} rmap_items, ksm_rmap_items ${k.rmapItems}`);
  if (unshared !== k.pagesUnshared)
    throw new Error(`ksm: ${unshared} unstable items, pages_unshared ${k.pagesUnshared}`);
  let shared = 0;
  let sharing = 0;
  let chains = 0;
  let dups = 0;
  for (const [content, entry] of k.stableTree) {
    if (entry.content !== content) throw new Error(`ksm: ${entry.name} filed under the wrong content`);
    if (entry.dups) {
      chains++;
      dups += entry.dups.length;
      for (const d of entry.dups) if (d.chain !== entry) throw new Error(`ksm: ${d.name} in the wrong chain`);
    }
  }
  for (const node of k.stableNodes()) {
    let n = 0;
    for (let item = node.hlist; item; item = item.hnext) {
      n++;
      if (item.head !== node || !(item.flags & STABLE_FLAG))
        throw new Error(`ksm: item ${item.id} in ${node.name}`);
      if (item.hnext && item.hnext.hprev !== item) throw new Error(`ksm: ${node.name} hlist links`);
    }
    if (n !== node.rmapHlistLen)
      throw new Error(`ksm: ${node.name} rmap_hlist_len ${node.rmapHlistLen} ≠ ${n}`);
    if (n > 0) {
      shared++;
      sharing += n - 1;
    }
  }
  if (shared !== k.pagesShared || sharing !== k.pagesSharing)
    throw new Error(
      `ksm: pages_shared ${k.pagesShared}/${shared}, pages_sharing ${k.pagesSharing}/${sharing}`,
    );
  if (chains !== k.stableNodeChains || dups !== k.stableNodeDups)
    throw new Error(`ksm: chains ${k.stableNodeChains}/${chains}, dups ${k.stableNodeDups}/${dups}`);
}
