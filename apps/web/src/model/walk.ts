/**
 * The walk view's model: a pure reducer from a statement's trace events, up to a cursor, to what the
 * graph highlights. Play, step and scrub only move the cursor; nothing here depends on time.
 */
import type { TraceEvent } from '@rmaplab/mm';
import { RMAP_ONE } from './kernel-code';

/** Walk statements: the ones whose events the walk view animates. */
export const WALK_OPS: ReadonlySet<string> = new Set([
  'walk',
  'unmap',
  'reclaim',
  'migrate',
  'referenced',
  'mkclean',
]);

export interface VisitedVma {
  /** The `vma:<id>` graph node. */
  node: string;
  /** `avc:<id>` through which the anon walk reached it (none for file walks). */
  avc?: string;
  /** The address vma_address() computed for the page in this VMA. */
  addr?: number;
  /** 1-based visit order. */
  order: number;
  /** page_check_address(): 'found' | 'none', once probed. */
  pte?: string;
  /** The rmap_one result (SWAP_AGAIN, SWAP_FAIL, ...), once returned. */
  result?: string;
  /** Skipped by invalid_vma(). */
  skipped?: boolean;
}

export interface WalkState {
  /** The `anon_vma:<id>`, `file:<name>` or `stable_node:<id>` the walk started from. */
  root: string | null;
  /** The page being walked. */
  page: string | null;
  visited: VisitedVma[];
  /** The object the event at the cursor is about (VMA, AVC), for the strongest highlight. */
  current: string[];
  /** The final result of the walk or its client, once reached. */
  result: string | null;
}

/** Graph node ids of the objects an event refers to (same numeric ids as buildGraph's nodes). */
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

const STARTS = new Set(['rmap_walk_anon', 'rmap_walk_file', 'rmap_walk_ksm']);
const VISITS = new Set(['anon_vma_interval_tree_foreach', 'vma_interval_tree_foreach']);

/** The walk as seen after events `0 .. cursor` (inclusive). */
export function walkStateAt(events: readonly TraceEvent[], cursor: number): WalkState {
  const st: WalkState = { root: null, page: null, visited: [], current: [], result: null };
  const last = Math.min(cursor, events.length - 1);
  let open: VisitedVma | undefined;
  for (let i = 0; i <= last; i++) {
    const e = events[i];
    const r = e.refs ?? {};
    if (STARTS.has(e.fn) && r.result === undefined) {
      if (st.root === null) {
        st.root =
          r.anonVma !== undefined ? `anon_vma:${r.anonVma}` : r.file !== undefined ? `file:${r.file}` : null;
        st.page = r.pfn !== undefined ? `page:${r.pfn}` : null;
      }
    } else if (VISITS.has(e.fn) && r.vma !== undefined) {
      open = {
        node: `vma:${r.vma}`,
        order: st.visited.length + 1,
        ...(r.avc !== undefined ? { avc: `avc:${r.avc}` } : {}),
        ...(r.addr !== undefined ? { addr: r.addr } : {}),
      };
      st.visited.push(open);
    } else if (e.fn === 'invalid_vma' && open) {
      open.skipped = true;
    } else if (e.fn === 'page_check_address' && open && r.result !== undefined) {
      open.pte = r.result;
    } else if (RMAP_ONE.has(e.fn) && open && r.result !== undefined) {
      open.result = r.result;
    } else if (r.result !== undefined && !RMAP_ONE.has(e.fn) && e.fn !== 'page_check_address') {
      // The walker's and then its client's final result (try_to_unmap turns SWAP_AGAIN into SWAP_SUCCESS).
      st.result = r.result;
    }
    if (i === last) st.current = nodesOf(e);
  }
  return st;
}
