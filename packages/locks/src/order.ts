/**
 * The documented rmap lock order, as data.
 *
 * Living documentation. The block comment at the top of mm/rmap.c describes how the memory-management
 * locks nest; indentation means "is taken while the line above it is held". Restated here (Linux 4.9,
 * identical in 4.12; 4.4 lacks the hugetlbfs line and calls the LRU lock zone->lru_lock):
 *
 *   inode->i_mutex                         only when writing or truncating
 *     mm->mmap_sem
 *       page->flags PG_locked              lock_page
 *         hugetlbfs_i_mmap_rwsem_key       huge_pmd_share
 *           mapping->i_mmap_rwsem
 *             anon_vma->rwsem
 *               mm->page_table_lock or pte_lock          (one level: either lock)
 *                 zone_lru_lock                          mark_page_accessed, isolate_lru_page
 *                 swap_lock                              swap_duplicate, swap_info_get
 *                   mmlist_lock                          mmput, drain_mmlist
 *                   mapping->private_lock                __set_page_dirty_buffers
 *                     memcg->move_lock                   mem_cgroup_{begin,end}_page_stat
 *                       mapping->tree_lock
 *                   inode->i_lock                        __mark_inode_dirty
 *                   bdi.wb->list_lock                    __mark_inode_dirty
 *                     sb_lock
 *                     mapping->tree_lock                 set_page_dirty, flush_dcache_mmap_lock
 *
 *   anon_vma->rwsem, mapping->i_mutex      memory_failure, collect_procs_anon
 *     tasklist_lock
 *       pte map lock
 *
 * Linux 6.12 renames and adds (see RMAP_LOCK_ORDER_6_12 below): i_mutex → i_rwsem, mmap_sem →
 * mmap_lock, mapping->invalidate_lock between mmap_lock and folio_lock, vma_start_write between the
 * hugetlbfs key and i_mmap_rwsem, tree_lock → i_pages lock with lruvec->lru_lock under it (the LRU
 * lock leaves the pte-lock level), the second chain names i_mmap_rwsem instead of i_mutex, and a
 * separate hugetlb chain hugetlb_fault_mutex → vma_lock → i_mmap_rwsem → folio_lock.
 *
 * The validator reads a chain as: a class documented on a line above another class, on the same
 * root-to-leaf path, is "outer" and must be acquired first. Classes on one line ("A or B", "A, B")
 * are at the same level and unordered. When two chains document a pair in opposite directions (6.12:
 * the hugetlb chain puts folio_lock inside i_mmap_rwsem) the pair is left to learned dependencies.
 * See `formatLockOrder(RMAP_LOCK_ORDER_4_9)` for the tree as the CLI prints it.
 */

/** One line of the documented order: one or more lock classes at the same nesting level. */
export interface LockOrderNode {
  /** lockdep classes at this level ("mm->page_table_lock or pte_lock" is one level with two classes). */
  readonly classes: readonly string[];
  /** How the line reads in the documentation; defaults to `classes.join(' or ')`. */
  readonly label?: string;
  /** Where the kernel takes it (call sites), printed in parentheses. */
  readonly note?: string;
  /** Locks nested inside this one. */
  readonly children?: readonly LockOrderNode[];
}

/** A documented lock order: a forest of nesting chains plus class-name aliases. */
export interface LockOrder {
  /** Short name, e.g. 'linux-4.9'. */
  readonly name: string;
  /** Where it is documented, e.g. 'Linux 4.9 mm/rmap.c'. */
  readonly source: string;
  /** Independent nesting chains; each root is outermost. */
  readonly chains: readonly LockOrderNode[];
  /**
   * Other names of the same class (old ↔ new kernel names), mapped to the class used in `chains`.
   * Lets code written with 4.9 class names run against the 6.12 order and vice versa.
   */
  readonly aliases?: Readonly<Record<string, string>>;
}

/** lockdep class names used by the rmap simulator. Values are the names in the documented order. */
export const LOCK_CLASS = {
  iMutex: 'inode->i_mutex',
  mmapSem: 'mm->mmap_sem',
  pageLock: 'page->flags PG_locked',
  hugetlbfsIMmapRwsem: 'hugetlbfs_i_mmap_rwsem_key',
  iMmapRwsem: 'mapping->i_mmap_rwsem',
  anonVmaRwsem: 'anon_vma->rwsem',
  pageTableLock: 'mm->page_table_lock',
  pteLock: 'pte_lock',
  lruLock: 'zone_lru_lock',
  swapLock: 'swap_lock',
  mmlistLock: 'mmlist_lock',
  privateLock: 'mapping->private_lock',
  memcgMoveLock: 'memcg->move_lock',
  treeLock: 'mapping->tree_lock',
  iLock: 'inode->i_lock',
  wbListLock: 'bdi.wb->list_lock',
  sbLock: 'sb_lock',
  tasklistLock: 'tasklist_lock',
  // 6.12 names
  iRwsem: 'inode->i_rwsem',
  mmapLock: 'mm->mmap_lock',
  invalidateLock: 'mapping->invalidate_lock',
  folioLock: 'folio_lock',
  vmaLock: 'vma->vm_lock',
  iPagesLock: 'mapping->i_pages',
  lruvecLock: 'lruvec->lru_lock',
  hugetlbFaultMutex: 'hugetlb_fault_mutex',
  hugetlbVmaLock: 'hugetlb_vma_lock',
} as const;

const C = LOCK_CLASS;

function n(
  classes: string | readonly string[],
  note?: string,
  children?: readonly LockOrderNode[],
  label?: string,
): LockOrderNode {
  const node: { -readonly [K in keyof LockOrderNode]: LockOrderNode[K] } = {
    classes: typeof classes === 'string' ? [classes] : classes,
  };
  if (label !== undefined) node.label = label;
  if (note !== undefined) node.note = note;
  if (children !== undefined && children.length > 0) node.children = children;
  return node;
}

/** The nested order documented at the top of Linux 4.9 mm/rmap.c (review §10 of the reference). */
export const RMAP_LOCK_ORDER_4_9: LockOrder = {
  name: 'linux-4.9',
  source: 'Linux 4.9 mm/rmap.c',
  chains: [
    n(C.iMutex, 'writing/truncating only', [
      n(C.mmapSem, undefined, [
        n(C.pageLock, 'lock_page', [
          n(C.hugetlbfsIMmapRwsem, 'huge_pmd_share', [
            n(C.iMmapRwsem, undefined, [
              n(C.anonVmaRwsem, undefined, [
                n([C.pageTableLock, C.pteLock], undefined, [
                  n(C.lruLock, 'mark_page_accessed, isolate_lru_page'),
                  n(C.swapLock, 'swap_duplicate, swap_info_get', [
                    n(C.mmlistLock, 'mmput, drain_mmlist, ...'),
                    n(C.privateLock, '__set_page_dirty_buffers', [
                      n(C.memcgMoveLock, 'mem_cgroup_{begin,end}_page_stat', [n(C.treeLock)]),
                    ]),
                    n(C.iLock, '__mark_inode_dirty'),
                    n(C.wbListLock, '__mark_inode_dirty', [
                      n(C.sbLock),
                      n(C.treeLock, 'set_page_dirty, flush_dcache_mmap_lock, __sync_single_inode'),
                    ]),
                  ]),
                ]),
              ]),
            ]),
          ]),
        ]),
      ]),
    ]),
    n(
      [C.anonVmaRwsem, C.iMutex],
      'memory_failure, collect_procs_anon',
      [n(C.tasklistLock, undefined, [n(C.pteLock, undefined, undefined, 'pte map lock')])],
      'anon_vma->rwsem, mapping->i_mutex',
    ),
  ],
  aliases: {
    'mapping->i_mutex': C.iMutex,
    [C.iRwsem]: C.iMutex,
    [C.mmapLock]: C.mmapSem,
    [C.folioLock]: C.pageLock,
    [C.iPagesLock]: C.treeLock,
    [C.lruvecLock]: C.lruLock,
  },
};

/** The order documented at the top of Linux 6.12 mm/rmap.c (reference §3.1 and review §10). */
export const RMAP_LOCK_ORDER_6_12: LockOrder = {
  name: 'linux-6.12',
  source: 'Linux 6.12 mm/rmap.c',
  chains: [
    n(C.iRwsem, 'writing/truncating only', [
      n(C.mmapLock, undefined, [
        n(C.invalidateLock, 'filemap_fault', [
          n(C.folioLock, undefined, [
            n(C.hugetlbfsIMmapRwsem, 'huge_pmd_share', [
              n(
                C.vmaLock,
                undefined,
                [
                  n(C.iMmapRwsem, undefined, [
                    n(C.anonVmaRwsem, undefined, [
                      n([C.pageTableLock, C.pteLock], undefined, [
                        n(C.swapLock, 'swap_duplicate, swap_info_get', [
                          n(C.mmlistLock, 'mmput, drain_mmlist, ...'),
                          n(C.privateLock, 'block_dirty_folio', [
                            n(
                              C.memcgMoveLock,
                              'block_dirty_folio',
                              [
                                n(
                                  C.iPagesLock,
                                  undefined,
                                  [n(C.lruvecLock, 'folio_lruvec_lock_irq')],
                                  'i_pages lock',
                                ),
                              ],
                              'folio_lock_memcg move_lock',
                            ),
                          ]),
                          n(C.iLock, '__mark_inode_dirty'),
                          n(C.wbListLock, '__mark_inode_dirty', [
                            n(C.sbLock),
                            n(
                              C.iPagesLock,
                              'set_page_dirty, flush_dcache_mmap_lock, __sync_single_inode',
                              undefined,
                              'i_pages lock',
                            ),
                          ]),
                        ]),
                      ]),
                    ]),
                  ]),
                ],
                'vma_start_write',
              ),
            ]),
          ]),
        ]),
      ]),
    ]),
    n(
      [C.anonVmaRwsem, C.iMmapRwsem],
      'memory_failure, collect_procs_anon',
      [n(C.tasklistLock, undefined, [n(C.pteLock, undefined, undefined, 'pte map lock')])],
      'anon_vma->rwsem, mapping->i_mmap_rwsem',
    ),
    n(C.hugetlbFaultMutex, 'hugetlb page faults', [
      n(C.hugetlbVmaLock, 'hugetlb pmd sharing', [n(C.iMmapRwsem, undefined, [n(C.folioLock)])], 'vma_lock'),
    ]),
  ],
  aliases: {
    [C.iMutex]: C.iRwsem,
    'mapping->i_mutex': C.iRwsem,
    [C.mmapSem]: C.mmapLock,
    [C.pageLock]: C.folioLock,
    [C.treeLock]: C.iPagesLock,
    [C.lruLock]: C.lruvecLock,
  },
};

function nodeLabel(node: LockOrderNode): string {
  return node.label ?? node.classes.join(' or ');
}

/** Prints the order as the indented tree of the documentation (two spaces per level). */
export function formatLockOrder(order: LockOrder): string {
  const lines: string[] = [`# ${order.source} (${order.name}): an indented line nests inside the line above`];
  const walk = (node: LockOrderNode, depth: number): void => {
    const label = nodeLabel(node);
    lines.push(`${'  '.repeat(depth)}${label}${node.note ? ` (${node.note})` : ''}`);
    for (const child of node.children ?? []) walk(child, depth + 1);
  };
  order.chains.forEach((root, i) => {
    if (i > 0) lines.push('');
    walk(root, 0);
  });
  const aliases = Object.entries(order.aliases ?? {});
  if (aliases.length > 0) {
    lines.push('');
    lines.push('# aliases');
    for (const [from, to] of aliases) lines.push(`${from} = ${to}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Precomputed documented relation of one order. */
export interface LockOrderIndex {
  readonly order: LockOrder;
  /** Every class named in the order. */
  readonly classes: ReadonlySet<string>;
  /** outer → inner → documented path (line labels from outer to inner); conflicting pairs removed. */
  readonly outer: ReadonlyMap<string, ReadonlyMap<string, readonly string[]>>;
  /** Pairs documented in both directions by different chains (`a|b`, sorted), left undecided. */
  readonly conflicts: ReadonlySet<string>;
  /** Maps a class name (or one of its aliases) to the class used in the order. */
  canonical(lockClass: string): string;
}

const indexCache = new WeakMap<LockOrder, LockOrderIndex>();

/** Builds (once per order object) the documented outer→inner relation. */
export function indexLockOrder(order: LockOrder): LockOrderIndex {
  const cached = indexCache.get(order);
  if (cached) return cached;
  const outer = new Map<string, Map<string, readonly string[]>>();
  const classes = new Set<string>();
  const stack: LockOrderNode[] = [];
  const walk = (node: LockOrderNode): void => {
    for (const c of node.classes) classes.add(c);
    for (let a = 0; a < stack.length; a++) {
      const anc = stack[a];
      for (const o of anc.classes) {
        for (const i of node.classes) {
          if (o === i) continue;
          let m = outer.get(o);
          if (!m) outer.set(o, (m = new Map()));
          if (!m.has(i)) m.set(i, [...stack.slice(a), node].map(nodeLabel));
        }
      }
    }
    stack.push(node);
    for (const child of node.children ?? []) walk(child);
    stack.pop();
  };
  for (const root of order.chains) walk(root);
  const conflicts = new Set<string>();
  for (const [o, inner] of outer) {
    for (const i of inner.keys()) {
      if (outer.get(i)?.has(o)) conflicts.add(o < i ? `${o}|${i}` : `${i}|${o}`);
    }
  }
  for (const key of conflicts) {
    const [a, b] = key.split('|');
    outer.get(a)?.delete(b);
    outer.get(b)?.delete(a);
  }
  const aliases = order.aliases ?? {};
  const index: LockOrderIndex = {
    order,
    classes,
    outer,
    conflicts,
    canonical: (lockClass) => (Object.hasOwn(aliases, lockClass) ? aliases[lockClass] : lockClass),
  };
  indexCache.set(order, index);
  return index;
}

/**
 * The documented path if `outer` must be taken before `inner` in `order` (aliases resolved), else null.
 * Unordered pairs (same level, different branches, undocumented, conflicting) give null.
 */
export function documentedPath(order: LockOrder, outer: string, inner: string): readonly string[] | null {
  const idx = indexLockOrder(order);
  return idx.outer.get(idx.canonical(outer))?.get(idx.canonical(inner)) ?? null;
}
