/**
 * The walk view's model: a statement's trace events cut into passes (one rmap walk each:
 * page_referenced, then try_to_unmap, for a reclaim), and a pure reducer from the events up to a
 * cursor to what the graph highlights. Play, step and scrub only move the cursor; nothing here
 * depends on time. Events name functions as the statement's release does (folio_referenced_one,
 * page_vma_mapped_walk, ...), so the sets below hold every release's names.
 */
import { DEFAULT_OPTIONS, type TraceEvent } from '@rmaplab/mm';
import { nameIn } from './names';

/** The rmap walkers: a pass starts with one's first event and ends with its result. */
export const WALKERS: ReadonlySet<string> = new Set(['rmap_walk_anon', 'rmap_walk_file', 'rmap_walk_ksm']);
/** The walkers' per-VMA iteration (one event per VMA reached). */
export const FOREACH: ReadonlySet<string> = new Set([
  'anon_vma_interval_tree_foreach',
  'vma_interval_tree_foreach',
]);
/** The PTE probes an rmap_one makes first (4.9's two; page_vma_mapped_walk from 4.11). */
export const PROBES: ReadonlySet<string> = new Set([
  'page_check_address',
  'is_migration_entry',
  'mm_find_pmd',
  'page_vma_mapped_walk',
]);

/**
 * The rmap_one callbacks (struct rmap_walk_control.rmap_one) the model's walk clients use, by every
 * release's name, and the client function that sets each one up, by 4.9's (passesOf spells it as
 * the release does: page_mkclean's walk is folio_mkclean's from 5.16). page_mapped_in_vma is the
 * lab's own `walk` statement (the report walk of mm/rmap.c's page_mapped_in_vma probe), which has
 * no client above the walk.
 */
export const RMAP_ONE: Readonly<Record<string, string | null>> = {
  try_to_unmap_one: 'try_to_unmap',
  page_referenced_one: 'page_referenced',
  folio_referenced_one: 'page_referenced',
  page_mkclean_one: 'page_mkclean',
  remove_migration_pte: 'remove_migration_ptes',
  try_to_migrate_one: 'try_to_migrate',
  page_mlock_one: 'try_to_munlock',
  page_mapped_in_vma: null,
};

export function isRmapOne(fn: string): boolean {
  return fn in RMAP_ONE;
}

export interface Pass {
  /** 1-based, in the statement. */
  index: number;
  /** First and last event (inclusive): the walker's lock, its first event ... its result. */
  from: number;
  to: number;
  walker: string;
  /** rwc->rmap_one, when the pass reached a VMA. */
  rmapOne: string | null;
  /** The function that ran the walk (try_to_unmap, page_referenced, ...), when known. */
  client: string | null;
}

/** Statements whose try_to_unmap_one pass is try_to_munlock's (4.9 munlocks through try_to_unmap_one with TTU_MUNLOCK). */
const MUNLOCK_OPS = new Set(['munlock', 'mlock', 'munmap', 'exit']);

/** The passes of a statement's events, in order; `kernel` is the release the statement ran under. */
export function passesOf(
  events: readonly TraceEvent[],
  op = '',
  kernel: string = DEFAULT_OPTIONS.kernel,
): Pass[] {
  const passes: Pass[] = [];
  let open: Pass | null = null;
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    if (e.kind !== 'walk') continue;
    if (WALKERS.has(e.fn) && e.refs?.result === undefined && !open) {
      // The walker's lock is taken just before its first event (rmap_walk_anon_lock, i_mmap_lock_read).
      let from = i;
      while (from > 0 && events[from - 1].kind === 'lock' && /^down_/.test(events[from - 1].fn)) from--;
      open = { index: passes.length + 1, from, to: i, walker: e.fn, rmapOne: null, client: null };
      passes.push(open);
    } else if (open && isRmapOne(e.fn) && !open.rmapOne) {
      open.rmapOne = e.fn;
      const client = RMAP_ONE[e.fn];
      const named = client === 'try_to_unmap' && MUNLOCK_OPS.has(op) ? 'try_to_munlock' : client;
      open.client = named && nameIn(kernel, named);
    } else if (open && WALKERS.has(e.fn) && e.refs?.result !== undefined) {
      open.to = i;
      open = null;
    }
  }
  if (open) open.to = events.length - 1;
  return passes;
}

/** The pass event `i` belongs to, or null between passes. */
export function passAt(passes: readonly Pass[], i: number): Pass | null {
  for (const p of passes) if (i >= p.from && i <= p.to) return p;
  return null;
}

export interface VisitedVma {
  /** The `vma:<id>` graph node. */
  node: string;
  /** `avc:<id>` through which the anon walk reached it (none for file walks). */
  avc?: string;
  /** The address vma_address() computed for the page in this VMA. */
  addr?: number;
  /** 1-based visit order within its pass. */
  order: number;
  /** The PTE probe: 'found' | 'none', once probed. */
  pte?: string;
  /** The rmap_one result as the release returns it (SWAP_AGAIN, true, ...), once returned. */
  result?: string;
  /** Skipped by invalid_vma(). */
  skipped?: boolean;
}

export interface WalkState {
  /** The pass shown: the one at the cursor, or the last one before it. */
  pass: Pass | null;
  /** The `anon_vma:<id>`, `file:<name>` the pass started from. */
  root: string | null;
  /** The page being walked. */
  page: string | null;
  visited: VisitedVma[];
  /** The objects the event at the cursor is about (VMA, AVC), for the strongest highlight. */
  current: string[];
  /** The pass's result, once reached. */
  result: string | null;
}

/** Graph node ids of the objects an event refers to (same numeric ids as buildStateGraph's nodes). */
export function nodesOf(e: TraceEvent): string[] {
  const r = e.refs;
  if (!r) return [];
  const ids: string[] = [];
  if (r.mm !== undefined) ids.push(`mm:${r.mm}`);
  if (r.vma !== undefined) ids.push(`vma:${r.vma}`);
  if (r.avc !== undefined) ids.push(`avc:${r.avc}`);
  if (r.anonVma !== undefined) ids.push(`anon_vma:${r.anonVma}`);
  if (r.pfn !== undefined) ids.push(`page:${r.pfn}`);
  if (r.file !== undefined) ids.push(`file:${r.file}`);
  return ids;
}

/** The walk as seen after events `0 .. cursor` (inclusive), within the pass at (or last before) the cursor. */
export function walkStateAt(
  events: readonly TraceEvent[],
  cursor: number,
  passes = passesOf(events),
): WalkState {
  const st: WalkState = { pass: null, root: null, page: null, visited: [], current: [], result: null };
  const last = Math.min(cursor, events.length - 1);
  if (last < 0) return st;
  let pass: Pass | null = null;
  for (const p of passes) if (p.from <= last) pass = p;
  st.current = nodesOf(events[last]);
  if (!pass) return st;
  st.pass = pass;
  let open: VisitedVma | undefined;
  for (let i = pass.from; i <= Math.min(last, pass.to); i++) {
    const e = events[i];
    const r = e.refs ?? {};
    if (WALKERS.has(e.fn)) {
      if (r.result === undefined) {
        st.root =
          r.anonVma !== undefined ? `anon_vma:${r.anonVma}` : r.file !== undefined ? `file:${r.file}` : null;
        st.page = r.pfn !== undefined ? `page:${r.pfn}` : null;
      } else st.result = r.result;
    } else if (FOREACH.has(e.fn) && r.vma !== undefined) {
      open = {
        node: `vma:${r.vma}`,
        order: st.visited.length + 1,
        ...(r.avc !== undefined ? { avc: `avc:${r.avc}` } : {}),
        ...(r.addr !== undefined ? { addr: r.addr } : {}),
      };
      st.visited.push(open);
    } else if (e.fn === 'invalid_vma' && open) {
      open.skipped = true;
    } else if (PROBES.has(e.fn) && open && r.result !== undefined) {
      open.pte = r.result;
    } else if (isRmapOne(e.fn) && open && r.result !== undefined) {
      open.result = r.result;
    }
  }
  return st;
}
