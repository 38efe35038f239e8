/**
 * The kinds of edge the graph draws, each named after the kernel pointer (or page-table entry) it
 * stands for, in the direction the pointer points. buildStateGraph lists a VMA's anon_vma_chain as
 * VMA → AVC (the vma->anon_vma_chain list); the walk follows the AVC's own pointer to its VMA, so the
 * lab draws that one: AVC → VMA (avc->vma).
 */
import type { GraphData, GraphEdgeData } from './graph';

export interface EdgeKind {
  /** The state graph's edge kind. */
  kind: string;
  /** What the legend calls it. */
  label: string;
  /** A sentence for the legend's tooltip. */
  title: string;
  /** Draw it from `to` to `from`. */
  reverse?: boolean;
}

/** Every kind, in legend order; the index also picks its colour class (`edge-k<i>`). */
export const EDGE_KINDS: readonly EdgeKind[] = [
  { kind: 'pte', label: 'PTE', title: 'a page-table entry of the VMA maps the page' },
  { kind: 'mapping', label: 'page->mapping', title: 'the page points at its anon_vma, file or stable node' },
  {
    kind: 'anon_vma_chain',
    label: 'avc->vma',
    title: 'an anon_vma_chain points at its VMA',
    reverse: true,
  },
  { kind: 'avc_anon_vma', label: 'avc->anon_vma', title: 'an anon_vma_chain points at its anon_vma' },
  { kind: 'root', label: 'anon_vma->root', title: 'the root of the anon_vma family (holds the lock)' },
  { kind: 'parent', label: 'anon_vma->parent', title: 'the anon_vma of the parent process' },
  { kind: 'i_mmap', label: 'i_mmap', title: 'the file’s interval tree of VMAs mapping it, in tree order' },
  { kind: 'rmap_item', label: 'stable node → rmap_item', title: 'the stable node’s list of rmap_items' },
  { kind: 'kpfn', label: 'stable_node->kpfn', title: 'the KSM page the stable node stands for' },
  { kind: 'vma', label: 'mm → VMA', title: 'the process’s VMAs (mm->mmap)' },
  { kind: 'anon_vma', label: 'rmap_item->anon_vma', title: 'the anon_vma a KSM rmap_item walks' },
  { kind: 'mm', label: 'rmap_item->mm', title: 'the process an rmap_item belongs to' },
];

const INDEX = new Map(EDGE_KINDS.map((k, i) => [k.kind, i]));

/** The legend entry of an edge kind (unknown kinds share the last style). */
export function edgeKindIndex(kind: string): number {
  return INDEX.get(kind) ?? EDGE_KINDS.length;
}

export interface DrawnEdge {
  id: string;
  kind: string;
  from: string;
  to: string;
  label?: string;
}

/**
 * Whether the graph draws an edge. vma->anon_vma and vma->vm_file repeat what the AVCs and the
 * file's i_mmap already show (and the VMA's box names both); drawn, they only cross the walk's paths.
 */
export function drawn(e: GraphEdgeData): boolean {
  return e.kind !== 'vm_file' && !(e.kind === 'anon_vma' && e.from.startsWith('vma:'));
}

/** An edge in drawing direction. */
export function drawnEdge(e: GraphEdgeData): DrawnEdge {
  const k = EDGE_KINDS[edgeKindIndex(e.kind)];
  const base = { id: e.id, kind: e.kind, ...(e.label ? { label: e.label } : {}) };
  return k?.reverse ? { ...base, from: e.to, to: e.from } : { ...base, from: e.from, to: e.to };
}

/** The edge kinds present in a graph, in legend order. */
export function kindsIn(g: GraphData): EdgeKind[] {
  const present = new Set(g.edges.filter(drawn).map((e) => e.kind));
  return EDGE_KINDS.filter((k) => present.has(k.kind));
}
