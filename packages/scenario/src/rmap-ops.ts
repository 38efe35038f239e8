/**
 * The statements only a simulator offers (`walk`, `unmap`, `reclaim`, `referenced`, `migrate`,
 * `mkclean`) and `ksm`, bridged to @rmaplab/rmap and the KSM model.
 */
import type { Mm, MmSystem } from '@rmaplab/mm';
import type { Span, StatementOf } from './ast.js';
import type { GraphEdge, GraphNode } from './graph.js';

export type RmapOp = StatementOf<'walk' | 'unmap' | 'reclaim' | 'referenced' | 'migrate' | 'mkclean'>;

/** One VMA an rmap walk visited. */
export interface WalkVisit {
  /** `PROCESS:REGION:PAGE` where the VMA maps the page (by vma_address). */
  where: string;
  vma: number;
  address: number;
  /** What rmap_one returned (or `skipped` for invalid_vma). */
  result: string;
}

export interface OpReport {
  op: RmapOp['op'] | 'ksm';
  /** The page the statement acted on. */
  pfn?: number;
  /** SWAP_* result, reclaim outcome, referenced count, ... as one word. */
  result: string;
  visits: WalkVisit[];
  /** Extra lines for people. */
  details: string[];
}

export function installRmapFor(_sys: MmSystem): void {}

export function runRmapStatement(
  _sys: MmSystem,
  st: RmapOp,
  _mm: Mm,
  _addr: number,
  error: (span: Span, msg: string) => Error,
): OpReport {
  throw error(st.span, `${st.op} is not available yet`);
}

export function runKsm(_sys: MmSystem): OpReport {
  throw new Error('ksm is not available yet');
}

export function ksmExternal(_sys: MmSystem) {
  return {};
}

export function ksmGraph(
  _sys: MmSystem,
  _node: (n: GraphNode) => void,
  _edge: (from: string, to: string, kind: string, label?: string) => void,
): void {}
