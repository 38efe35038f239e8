/**
 * The kernel code beside the walk view: short paraphrased listings (written for this lab, never the
 * kernel's text) of the functions a walk runs through, one line per step a reader follows. Each
 * listing is keyed by its function's name and the releases it describes, so a release that changed
 * a function can get its own listing; each line names the trace events it produces. `codeStack`
 * maps an event to the call stack that produced it: the statement's caller (shrink_page_list), the
 * walk's client (try_to_unmap), the walker (rmap_walk_anon) and the rmap_one (try_to_unmap_one),
 * innermost last, with the line of each. Events carry the names of the statement's release, and
 * so do the listings: a release gets the listing of its own function (folio_referenced_one, ...).
 */
import { compareReleases, parseRelease, type TraceEvent } from '@rmaplab/mm';
import { SWAP_FAIL, SWAP_MLOCK } from '@rmaplab/rmap';
import { nameIn, ruleInForce } from './names';
import { FOREACH, isRmapOne, type Pass, PROBES, passAt, WALKERS } from './walk';

export interface CodeLine {
  /** Stable key that events and callers map to; '' for lines nothing maps to. */
  id: string;
  text: string;
  /** The trace events (by function name) this line produces. */
  emits?: readonly string[];
}

export interface Listing {
  /** The kernel function, as trace events and rmap_walk_control name it. */
  fn: string;
  file: string;
  /** First release the listing describes. */
  since: string;
  /** First release it no longer describes (absent: every later one). */
  until?: string;
  lines: CodeLine[];
}

const L = (id: string, text: string, ...emits: string[]): CodeLine => ({
  id,
  text,
  ...(emits.length ? { emits } : {}),
});

const PTE_LOCK = ['spin_lock'];
const PTE_UNLOCK = ['spin_unlock'];

export const LISTINGS: readonly Listing[] = [
  // ---- the statements' callers -------------------------------------------------------------
  {
    fn: 'shrink_page_list',
    file: 'mm/vmscan.c',
    since: '4.9',
    until: '4.12',
    lines: [
      L('', 'shrink_page_list(page_list, ...):  /* for each page kswapd took off the LRU */'),
      L('lock', '  if (!trylock_page(page)) keep it for later', 'trylock_page', 'lock_page'),
      L('referenced', '  references = page_check_references(page)  /* page_referenced(): the first walk */'),
      L('activate', '  if (references == PAGEREF_ACTIVATE) goto activate_locked'),
      L('swap', '  if (PageAnon(page) && !PageSwapCache(page)) add_to_swap(page)', 'add_to_swap'),
      L('unmap', '  if (page_mapped(page)) switch (try_to_unmap(page, ttu_flags))  /* the second walk */'),
      L('pageout', '  if (PageDirty(page)) pageout(page)  /* write it to swap or its file */'),
      L('unlock', '  unlock_page(page)', 'unlock_page'),
      L(
        'result',
        '  free_it: the page is freed  |  activate_locked: back to the active list',
        'shrink_page_list',
      ),
    ],
  },
  {
    fn: 'shrink_page_list',
    file: 'mm/vmscan.c',
    since: '4.12',
    lines: [
      L('', 'shrink_page_list(page_list, ...):  /* for each page kswapd took off the LRU */'),
      L('lock', '  if (!trylock_page(page)) keep it for later', 'trylock_page', 'folio_trylock', 'lock_page'),
      L('referenced', '  references = page_check_references(page)  /* page_referenced(): the first walk */'),
      L('activate', '  if (references == PAGEREF_ACTIVATE) goto activate_locked'),
      L('swap', '  if (PageAnon(page) && !PageSwapCache(page)) add_to_swap(page)', 'add_to_swap'),
      L(
        'unmap',
        '  if (page_mapped(page) && !try_to_unmap(page, flags)) goto activate_locked  /* 5.14: void, then page_mapped() */',
      ),
      L('pageout', '  if (PageDirty(page)) pageout(page)  /* write it to swap or its file */'),
      L('unlock', '  unlock_page(page)', 'unlock_page', 'folio_unlock'),
      L(
        'result',
        '  free_it: the page is freed  |  activate_locked: back to the active list',
        'shrink_page_list',
      ),
    ],
  },
  {
    fn: 'shrink_folio_list',
    file: 'mm/vmscan.c',
    since: '6.1',
    lines: [
      L('', 'shrink_folio_list(folio_list, ...):  /* for each folio isolated from the LRU */'),
      L('lock', '  if (!folio_trylock(folio)) keep it for later', 'folio_trylock'),
      L(
        'referenced',
        '  references = folio_check_references(folio)  /* folio_referenced(): the first walk */',
      ),
      L('activate', '  FOLIOREF_ACTIVATE: goto activate_locked;  FOLIOREF_KEEP: goto keep_locked'),
      L(
        'swap',
        '  if (anon && !in the swap cache) give it a swap slot  /* add_to_swap; 6.17: folio_alloc_swap + folio_mark_dirty */',
        'add_to_swap',
        'folio_alloc_swap',
      ),
      L(
        'unmap',
        '  try_to_unmap(folio, flags); if (folio_mapped(folio)) goto activate_locked  /* the second walk */',
      ),
      L('pageout', '  if (folio_test_dirty(folio)) pageout(folio)  /* only kswapd writes file folios */'),
      L('unlock', '  folio_unlock(folio)', 'folio_unlock'),
      L(
        'result',
        '  free_it: the folio is freed  |  activate_locked: back to the active list (not if mlocked)',
        'shrink_folio_list',
      ),
    ],
  },
  {
    fn: 'migrate_pages',
    file: 'mm/migrate.c (__unmap_and_move)',
    since: '4.9',
    until: '5.14',
    lines: [
      L('', '__unmap_and_move(page, newpage, ...):'),
      L('lock', '  lock_page(page); lock_page(newpage)', 'trylock_page', 'folio_trylock', 'lock_page'),
      L(
        'unmap',
        '  try_to_unmap(page, TTU_MIGRATION|TTU_IGNORE_MLOCK|...)  /* PTEs become migration entries */',
      ),
      L('copy', '  if (!page_mapped(page)) move_to_new_page(newpage, page)  /* mapping and data move */'),
      L('remove', '  remove_migration_ptes(page, newpage)  /* entries become PTEs of newpage */'),
      L('unlock', '  unlock_page(newpage); unlock_page(page)', 'unlock_page', 'folio_unlock'),
      L('result', '  return MIGRATEPAGE_SUCCESS', 'migrate_pages'),
    ],
  },
  {
    fn: 'migrate_pages',
    file: 'mm/migrate.c (migrate_folio_unmap / migrate_folio_move)',
    since: '5.14',
    lines: [
      L('', 'migrate_folio_unmap(src, dst, ...), then migrate_folio_move(...):  /* 6.3 split it in two */'),
      L(
        'lock',
        '  folio_trylock(src), else folio_lock(src); and the new folio',
        'folio_trylock',
        'trylock_page',
      ),
      L('unmap', '  if (folio_mapped(src)) try_to_migrate(src, 0)  /* PTEs become migration entries */'),
      L('copy', '  if (!folio_mapped(src)) move_to_new_folio(dst, src)  /* mapping and data move */'),
      L('remove', '  remove_migration_ptes(src, dst, 0)  /* entries become PTEs of dst */'),
      L('unlock', '  folio_unlock(dst); folio_unlock(src)', 'folio_unlock', 'unlock_page'),
      L('result', '  return MIGRATEPAGE_SUCCESS  /* 6.18: 0 */', 'migrate_pages'),
    ],
  },
  // ---- the walks' clients -------------------------------------------------------------------
  {
    fn: 'try_to_unmap',
    file: 'mm/rmap.c',
    since: '4.9',
    until: '4.12',
    lines: [
      L('', 'try_to_unmap(page, flags):  /* the caller holds the page lock */'),
      L('', '  rwc = { .rmap_one = try_to_unmap_one, .arg = flags,'),
      L('', '          .done = page_mapcount_is_zero, .anon_lock = page_lock_anon_vma_read }'),
      L(
        'invalid',
        '  if (flags & TTU_MIGRATION) and the page is anon: rwc.invalid_vma = invalid_migration_vma',
      ),
      L('walk', '  ret = (flags & TTU_RMAP_LOCKED) ? rmap_walk_locked(page, &rwc) : rmap_walk(page, &rwc)'),
      L('result', '  if (ret != SWAP_MLOCK && !page_mapcount(page)) ret = SWAP_SUCCESS'),
      L('return', '  return ret'),
    ],
  },
  {
    fn: 'try_to_unmap',
    file: 'mm/rmap.c',
    since: '4.12',
    until: '5.14',
    lines: [
      L('', 'bool try_to_unmap(page, flags):  /* the caller holds the page lock */'),
      L('', '  rwc = { .rmap_one = try_to_unmap_one, .arg = flags,'),
      L(
        '',
        '          .done = page_mapcount_is_zero /* 5.12: page_not_mapped */, .anon_lock = page_lock_anon_vma_read }',
      ),
      L(
        'invalid',
        '  if (flags & (TTU_MIGRATION|TTU_SPLIT_FREEZE)) and the page is anon: rwc.invalid_vma = invalid_migration_vma',
      ),
      L('walk', '  (flags & TTU_RMAP_LOCKED) ? rmap_walk_locked(page, &rwc) : rmap_walk(page, &rwc)'),
      L('return', '  return !page_mapcount(page)  /* true: nothing maps it any more */'),
    ],
  },
  {
    fn: 'try_to_unmap',
    file: 'mm/rmap.c',
    since: '5.14',
    lines: [
      L('', 'void try_to_unmap(folio, flags):  /* a page until 5.18; the caller holds its lock */'),
      L('', '  rwc = { .rmap_one = try_to_unmap_one, .arg = flags,'),
      L('', '          .done = folio_not_mapped /* 6.2; page_not_mapped before */,'),
      L('', '          .anon_lock = folio_lock_anon_vma_read /* 5.18; page_lock_anon_vma_read before */ }'),
      L('walk', '  (flags & TTU_RMAP_LOCKED) ? rmap_walk_locked(folio, &rwc) : rmap_walk(folio, &rwc)'),
      L('return', '  /* returns nothing: the caller tests folio_mapped() */'),
    ],
  },
  {
    fn: 'try_to_munlock',
    file: 'mm/rmap.c',
    since: '4.9',
    until: '5.14',
    lines: [
      L('', 'try_to_munlock(page):  /* is any other VMA still VM_LOCKED? */'),
      L(
        '',
        '  rwc = { .rmap_one = try_to_unmap_one, .arg = TTU_MUNLOCK, .anon_lock = page_lock_anon_vma_read }',
      ),
      L('walk', '  rmap_walk(page, &rwc)  /* try_to_unmap_one mlocks the page again at a VM_LOCKED VMA */'),
      L('return', '  /* 4.9 returns SWAP_MLOCK for that; 4.12 returns nothing */'),
    ],
  },
  {
    fn: 'page_mlock',
    file: 'mm/rmap.c',
    since: '5.14',
    until: '5.18',
    lines: [
      L('', 'void page_mlock(page):  /* is any other VMA still VM_LOCKED? */'),
      L(
        '',
        '  rwc = { .rmap_one = page_mlock_one, .done = page_not_mapped, .anon_lock = page_lock_anon_vma_read }',
      ),
      L('walk', '  rmap_walk(page, &rwc)  /* page_mlock_one mlocks the page again at a VM_LOCKED VMA */'),
    ],
  },
  {
    fn: 'try_to_migrate',
    file: 'mm/rmap.c',
    since: '5.14',
    lines: [
      L('', 'void try_to_migrate(folio, flags):  /* a page until 5.18; the caller holds its lock */'),
      L('', '  rwc = { .rmap_one = try_to_migrate_one, .done = folio_not_mapped /* 6.2 */,'),
      L('', '          .anon_lock = folio_lock_anon_vma_read /* 5.18; page_lock_anon_vma_read before */ }'),
      L(
        'invalid',
        '  if (!folio_test_ksm(folio) && folio_test_anon(folio)) rwc.invalid_vma = invalid_migration_vma',
      ),
      L('walk', '  (flags & TTU_RMAP_LOCKED) ? rmap_walk_locked(folio, &rwc) : rmap_walk(folio, &rwc)'),
    ],
  },
  {
    fn: 'page_referenced',
    file: 'mm/rmap.c',
    since: '4.9',
    lines: [
      L('', 'page_referenced(page, is_locked, memcg, &vm_flags):'),
      L('', '  pra = { .mapcount = total_mapcount(page) }'),
      L('', '  rwc = { .rmap_one = page_referenced_one, .arg = &pra, .anon_lock = page_lock_anon_vma_read }'),
      L('mapped', '  if (!page_mapped(page)) return 0'),
      L('walk', '  rmap_walk(page, &rwc)  /* the caller holds the page lock */'),
      L('return', '  return pra.referenced  /* how many young PTEs were found (and aged) */'),
    ],
  },
  {
    fn: 'folio_referenced',
    file: 'mm/rmap.c',
    since: '5.18',
    lines: [
      L('', 'folio_referenced(folio, is_locked, memcg, &vm_flags):'),
      L('', '  pra = { .mapcount = folio_mapcount(folio) }'),
      L(
        '',
        '  rwc = { .rmap_one = folio_referenced_one, .anon_lock = folio_lock_anon_vma_read, .try_lock = true,',
      ),
      L('', '          .invalid_vma = invalid_folio_referenced_vma  /* 6.3: no recency, no look */ }'),
      L('mapped', '  if (!pra.mapcount) return 0'),
      L('walk', '  rmap_walk(folio, &rwc)'),
      L('return', '  return rwc.contended ? -1 : pra.referenced  /* -1 from 5.19: a lock was busy */'),
    ],
  },
  {
    fn: 'page_mkclean',
    file: 'mm/rmap.c',
    since: '4.9',
    lines: [
      L('', 'page_mkclean(page):  /* writeback: catch the next write to every shared mapping */'),
      L('', '  rwc = { .rmap_one = page_mkclean_one, .arg = &cleaned, .invalid_vma = invalid_mkclean_vma }'),
      L('mapping', '  if (!page_mapped(page) || !page_mapping(page)) return 0'),
      L('walk', '  rmap_walk(page, &rwc)'),
      L('return', '  return cleaned'),
    ],
  },
  {
    fn: 'folio_mkclean',
    file: 'mm/rmap.c',
    since: '5.16',
    lines: [
      L('', 'folio_mkclean(folio):  /* writeback: catch the next write to every shared mapping */'),
      L('', '  rwc = { .rmap_one = page_mkclean_one, .arg = &cleaned, .invalid_vma = invalid_mkclean_vma }'),
      L('mapping', '  if (!folio_mapped(folio) || !folio_mapping(folio)) return 0'),
      L('walk', '  rmap_walk(folio, &rwc)'),
      L('return', '  return cleaned'),
    ],
  },
  {
    fn: 'remove_migration_ptes',
    file: 'mm/migrate.c',
    since: '4.9',
    lines: [
      L('', 'remove_migration_ptes(old, new, locked):  /* folios from 5.18 */'),
      L('', '  rwc = { .rmap_one = remove_migration_pte, .arg = old }'),
      L('walk', '  locked ? rmap_walk_locked(new, &rwc) : rmap_walk(new, &rwc)'),
    ],
  },
  // ---- the walkers --------------------------------------------------------------------------
  {
    fn: 'rmap_walk_anon',
    file: 'mm/rmap.c',
    since: '4.9',
    until: '4.12',
    lines: [
      L('', 'rmap_walk_anon(page, rwc, locked):'),
      L(
        'lock',
        '  anon_vma = locked ? page_anon_vma(page) : rmap_walk_anon_lock(page, rwc)  /* root rwsem, read */',
        'down_read',
        'down_read_trylock',
      ),
      L('begin', '  if (!anon_vma) return ret;  pgoff_start = page_to_pgoff(page)', 'rmap_walk_anon'),
      L(
        'foreach',
        '  anon_vma_interval_tree_foreach(avc, &anon_vma->rb_root, pgoff_start, pgoff_end):',
        'anon_vma_interval_tree_foreach',
      ),
      L('address', '      vma = avc->vma; address = vma_address(page, vma)'),
      L('invalid', '      if (rwc->invalid_vma && rwc->invalid_vma(vma, rwc->arg)) continue', 'invalid_vma'),
      L('rmap_one', '      ret = rwc->rmap_one(page, vma, address, rwc->arg)'),
      L('stop', '      if (ret != SWAP_AGAIN) break'),
      L('done', '      if (rwc->done && rwc->done(page)) break', 'done'),
      L('unlock', '  if (!locked) anon_vma_unlock_read(anon_vma)', 'up_read'),
      L('return', '  return ret', 'rmap_walk_anon'),
    ],
  },
  {
    fn: 'rmap_walk_anon',
    file: 'mm/rmap.c',
    since: '4.12',
    lines: [
      L('', 'void rmap_walk_anon(folio, rwc, locked):  /* a page until 5.18 */'),
      L(
        'lock',
        '  anon_vma = locked ? folio_anon_vma(folio) : rmap_walk_anon_lock(folio, rwc)  /* 5.19: may only try */',
        'down_read',
        'down_read_trylock',
      ),
      L('begin', '  if (!anon_vma) return;  pgoff_start = folio_pgoff(folio)', 'rmap_walk_anon'),
      L(
        'foreach',
        '  anon_vma_interval_tree_foreach(avc, &anon_vma->rb_root, pgoff_start, pgoff_end):',
        'anon_vma_interval_tree_foreach',
      ),
      L('address', '      vma = avc->vma; address = vma_address(vma, pgoff_start, nr_pages)'),
      L('invalid', '      if (rwc->invalid_vma && rwc->invalid_vma(vma, rwc->arg)) continue', 'invalid_vma'),
      L('rmap_one', '      if (!rwc->rmap_one(folio, vma, address, rwc->arg)) break  /* false: stop */'),
      L('done', '      if (rwc->done && rwc->done(folio)) break', 'done'),
      L('unlock', '  if (!locked) anon_vma_unlock_read(anon_vma)', 'up_read'),
      L('return', '  /* returns nothing */', 'rmap_walk_anon'),
    ],
  },
  {
    fn: 'rmap_walk_file',
    file: 'mm/rmap.c',
    since: '4.9',
    until: '4.12',
    lines: [
      L('', 'rmap_walk_file(page, rwc, locked):'),
      L('', '  /* the caller holds PG_locked: page->mapping cannot change under us */'),
      L(
        'lock',
        '  mapping = page_mapping(page); if (!locked) i_mmap_lock_read(mapping)',
        'down_read',
        'down_read_trylock',
      ),
      L('begin', '  pgoff_start = page_to_pgoff(page)', 'rmap_walk_file'),
      L(
        'foreach',
        '  vma_interval_tree_foreach(vma, &mapping->i_mmap, pgoff_start, pgoff_end):',
        'vma_interval_tree_foreach',
      ),
      L('address', '      address = vma_address(page, vma)'),
      L('invalid', '      if (rwc->invalid_vma && rwc->invalid_vma(vma, rwc->arg)) continue', 'invalid_vma'),
      L('rmap_one', '      ret = rwc->rmap_one(page, vma, address, rwc->arg)'),
      L('stop', '      if (ret != SWAP_AGAIN) goto done'),
      L('done', '      if (rwc->done && rwc->done(page)) goto done', 'done'),
      L('unlock', 'done: if (!locked) i_mmap_unlock_read(mapping)', 'up_read'),
      L('return', '  return ret', 'rmap_walk_file'),
    ],
  },
  {
    fn: 'rmap_walk_file',
    file: 'mm/rmap.c',
    since: '4.12',
    lines: [
      L('', 'void rmap_walk_file(folio, rwc, locked):  /* a page until 5.18 */'),
      L('', '  /* the caller holds the folio lock: folio->mapping cannot change under us */'),
      L(
        'lock',
        '  if (!locked) i_mmap_lock_read(mapping)  /* 5.19: i_mmap_trylock_read, and give up if rwc->try_lock */',
        'down_read',
        'down_read_trylock',
      ),
      L('begin', '  pgoff_start = folio_pgoff(folio)', 'rmap_walk_file'),
      L(
        'foreach',
        '  vma_interval_tree_foreach(vma, &mapping->i_mmap, pgoff_start, pgoff_end):',
        'vma_interval_tree_foreach',
      ),
      L('address', '      address = vma_address(vma, pgoff_start, nr_pages)'),
      L('invalid', '      if (rwc->invalid_vma && rwc->invalid_vma(vma, rwc->arg)) continue', 'invalid_vma'),
      L('rmap_one', '      if (!rwc->rmap_one(folio, vma, address, rwc->arg)) goto done'),
      L('done', '      if (rwc->done && rwc->done(folio)) goto done', 'done'),
      L('unlock', 'done: if (!locked) i_mmap_unlock_read(mapping)', 'up_read'),
      L('return', '  /* returns nothing */', 'rmap_walk_file'),
    ],
  },
  {
    fn: 'rmap_walk_ksm',
    file: 'mm/ksm.c',
    since: '4.9',
    until: '4.12',
    lines: [
      L('', 'rmap_walk_ksm(page, rwc):'),
      L('begin', '  stable_node = page_stable_node(page); if (!stable_node) return ret', 'rmap_walk_ksm'),
      L('', '  for search_new_forks in 0, 1:  /* pass 0: rmap_item->mm only; pass 1: later forks */'),
      L('', '    for each rmap_item in stable_node->hlist:'),
      L('lock', '      anon_vma_lock_read(rmap_item->anon_vma)', 'down_read', 'down_read_trylock'),
      L(
        'foreach',
        '      anon_vma_interval_tree_foreach(avc, &anon_vma->rb_root, 0, ULONG_MAX):',
        'anon_vma_interval_tree_foreach',
      ),
      L('address', '          vma = avc->vma; skip unless vm_start <= rmap_item->address < vm_end'),
      L(
        'invalid',
        '          if (rwc->invalid_vma && rwc->invalid_vma(vma, rwc->arg)) continue',
        'invalid_vma',
      ),
      L('rmap_one', '          ret = rwc->rmap_one(page, vma, rmap_item->address, rwc->arg)'),
      L('done', '          if (ret != SWAP_AGAIN or rwc->done(page)) unlock and stop', 'done'),
      L('unlock', '      anon_vma_unlock_read(anon_vma)', 'up_read'),
      L('return', 'out: return ret', 'rmap_walk_ksm'),
    ],
  },
  {
    fn: 'rmap_walk_ksm',
    file: 'mm/ksm.c',
    since: '4.12',
    lines: [
      L('', 'void rmap_walk_ksm(folio, rwc):  /* a page until 5.18 */'),
      L('begin', '  stable_node = folio_stable_node(folio); if (!stable_node) return', 'rmap_walk_ksm'),
      L('', '  for search_new_forks in 0, 1:  /* pass 0: rmap_item->mm only; pass 1: later forks */'),
      L('', '    for each rmap_item in stable_node->hlist:'),
      L(
        'lock',
        '      anon_vma_lock_read(rmap_item->anon_vma)  /* 5.19: trylock first; give up if rwc->try_lock */',
        'down_read',
        'down_read_trylock',
      ),
      L(
        'foreach',
        '      anon_vma_interval_tree_foreach(avc, &anon_vma->rb_root, 0, ULONG_MAX):',
        'anon_vma_interval_tree_foreach',
      ),
      L('address', '          vma = avc->vma; skip unless vm_start <= rmap_item->address < vm_end'),
      L(
        'invalid',
        '          if (rwc->invalid_vma && rwc->invalid_vma(vma, rwc->arg)) continue',
        'invalid_vma',
      ),
      L('rmap_one', '          if (!rwc->rmap_one(folio, vma, rmap_item->address, rwc->arg)) unlock, return'),
      L('done', '          if (rwc->done && rwc->done(folio)) unlock, return', 'done'),
      L('unlock', '      anon_vma_unlock_read(anon_vma)', 'up_read'),
      L('return', '  /* returns nothing */', 'rmap_walk_ksm'),
    ],
  },
  // ---- the rmap_one callbacks ---------------------------------------------------------------
  {
    fn: 'try_to_unmap_one',
    file: 'mm/rmap.c',
    since: '4.9',
    until: '4.12',
    lines: [
      L('', 'try_to_unmap_one(page, vma, address, flags):'),
      L('munlock', '  if ((flags & TTU_MUNLOCK) && !(vma->vm_flags & VM_LOCKED)) return SWAP_AGAIN'),
      L(
        'check',
        '  pte = page_check_address(page, mm, address, &ptl)  /* takes the PTE lock (4.11: page_vma_mapped_walk) */',
        'page_check_address',
        'page_vma_mapped_walk',
        ...PTE_LOCK,
      ),
      L('nopte', '  if (!pte) return SWAP_AGAIN'),
      L(
        'mlock',
        '  if (VM_LOCKED and not TTU_IGNORE_MLOCK) { mlock_vma_page(page); ret = SWAP_MLOCK; goto out_unmap }',
        'mlock_vma_page',
      ),
      L(
        'young',
        '  if (!(flags & TTU_IGNORE_ACCESS) && ptep_clear_flush_young(vma, address, pte)) { ret = SWAP_FAIL; goto out_unmap }',
      ),
      L(
        'clear',
        '  pteval = ptep_clear_flush(vma, address, pte); if (pte_dirty(pteval)) set_page_dirty(page)',
        'set_page_dirty',
      ),
      L('entry', '  install a migration entry, a swap entry (anon) or nothing (file) in its place'),
      L('remove', '  page_remove_rmap(page); put_page(page)', 'page_remove_rmap', 'put_page'),
      L('unlock', 'out_unmap: pte_unmap_unlock(pte, ptl)', ...PTE_UNLOCK),
      L('return', '  return ret', 'try_to_unmap_one'),
    ],
  },
  {
    fn: 'try_to_unmap_one',
    file: 'mm/rmap.c',
    since: '4.12',
    until: '5.18',
    lines: [
      L('', 'bool try_to_unmap_one(page, vma, address, flags):  /* true: go on walking */'),
      L('munlock', '  if ((flags & TTU_MUNLOCK) && !(vma->vm_flags & VM_LOCKED)) return true  /* to 5.13 */'),
      L(
        'check',
        '  while (page_vma_mapped_walk(&pvmw)):  /* each PTE of the page in the VMA, under its lock */',
        'page_vma_mapped_walk',
        ...PTE_LOCK,
      ),
      L(
        'mlock',
        '    if (VM_LOCKED and not TTU_IGNORE_MLOCK) { mlock_vma_page(page); ret = false; stop }',
        'mlock_vma_page',
      ),
      L(
        'young',
        '    if (!(flags & TTU_IGNORE_ACCESS) && ptep_clear_flush_young(...)) { ret = false; stop }  /* to 5.10 */',
      ),
      L(
        'clear',
        '    pteval = ptep_clear_flush(vma, address, pvmw.pte); if (pte_dirty(pteval)) set_page_dirty(page)',
      ),
      L(
        'fail',
        '    anon: if (PageSwapBacked(page) != PageSwapCache(page)) { WARN_ON_ONCE(1); ret = false; stop }',
      ),
      L('entry', '    install a migration entry, a swap entry (anon) or nothing (file) in its place'),
      L('remove', '    page_remove_rmap(page, vma, false); put_page(page)', 'page_remove_rmap', 'put_page'),
      L('unlock', '  page_vma_mapped_walk_done(&pvmw)  /* drops the PTE lock */', ...PTE_UNLOCK),
      L('return', '  return ret', 'try_to_unmap_one'),
    ],
  },
  {
    fn: 'try_to_unmap_one',
    file: 'mm/rmap.c',
    since: '5.18',
    lines: [
      L('', 'bool try_to_unmap_one(folio, vma, address, flags):  /* true: go on walking */'),
      L(
        'check',
        '  while (page_vma_mapped_walk(&pvmw)):  /* each PTE of the folio in the VMA, under its lock */',
        'page_vma_mapped_walk',
        ...PTE_LOCK,
      ),
      L(
        'mlock',
        '    if (VM_LOCKED and not TTU_IGNORE_MLOCK) { mlock_vma_folio(folio, vma); ret = false; stop }',
      ),
      L(
        'clear',
        '    pteval = ptep_clear_flush(...)  /* 6.16: get_and_clear_ptes */; dirty moves to the folio',
      ),
      L(
        'fail',
        '    anon: if (folio_test_swapbacked(folio) != folio_test_swapcache(folio)) { WARN_ON_ONCE(1); ret = false; stop }',
      ),
      L('entry', '    set_pte_at(mm, address, pvmw.pte, a swap entry (anon)), or nothing (file)'),
      L(
        'remove',
        '    folio_remove_rmap_pte(folio, subpage, vma)  /* page_remove_rmap until 6.8 */; folio_put(folio)',
        'page_remove_rmap',
        'folio_remove_rmap_ptes',
      ),
      L('unlock', '  page_vma_mapped_walk_done(&pvmw)  /* drops the PTE lock */', ...PTE_UNLOCK),
      L('return', '  return ret', 'try_to_unmap_one'),
    ],
  },
  {
    fn: 'page_mlock_one',
    file: 'mm/rmap.c',
    since: '5.14',
    until: '5.18',
    lines: [
      L('', 'bool page_mlock_one(page, vma, address, arg):'),
      L('munlock', '  if (!(vma->vm_flags & VM_LOCKED)) return true  /* nothing here keeps it mlocked */'),
      L(
        'check',
        '  while (page_vma_mapped_walk(&pvmw)):  /* the PTE, under its lock */',
        'page_vma_mapped_walk',
        ...PTE_LOCK,
      ),
      L(
        'mlock',
        '    if (vma->vm_flags & VM_LOCKED) { mlock_vma_page(page); return false }  /* stop: it stays mlocked */',
      ),
      L('unlock', '  page_vma_mapped_walk_done(&pvmw)', ...PTE_UNLOCK),
      L('return', '  return true', 'page_mlock_one'),
    ],
  },
  {
    fn: 'try_to_migrate_one',
    file: 'mm/rmap.c',
    since: '5.14',
    lines: [
      L('', 'bool try_to_migrate_one(folio, vma, address, arg):  /* never stops at VM_LOCKED */'),
      L(
        'check',
        '  while (page_vma_mapped_walk(&pvmw)):  /* finds the PTE, takes its lock */',
        'page_vma_mapped_walk',
        'page_check_address',
        ...PTE_LOCK,
      ),
      L('clear', '    pteval = ptep_clear_flush(vma, address, pvmw.pte)'),
      L(
        'entry',
        '    set_pte_at(mm, address, pvmw.pte, a migration entry for the page)  /* 6.1: with young, dirty */',
      ),
      L(
        'remove',
        '    folio_remove_rmap_pte(folio, subpage, vma); folio_put(folio)  /* page_remove_rmap until 6.8 */',
        'page_remove_rmap',
        'folio_remove_rmap_ptes',
        'put_page',
      ),
      L('unlock', '  page_vma_mapped_walk_done(&pvmw)  /* drops the PTE lock */', ...PTE_UNLOCK),
      L('return', '  return ret  /* true: carry on with the walk */', 'try_to_migrate_one'),
    ],
  },
  {
    fn: 'page_referenced_one',
    file: 'mm/rmap.c',
    since: '4.9',
    until: '4.12',
    lines: [
      L('', 'page_referenced_one(page, vma, address, arg):'),
      L(
        'check',
        '  pte = page_check_address(page, mm, address, &ptl)  /* takes the PTE lock (4.11: page_vma_mapped_walk) */',
        'page_check_address',
        'page_vma_mapped_walk',
        ...PTE_LOCK,
      ),
      L('nopte', '  if (!pte) return SWAP_AGAIN'),
      L('mlock', '  if (vma->vm_flags & VM_LOCKED) { pra->vm_flags |= VM_LOCKED; return SWAP_FAIL }'),
      L('young', '  if (ptep_clear_flush_young_notify(vma, address, pte)) referenced++  /* age the PTE */'),
      L('unlock', '  pte_unmap_unlock(pte, ptl)', ...PTE_UNLOCK),
      L('count', '  if (referenced) { pra->referenced++; pra->vm_flags |= vma->vm_flags }'),
      L(
        'return',
        '  pra->mapcount--; return pra->mapcount ? SWAP_AGAIN : SWAP_SUCCESS',
        'page_referenced_one',
      ),
    ],
  },
  {
    fn: 'page_referenced_one',
    file: 'mm/rmap.c',
    since: '4.12',
    lines: [
      L('', 'bool page_referenced_one(page, vma, address, arg):  /* true: go on walking */'),
      L(
        'check',
        '  while (page_vma_mapped_walk(&pvmw)):  /* each PTE of the page in the VMA, under its lock */',
        'page_vma_mapped_walk',
        ...PTE_LOCK,
      ),
      L('mlock', '    if (vma->vm_flags & VM_LOCKED) { pra->vm_flags |= VM_LOCKED; return false }'),
      L('young', '    if (ptep_clear_flush_young_notify(vma, address, pvmw.pte)) referenced++  /* age it */'),
      L('unlock', '    pra->mapcount--  /* the walk drops the PTE lock */', ...PTE_UNLOCK),
      L('count', '  if (referenced) { pra->referenced++; pra->vm_flags |= vma->vm_flags }'),
      L(
        'return',
        '  return pra->mapcount != 0  /* false: every mapping seen, stop */',
        'page_referenced_one',
      ),
    ],
  },
  {
    fn: 'folio_referenced_one',
    file: 'mm/rmap.c',
    since: '5.18',
    lines: [
      L('', 'bool folio_referenced_one(folio, vma, address, arg):  /* true: go on walking */'),
      L(
        'check',
        '  while (page_vma_mapped_walk(&pvmw)):  /* each PTE of the folio in the VMA, under its lock */',
        'page_vma_mapped_walk',
        ...PTE_LOCK,
      ),
      L(
        'mlock',
        '    if (vma->vm_flags & VM_LOCKED) { mlock_vma_folio(folio, vma); pra->vm_flags |= VM_LOCKED; return false }',
      ),
      L('young', '    if (ptep_clear_flush_young_notify(vma, address, pvmw.pte)) referenced++  /* age it */'),
      L('unlock', '    pra->mapcount--  /* the walk drops the PTE lock */', ...PTE_UNLOCK),
      L('count', '  if (referenced) { pra->referenced++; pra->vm_flags |= vma->vm_flags & ~VM_LOCKED }'),
      L(
        'return',
        '  return pra->mapcount != 0  /* false: every mapping seen, stop */',
        'folio_referenced_one',
      ),
    ],
  },
  {
    fn: 'page_mkclean_one',
    file: 'mm/rmap.c',
    since: '4.9',
    until: '4.12',
    lines: [
      L('', 'page_mkclean_one(page, vma, address, arg):'),
      L(
        'check',
        '  pte = page_check_address(page, mm, address, &ptl)  /* takes the PTE lock (4.11: page_vma_mapped_walk) */',
        'page_check_address',
        'page_vma_mapped_walk',
        ...PTE_LOCK,
      ),
      L(
        'clean',
        '  if (pte_dirty(*pte) || pte_write(*pte)) { entry = pte_wrprotect(pte_mkclean(flush)); ret = 1 }',
      ),
      L('unlock', '  pte_unmap_unlock(pte, ptl)', ...PTE_UNLOCK),
      L('return', '  if (ret) (*cleaned)++; return SWAP_AGAIN', 'page_mkclean_one'),
    ],
  },
  {
    fn: 'page_mkclean_one',
    file: 'mm/rmap.c',
    since: '4.12',
    lines: [
      L('', 'bool page_mkclean_one(folio, vma, address, arg):  /* a page until 5.16 */'),
      L(
        'check',
        '  while (page_vma_mapped_walk(&pvmw)):  /* each PTE, under its lock (page_vma_mkclean_one) */',
        'page_vma_mapped_walk',
        ...PTE_LOCK,
      ),
      L(
        'clean',
        '    if (pte_dirty(pte) || pte_write(pte)) { flush it; set it clean and read-only; cleaned++ }',
      ),
      L('unlock', '  /* the walk drops the PTE lock */', ...PTE_UNLOCK),
      L('return', '  (*cleaned) += cleaned; return true', 'page_mkclean_one'),
    ],
  },
  {
    fn: 'remove_migration_pte',
    file: 'mm/migrate.c',
    since: '4.9',
    until: '4.11',
    lines: [
      L('', 'remove_migration_pte(new, vma, addr, old):'),
      L(
        'check',
        '  pte = the PTE at addr, under its lock; if (!is_migration_entry(pte) || entry page != old) skip',
        'is_migration_entry',
        'mm_find_pmd',
        ...PTE_LOCK,
      ),
      L(
        'install',
        '  set_pte_at(mm, addr, ptep, mk_pte(new, vma->vm_page_prot)); page_add_anon_rmap(new, ...)',
      ),
      L('unlock', '  pte_unmap_unlock(ptep, ptl)', ...PTE_UNLOCK),
      L('return', '  return SWAP_AGAIN', 'remove_migration_pte'),
    ],
  },
  {
    fn: 'remove_migration_pte',
    file: 'mm/migrate.c',
    since: '4.11',
    lines: [
      L('', 'remove_migration_pte(folio, vma, addr, old):  /* bool from 4.12: true, go on */'),
      L(
        'check',
        '  while (page_vma_mapped_walk(&pvmw)):  /* PVMW_MIGRATION: the migration entries for old */',
        'page_vma_mapped_walk',
        ...PTE_LOCK,
      ),
      L(
        'install',
        '    set_pte_at(mm, pvmw.address, pvmw.pte, a PTE of the new page)  /* 6.1: young, dirty as recorded */',
      ),
      L('rmap', '    folio_add_anon_rmap_pte / folio_add_file_rmap_pte  /* page_add_*_rmap until 6.8 */'),
      L('unlock', '  /* the walk drops the PTE lock */', ...PTE_UNLOCK),
      L('return', '  return true', 'remove_migration_pte'),
    ],
  },
  {
    fn: 'page_mapped_in_vma',
    file: 'mm/rmap.c',
    since: '4.9',
    until: '4.11',
    lines: [
      L('', 'page_mapped_in_vma(page, vma):  /* the lab’s `walk`: does this VMA map the page? */'),
      L('address', '  address = vma_address(page, vma)'),
      L(
        'check',
        '  pte = page_check_address(page, vma->vm_mm, address, &ptl, 1)',
        'page_check_address',
        ...PTE_LOCK,
      ),
      L('unlock', '  if (pte) pte_unmap_unlock(pte, ptl)', ...PTE_UNLOCK),
      L('return', '  return pte != NULL', 'page_mapped_in_vma'),
    ],
  },
  {
    fn: 'page_mapped_in_vma',
    file: 'mm/page_vma_mapped.c',
    since: '4.11',
    lines: [
      L('', 'page_mapped_in_vma(page, vma):  /* the lab’s `walk`: does this VMA map the page? */'),
      L('address', '  pvmw = { .address = vma_address(page, vma), .flags = PVMW_SYNC }'),
      L(
        'check',
        '  if (!page_vma_mapped_walk(&pvmw)) return 0  /* finds the PTE under its lock */',
        'page_vma_mapped_walk',
        ...PTE_LOCK,
      ),
      L('unlock', '  page_vma_mapped_walk_done(&pvmw)', ...PTE_UNLOCK),
      L('return', '  return 1', 'page_mapped_in_vma'),
    ],
  },
];

/** The listing of `fn` that describes `release`, or null when the lab has none. */
export function listingFor(fn: string, release: string): Listing | null {
  let r: readonly number[];
  try {
    r = parseRelease(release);
  } catch {
    return null;
  }
  let best: Listing | null = null;
  for (const l of LISTINGS) {
    if (l.fn !== fn) continue;
    if (compareReleases(r, parseRelease(l.since)) < 0) continue;
    if (l.until && compareReleases(r, parseRelease(l.until)) >= 0) continue;
    if (!best || compareReleases(parseRelease(l.since), parseRelease(best.since)) > 0) best = l;
  }
  // No listing for this release yet: the oldest one, which the panel labels with its own release.
  return best ?? LISTINGS.find((l) => l.fn === fn) ?? null;
}

/**
 * The statement-level caller of a statement's walks, when the kernel has one above the client, in
 * 4.9's name (`callerOf` spells it as a release does).
 */
export const STATEMENT_CALLER: Readonly<Record<string, string>> = {
  reclaim: 'shrink_page_list',
  migrate: 'migrate_pages',
};

/** The caller of `op`'s walks as `release` names it (shrink_folio_list from 6.1). */
export function callerOf(op: string, release: string): string | undefined {
  const caller = STATEMENT_CALLER[op];
  return caller && nameIn(release, caller);
}

/** The caller's line that runs a pass of `client` (every release's name of it). */
const CALLER_LINE: Readonly<Record<string, string>> = {
  page_referenced: 'referenced',
  folio_referenced: 'referenced',
  try_to_unmap: 'unmap',
  try_to_migrate: 'unmap',
  remove_migration_ptes: 'remove',
};

export interface CodeRef {
  listing: string;
  line: string;
}

function lineEmitting(fn: string, listing: string, release: string, prefer?: string): CodeRef | null {
  const l = listingFor(listing, release);
  if (!l) return null;
  const all = l.lines.filter((x) => x.emits?.includes(fn));
  const line = all.find((x) => x.id === prefer) ?? all[0];
  return line ? { listing, line: line.id } : null;
}

/**
 * The line of an unmapping rmap_one (try_to_unmap_one, page_mlock_one) that decided its result,
 * told by the model's code behind the result (from 4.12 a stop at VM_LOCKED and a failed check
 * both return false): VM_LOCKED, or the young check (to 5.10) or the swap-cache check (from 4.12).
 */
function rmapOneLine(fn: string, code: number | undefined, release: string): string {
  if (fn !== 'try_to_unmap_one' && fn !== 'page_mlock_one') return 'return';
  const lines = listingFor(fn, release)?.lines.map((l) => l.id) ?? [];
  const pick = (...ids: string[]) => ids.find((id) => lines.includes(id)) ?? 'return';
  if (code === SWAP_MLOCK) return pick('mlock');
  if (code === SWAP_FAIL)
    return ruleInForce(release, 'ttu-ignore-access-removed') ? pick('fail') : pick('young', 'fail');
  return 'return';
}

/**
 * The call stack of event `i`, outermost first: each frame a listing and the line running in it.
 * The last frame is the function the event comes from; empty when no listing produces it.
 */
export function codeStack(
  events: readonly TraceEvent[],
  i: number,
  passes: readonly Pass[],
  op: string,
  release: string,
): CodeRef[] {
  const e = events[i];
  if (!e) return [];
  const caller = callerOf(op, release);
  const pass = passAt(passes, i);
  if (!pass) {
    const own = caller ? lineEmitting(e.fn, caller, release) : null;
    return own ? [own] : [];
  }
  const stack: CodeRef[] = [];
  if (caller && pass.client && CALLER_LINE[pass.client])
    stack.push({ listing: caller, line: CALLER_LINE[pass.client] });
  if (pass.client) stack.push({ listing: pass.client, line: 'walk' });
  const walker = pass.walker;
  const result = e.refs?.result;
  if (WALKERS.has(e.fn))
    return [...stack, { listing: walker, line: result === undefined ? 'begin' : 'return' }];
  if (e.kind === 'lock' && /^(down|up)_/.test(e.fn)) {
    const own = lineEmitting(e.fn, walker, release);
    return own ? [...stack, own] : [];
  }
  if (FOREACH.has(e.fn) || e.fn === 'invalid_vma' || e.fn === 'done') {
    const own = lineEmitting(e.fn, walker, release);
    return own ? [...stack, own] : [];
  }
  // Inside an rmap_one (a walk has one rwc, so one rmap_one): the walker is at its rmap_one call.
  const one = isRmapOne(e.fn) ? e.fn : pass.rmapOne;
  if (!one) return [];
  const inner = isRmapOne(e.fn)
    ? { listing: one, line: rmapOneLine(one, e.refs?.code, release) }
    : lineEmitting(e.fn, one, release, PROBES.has(e.fn) ? 'check' : undefined);
  return inner ? [...stack, { listing: walker, line: 'rmap_one' }, inner] : [];
}

/**
 * The stack to show at event `i`: its own, or — for an event no listing produces (the lab's own page
 * lock, say) — the stack of the nearest earlier event that has one.
 */
export function lastCodeStack(
  events: readonly TraceEvent[],
  i: number,
  passes: readonly Pass[],
  op: string,
  release: string,
): { stack: CodeRef[]; own: boolean } {
  for (let j = Math.min(i, events.length - 1); j >= 0; j--) {
    const stack = codeStack(events, j, passes, op, release);
    if (stack.length) return { stack, own: j === i };
  }
  return { stack: [], own: false };
}

/** The listings to show for a statement: its caller, then each pass's client, walker and rmap_one(s), once each. */
export function listingsFor(
  events: readonly TraceEvent[],
  passes: readonly Pass[],
  op: string,
  release: string,
): string[] {
  const names: string[] = [];
  const add = (n: string | null | undefined) => {
    if (n && !names.includes(n)) names.push(n);
  };
  add(callerOf(op, release));
  for (const p of passes) {
    add(p.client);
    add(p.walker);
    for (let i = p.from; i <= p.to; i++) if (isRmapOne(events[i].fn)) add(events[i].fn);
    add(p.rmapOne);
  }
  return names;
}
