/**
 * The state graph as the app draws it, and its layout. The graph is layered by construction
 * (process → VMA → anon_vma_chain → anon_vma → KSM → page, the way rmap links them), so a fixed rank
 * per kind plus barycentric ordering inside each rank gives a Sugiyama-style picture in linear time per
 * sweep: a full relayout of a 1,000-node state costs a few milliseconds, where a general layered
 * layout engine spends most of its time rediscovering the ranks we already know.
 */

/** Same shape as @rmaplab/scenario's StateGraph (kept structural so the layout is testable on its own). */
export interface GraphNodeData {
  id: string;
  kind: string;
  label: string;
  fields: Record<string, string | number | boolean | null>;
}
export interface GraphEdgeData {
  id: string;
  from: string;
  to: string;
  kind: string;
  label?: string;
}
export interface GraphData {
  nodes: GraphNodeData[];
  edges: GraphEdgeData[];
}

export const NODE_WIDTH = 190;
export const NODE_HEIGHT = 58;
const RANK_GAP = 90;
const ROW_GAP = 16;
/** A rank taller than this many nodes wraps into side-by-side columns, so 300 pages stay on screen. */
export const MAX_PER_COLUMN = 24;

/** Left-to-right rank of each kind of object. */
export const RANK: Readonly<Record<string, number>> = {
  process: 0,
  vma: 1,
  avc: 2,
  anon_vma: 3,
  address_space: 3,
  rmap_item: 4,
  stable_node: 5,
  page: 6,
};
const UNKNOWN_RANK = 7;

export interface Placed {
  x: number;
  y: number;
}

export interface Layout {
  positions: Map<string, Placed>;
  width: number;
  height: number;
}

function rankOf(kind: string): number {
  return RANK[kind] ?? UNKNOWN_RANK;
}

/** Group nodes by rank, each rank in the graph's own order (creation order, which keeps layouts stable across steps). */
function ranks(g: GraphData): string[][] {
  const out: string[][] = [];
  for (const n of g.nodes) {
    const r = rankOf(n.kind);
    (out[r] ??= []).push(n.id);
  }
  return out.filter((r) => r !== undefined);
}

/**
 * Reorder each rank by the mean position of its neighbours in the ranks already placed (one sweep
 * left to right, one back), the barycenter heuristic of Sugiyama et al. that keeps edges short and
 * crossings few. Nodes without placed neighbours keep their position.
 */
function orderRanks(layers: string[][], g: GraphData): void {
  const adj = new Map<string, string[]>();
  for (const e of g.edges) {
    if (e.from === e.to) continue;
    (adj.get(e.from) ?? adj.set(e.from, []).get(e.from)!).push(e.to);
    (adj.get(e.to) ?? adj.set(e.to, []).get(e.to)!).push(e.from);
  }
  const pos = new Map<string, number>();
  const layerOf = new Map<string, number>();
  for (let li = 0; li < layers.length; li++) {
    const layer = layers[li];
    for (let i = 0; i < layer.length; i++) {
      pos.set(layer[i], i / Math.max(1, layer.length));
      layerOf.set(layer[i], li);
    }
  }
  const sweep = (li: number, from: (other: number) => boolean): void => {
    const layer = layers[li];
    const key = new Map<string, number>();
    layer.forEach((id, i) => {
      let sum = 0;
      let count = 0;
      for (const n of adj.get(id) ?? []) {
        const ol = layerOf.get(n);
        if (ol === undefined || ol === li || !from(ol)) continue;
        sum += pos.get(n)!;
        count++;
      }
      key.set(id, count > 0 ? sum / count : i / Math.max(1, layer.length));
    });
    layer.sort((a, b) => key.get(a)! - key.get(b)!);
    for (let i = 0; i < layer.length; i++) pos.set(layer[i], i / Math.max(1, layer.length));
  };
  for (let li = 1; li < layers.length; li++) sweep(li, (o) => o < li);
  for (let li = layers.length - 2; li >= 0; li--) sweep(li, (o) => o > li);
}

/** Positions for every node: ranks left to right, each rank centred vertically, tall ranks wrapped. */
export function layoutGraph(g: GraphData): Layout {
  const layers = ranks(g);
  orderRanks(layers, g);
  const positions = new Map<string, Placed>();
  const tallest = Math.min(MAX_PER_COLUMN, Math.max(0, ...layers.map((l) => l.length)));
  const fullHeight = tallest * (NODE_HEIGHT + ROW_GAP);
  let x = 0;
  for (const layer of layers) {
    const columns = Math.ceil(layer.length / MAX_PER_COLUMN);
    const perColumn = Math.ceil(layer.length / columns);
    for (let c = 0; c < columns; c++) {
      const slice = layer.slice(c * perColumn, (c + 1) * perColumn);
      const top = (fullHeight - slice.length * (NODE_HEIGHT + ROW_GAP)) / 2;
      for (let i = 0; i < slice.length; i++)
        positions.set(slice[i], { x, y: top + i * (NODE_HEIGHT + ROW_GAP) });
      x += NODE_WIDTH + (c === columns - 1 ? RANK_GAP : ROW_GAP);
    }
  }
  return { positions, width: Math.max(0, x - RANK_GAP), height: fullHeight };
}

/** Horizontal reach of an edge's control points, so an edge leaves and enters its boxes level. */
const EDGE_BEND = 40;

/**
 * The SVG path of an edge between two placed boxes: a cubic from the facing sides (right of the left
 * box to left of the right one), or, between boxes of one column, a loop out of their right sides.
 * Plain path text, so every edge of a class can share one `<path>` element.
 */
export function edgePath(from: Placed, to: Placed): string {
  const fy = from.y + NODE_HEIGHT / 2;
  const ty = to.y + NODE_HEIGHT / 2;
  if (Math.abs(to.x - from.x) < NODE_WIDTH) {
    const x = Math.max(from.x, to.x) + NODE_WIDTH;
    return `M${from.x + NODE_WIDTH} ${fy}C${x + EDGE_BEND} ${fy} ${x + EDGE_BEND} ${ty} ${to.x + NODE_WIDTH} ${ty}`;
  }
  const forward = to.x > from.x;
  const sx = forward ? from.x + NODE_WIDTH : from.x;
  const tx = forward ? to.x : to.x + NODE_WIDTH;
  const bend = Math.max(EDGE_BEND, Math.abs(tx - sx) / 2) * (forward ? 1 : -1);
  return `M${sx} ${fy}C${sx + bend} ${fy} ${tx - bend} ${ty} ${tx} ${ty}`;
}

/** The one or two fields a node box shows under its label, by kind; the inspector shows them all. */
const SUMMARY: Readonly<Record<string, readonly string[]>> = {
  process: ['pid', 'map_count'],
  vma: ['vm_start', 'vm_pgoff', 'vm_flags'],
  avc: ['anon_vma', 'start'],
  anon_vma: ['refcount', 'degree', 'num_children', 'num_active_vmas'],
  address_space: ['i_mmap', 'nrpages'],
  page: ['_mapcount', 'flags', 'mapping'],
  stable_node: ['kpfn', 'hlist'],
  rmap_item: ['address', 'anon_vma'],
};

/** Up to two `name=value` summaries for a node box. */
export function summaryOf(n: GraphNodeData): string[] {
  const keys = SUMMARY[n.kind] ?? [];
  const out: string[] = [];
  for (const k of keys) {
    if (out.length === 2) break;
    const v = n.fields[k];
    if (v !== undefined && v !== null && v !== '') out.push(`${k}=${v}`);
  }
  return out;
}
