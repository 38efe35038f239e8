/**
 * The kernel code beside the walk view: the rmap walkers and try_to_unmap() of mm/rmap.c (4.9), as
 * short paraphrased listings written for this lab (not the kernel's text), one line per step a reader
 * follows. `codeLineFor` maps a trace event to the line that produced it, so the panel can follow the
 * animation.
 */
import type { TraceEvent } from '@rmaplab/mm';

export interface CodeLine {
  /** Stable key that events map to; '' for lines no event maps to. */
  id: string;
  text: string;
}

export interface Listing {
  name: string;
  source: string;
  lines: CodeLine[];
}

const L = (id: string, text: string): CodeLine => ({ id, text });

export const LISTINGS: Record<string, Listing> = {
  rmap_walk_anon: {
    name: 'rmap_walk_anon()',
    source: 'mm/rmap.c (4.9), paraphrased',
    lines: [
      L('', 'rmap_walk_anon(page, rwc, locked):'),
      L(
        'lock',
        '  anon_vma = locked ? page_anon_vma(page) : rmap_walk_anon_lock(page, rwc)  /* root rwsem, read */',
      ),
      L('nolock', '  if (!anon_vma) return SWAP_AGAIN'),
      L('', '  pgoff = page_to_pgoff(page)'),
      L('foreach', '  anon_vma_interval_tree_foreach(avc, &anon_vma->rb_root, pgoff, pgoff):'),
      L('address', '      vma = avc->vma; address = vma_address(page, vma)'),
      L('invalid', '      if (rwc->invalid_vma && rwc->invalid_vma(vma, rwc->arg)) continue'),
      L('rmap_one', '      ret = rwc->rmap_one(page, vma, address, rwc->arg)'),
      L('stop', '      if (ret != SWAP_AGAIN) break'),
      L('done', '      if (rwc->done && rwc->done(page)) break'),
      L('unlock', '  if (!locked) anon_vma_unlock_read(anon_vma)'),
      L('return', '  return ret'),
    ],
  },
  rmap_walk_file: {
    name: 'rmap_walk_file()',
    source: 'mm/rmap.c (4.9), paraphrased',
    lines: [
      L('', 'rmap_walk_file(page, rwc, locked):'),
      L('', '  /* the caller holds PG_locked: page->mapping cannot change under us */'),
      L('nolock', '  mapping = page_mapping(page); if (!mapping) return SWAP_AGAIN'),
      L('', '  pgoff = page_to_pgoff(page)'),
      L('lock', '  if (!locked) i_mmap_lock_read(mapping)  /* i_mmap_rwsem, read */'),
      L('foreach', '  vma_interval_tree_foreach(vma, &mapping->i_mmap, pgoff, pgoff):'),
      L('address', '      address = vma_address(page, vma)'),
      L('invalid', '      if (rwc->invalid_vma && rwc->invalid_vma(vma, rwc->arg)) continue'),
      L('rmap_one', '      ret = rwc->rmap_one(page, vma, address, rwc->arg)'),
      L('stop', '      if (ret != SWAP_AGAIN) goto done'),
      L('done', '      if (rwc->done && rwc->done(page)) goto done'),
      L('unlock', 'done: if (!locked) i_mmap_unlock_read(mapping)'),
      L('return', '  return ret'),
    ],
  },
  rmap_walk_ksm: {
    name: 'rmap_walk_ksm()',
    source: 'mm/ksm.c (4.9), paraphrased',
    lines: [
      L('', 'rmap_walk_ksm(page, rwc):'),
      L('nolock', '  stable_node = page_stable_node(page); if (!stable_node) return SWAP_AGAIN'),
      L('', '  for search_new_forks in 0, 1:'),
      L('', '    for each rmap_item in stable_node->hlist:'),
      L('lock', '      anon_vma_lock_read(rmap_item->anon_vma)'),
      L('foreach', '      anon_vma_interval_tree_foreach(avc, &anon_vma->rb_root, 0, ULONG_MAX):'),
      L('address', '          vma = avc->vma; skip unless vm_start <= rmap_item->address < vm_end'),
      L('', '          pass 0 takes rmap_item->mm only, pass 1 the other mms (later forks)'),
      L('invalid', '          if (rwc->invalid_vma && rwc->invalid_vma(vma, rwc->arg)) continue'),
      L('rmap_one', '          ret = rwc->rmap_one(page, vma, rmap_item->address, rwc->arg)'),
      L('stop', '          if (ret != SWAP_AGAIN) { anon_vma_unlock_read(anon_vma); goto out }'),
      L('done', '          if (rwc->done && rwc->done(page)) { anon_vma_unlock_read(anon_vma); goto out }'),
      L('unlock', '      anon_vma_unlock_read(anon_vma)'),
      L('return', 'out: return ret'),
    ],
  },
  try_to_unmap: {
    name: 'try_to_unmap()',
    source: 'mm/rmap.c (4.9), paraphrased',
    lines: [
      L('', 'try_to_unmap(page, flags):  /* the caller holds the page lock */'),
      L('', '  rwc = { .rmap_one = try_to_unmap_one, .arg = {flags},'),
      L('', '          .done = page_mapcount_is_zero, .anon_lock = page_lock_anon_vma_read }'),
      L(
        'invalid',
        '  if ((flags & TTU_MIGRATION) && !PageKsm(page) && PageAnon(page)) rwc.invalid_vma = invalid_migration_vma',
      ),
      L('walk', '  ret = (flags & TTU_RMAP_LOCKED) ? rmap_walk_locked(page, &rwc) : rmap_walk(page, &rwc)'),
      L(
        'result',
        '  if (ret != SWAP_MLOCK && !page_mapcount(page)) ret = SWAP_SUCCESS  /* or SWAP_LZFREE */',
      ),
      L('return', '  return ret'),
    ],
  },
  try_to_unmap_one: {
    name: 'try_to_unmap_one()',
    source: 'mm/rmap.c (4.9), paraphrased',
    lines: [
      L('', 'try_to_unmap_one(page, vma, address, arg):'),
      L('munlock', '  if ((flags & TTU_MUNLOCK) && !(vma->vm_flags & VM_LOCKED)) return SWAP_AGAIN'),
      L('check', '  pte = page_check_address(page, mm, address, &ptl, 0)  /* takes the pte lock */'),
      L('nopte', '  if (!pte) return SWAP_AGAIN'),
      L(
        'mlock',
        '  if (!(flags & TTU_IGNORE_MLOCK) && (vma->vm_flags & VM_LOCKED)) { mlock_vma_page(page); ret = SWAP_MLOCK; goto out_unmap }',
      ),
      L(
        'young',
        '  if (!(flags & TTU_IGNORE_ACCESS) && ptep_clear_flush_young_notify(vma, address, pte)) { ret = SWAP_FAIL; goto out_unmap }',
      ),
      L(
        'clear',
        '  pteval = ptep_clear_flush(vma, address, pte); if (pte_dirty(pteval)) set_page_dirty(page)',
      ),
      L('entry', '  set the PTE to a migration entry, a swap entry (anon) or nothing (file)'),
      L('remove', '  page_remove_rmap(page, false); put_page(page)'),
      L('unlock', 'out_unmap: pte_unmap_unlock(pte, ptl)'),
      L('return', '  return ret'),
    ],
  },
};

const WALKERS = ['rmap_walk_anon', 'rmap_walk_file', 'rmap_walk_ksm'] as const;
const FOREACH = new Set(['anon_vma_interval_tree_foreach', 'vma_interval_tree_foreach']);
/** The rmap_one callbacks of the walk clients (struct rmap_walk_control.rmap_one). */
export const RMAP_ONE = new Set([
  'try_to_unmap_one',
  'page_referenced_one',
  'page_mkclean_one',
  'remove_migration_pte',
  'try_to_munlock_one',
]);

/** The walker a statement's events run through (the first `rmap_walk_*` event), or null for no walk. */
export function walkerOf(events: readonly TraceEvent[]): string | null {
  for (const e of events) if ((WALKERS as readonly string[]).includes(e.fn)) return e.fn;
  return null;
}

/** The listings to show for a statement: the client (try_to_unmap) when it ran, then the walker, then try_to_unmap_one. */
export function listingsFor(events: readonly TraceEvent[]): string[] {
  const names: string[] = [];
  const fns = new Set(events.map((e) => e.fn));
  if (fns.has('try_to_unmap')) names.push('try_to_unmap');
  const walker = walkerOf(events);
  if (walker) names.push(walker);
  if (fns.has('try_to_unmap_one')) names.push('try_to_unmap_one');
  return names;
}

export interface CodeRef {
  listing: string;
  line: string;
}

/**
 * The code line that event `i` of a statement comes from. `inOne` tells whether the event happens
 * inside try_to_unmap_one() (between its page_check_address() and its result), where the pte lock
 * and page_remove_rmap() events belong.
 */
export function codeLineFor(events: readonly TraceEvent[], i: number): CodeRef | null {
  const e = events[i];
  if (!e) return null;
  const walker = walkerOf(events) ?? 'rmap_walk_anon';
  if ((WALKERS as readonly string[]).includes(e.fn)) {
    return { listing: e.fn, line: e.refs?.result !== undefined ? 'return' : 'lock' };
  }
  if (FOREACH.has(e.fn)) return { listing: walker, line: 'address' };
  if (e.fn === 'invalid_vma') return { listing: walker, line: 'invalid' };
  if (e.fn === 'done') return { listing: walker, line: 'done' };
  if (e.fn === 'try_to_unmap') {
    return { listing: 'try_to_unmap', line: e.refs?.result !== undefined ? 'result' : 'walk' };
  }
  if (e.fn === 'page_check_address') {
    // The probe is the first thing an rmap_one does: it belongs to try_to_unmap_one() when that is the client.
    return events.some((x) => x.fn === 'try_to_unmap_one')
      ? { listing: 'try_to_unmap_one', line: e.refs?.result === 'none' ? 'nopte' : 'check' }
      : { listing: walker, line: 'rmap_one' };
  }
  if (e.fn === 'try_to_unmap_one') return { listing: 'try_to_unmap_one', line: unmapOneLine(e.refs?.result) };
  if (RMAP_ONE.has(e.fn)) return { listing: walker, line: 'rmap_one' };
  if (insideTryToUnmapOne(events, i)) {
    if (e.fn === 'mlock_vma_page') return { listing: 'try_to_unmap_one', line: 'mlock' };
    if (e.fn === 'page_remove_rmap' || e.fn === 'put_page')
      return { listing: 'try_to_unmap_one', line: 'remove' };
    if (e.fn === 'set_page_dirty') return { listing: 'try_to_unmap_one', line: 'clear' };
    if (e.fn === 'spin_lock') return { listing: 'try_to_unmap_one', line: 'check' };
    if (e.fn === 'spin_unlock') return { listing: 'try_to_unmap_one', line: 'unlock' };
  }
  if (e.kind === 'lock') {
    if (e.fn.startsWith('down_')) return { listing: walker, line: 'lock' };
    if (e.fn.startsWith('up_')) return { listing: walker, line: 'unlock' };
  }
  return null;
}

/**
 * The code line to show at event `i`: its own line, or — for an event no listed line produces (the
 * caller's page lock, say) — the line of the nearest earlier event that has one.
 */
export function lastCodeLine(events: readonly TraceEvent[], i: number): CodeRef | null {
  for (let j = Math.min(i, events.length - 1); j >= 0; j--) {
    const at = codeLineFor(events, j);
    if (at) return at;
  }
  return null;
}

/** The try_to_unmap_one() line that decided its result. */
function unmapOneLine(result: string | undefined): string {
  if (result === 'SWAP_MLOCK') return 'mlock';
  if (result === 'SWAP_FAIL') return 'young';
  return 'return';
}

/**
 * Whether event i lies inside a try_to_unmap_one() call: the walk emits page_check_address() first
 * and the rmap_one result last, so i is inside when the nearest earlier probe has no result after it
 * before i.
 */
function insideTryToUnmapOne(events: readonly TraceEvent[], i: number): boolean {
  if (!events.some((e) => e.fn === 'try_to_unmap_one')) return false;
  for (let j = i - 1; j >= 0; j--) {
    const f = events[j].fn;
    if (f === 'page_check_address') return events[j].refs?.result !== 'none';
    if (RMAP_ONE.has(f) || FOREACH.has(f)) return false;
  }
  return false;
}
