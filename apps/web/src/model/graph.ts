/**
 * The state graph as the app draws it, and its layout. The graph is layered by construction
 * (process → VMA → anon_vma_chain → anon_vma → KSM → page, the way rmap links them), so a fixed rank
 * per kind plus barycentric ordering inside each rank gives a Sugiyama-style picture in linear time per
 * sweep: a full relayout of a 1,000-node state costs a few milliseconds, where a general layered
 * layout engine spends most of its time rediscovering the ranks we already know.
 *
 * Every column shares one row grid, so the gaps between rows ("lanes") and between columns
 * ("channels") are free of boxes in the whole picture: an edge that skips columns (a PTE from a VMA
 * to its page) runs along a channel, a lane and a channel, never behind a box.
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

export const NODE_WIDTH = 200;
export const NODE_HEIGHT = 70;
/** Between the columns of two ranks, and between the columns a tall rank wraps into. */
const RANK_GAP = 110;
const WRAP_GAP = 56;
/** Between rows: the lanes long edges run along. */
const ROW_GAP = 26;
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

/** Where a node is: its box's top-left corner and its cell in the column/row grid. */
export interface Cell extends Placed {
  col: number;
  row: number;
}

export interface Layout {
  positions: Map<string, Cell>;
  /** Left edge of every column, left to right. */
  columns: number[];
  /** Top of the first column's first box: where a reader starts (the processes). */
  startY: number;
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

/** Sweeps of the barycenter heuristic (down and up count as one); more stop paying off quickly. */
const SWEEPS = 3;

/**
 * Reorder each rank by the mean position of its neighbours in the other ranks (sweeps left to right
 * and back), the barycenter heuristic of Sugiyama et al. that keeps edges short and crossings few.
 * Nodes without neighbours on the side being swept keep their place.
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
    for (const id of layer) {
      let sum = 0;
      let count = 0;
      for (const n of adj.get(id) ?? []) {
        const ol = layerOf.get(n);
        if (ol === undefined || ol === li || !from(ol)) continue;
        sum += pos.get(n)!;
        count++;
      }
      key.set(id, count > 0 ? sum / count : pos.get(id)!);
    }
    layer.sort((a, b) => key.get(a)! - key.get(b)!);
    for (let i = 0; i < layer.length; i++) pos.set(layer[i], i / Math.max(1, layer.length));
  };
  for (let s = 0; s < SWEEPS; s++) {
    for (let li = 1; li < layers.length; li++) sweep(li, (o) => o < li);
    for (let li = layers.length - 2; li >= 0; li--) sweep(li, (o) => o > li);
  }
}

export const ROW_PITCH = NODE_HEIGHT + ROW_GAP;

/** Positions for every node: ranks left to right on one row grid, each column centred, tall ranks wrapped. */
export function layoutGraph(g: GraphData): Layout {
  const layers = ranks(g);
  orderRanks(layers, g);
  const positions = new Map<string, Cell>();
  const tallest = Math.min(MAX_PER_COLUMN, Math.max(0, ...layers.map((l) => l.length)));
  const columns: number[] = [];
  let x = 0;
  for (const layer of layers) {
    const count = Math.ceil(layer.length / MAX_PER_COLUMN);
    const perColumn = Math.ceil(layer.length / count);
    for (let c = 0; c < count; c++) {
      const slice = layer.slice(c * perColumn, (c + 1) * perColumn);
      const col = columns.length;
      columns.push(x);
      const top = Math.floor((tallest - slice.length) / 2);
      for (let i = 0; i < slice.length; i++)
        positions.set(slice[i], { x, y: (top + i) * ROW_PITCH, col, row: top + i });
      x += NODE_WIDTH + (c === count - 1 ? RANK_GAP : WRAP_GAP);
    }
  }
  const width = columns.length ? x - RANK_GAP : 0;
  const first = layers[0]?.[0];
  const startY = first ? positions.get(first)!.y : 0;
  return { positions, columns, startY, width, height: Math.max(0, tallest * ROW_PITCH - ROW_GAP) };
}

/** The gap to the right of column `col` (the last column gets a rank gap, where loops and channels go). */
function gapAfter(l: Layout, col: number): number {
  return col + 1 < l.columns.length ? l.columns[col + 1] - l.columns[col] - NODE_WIDTH : RANK_GAP;
}
function gapBefore(l: Layout, col: number): number {
  return col > 0 ? gapAfter(l, col - 1) : RANK_GAP;
}

/** A route: the polyline an edge follows, and whether it is drawn as one S-curve between adjacent columns. */
export interface Route {
  points: Placed[];
  curve: boolean;
}

/**
 * The route of an edge between two placed boxes. `shift` (a few pixels, by edge kind) separates
 * edges of different kinds that share a channel or a lane. Forward edges leave the right side and
 * enter the left side; backward edges the other way round; edges inside one column loop out of the
 * right sides. Between adjacent columns the route stays inside the gap between them; otherwise it
 * goes down the channel beside the source column, along the lane beside the target row, and up the
 * channel beside the target column.
 */
export function edgeRoute(l: Layout, a: Cell, b: Cell, shift = 0): Route {
  const ay = a.y + NODE_HEIGHT / 2;
  const by = b.y + NODE_HEIGHT / 2;
  if (a.col === b.col) {
    const cx = a.x + NODE_WIDTH + gapAfter(l, a.col) / 4 + shift;
    return {
      points: [
        { x: a.x + NODE_WIDTH, y: ay + shift },
        { x: cx, y: ay + shift },
        { x: cx, y: by - shift },
        { x: b.x + NODE_WIDTH, y: by - shift },
      ],
      curve: false,
    };
  }
  const forward = b.col > a.col;
  const sx = forward ? a.x + NODE_WIDTH : a.x;
  const tx = forward ? b.x : b.x + NODE_WIDTH;
  if (Math.abs(b.col - a.col) === 1) {
    const mid = (sx + tx) / 2 + shift;
    return {
      points: [
        { x: sx, y: ay },
        { x: mid, y: ay },
        { x: mid, y: by },
        { x: tx, y: by },
      ],
      curve: true,
    };
  }
  const c1 = forward ? sx + gapAfter(l, a.col) / 2 + shift : sx - gapBefore(l, a.col) / 2 - shift;
  const c2 = forward ? tx - gapBefore(l, b.col) / 2 - shift : tx + gapAfter(l, b.col) / 2 + shift;
  // The lane on the side of the target row that faces the source row (its own row: below it).
  const lane = b.row > a.row ? b.y - ROW_GAP / 2 + shift / 2 : b.y + NODE_HEIGHT + ROW_GAP / 2 + shift / 2;
  return {
    points: [
      { x: sx, y: ay },
      { x: c1, y: ay },
      { x: c1, y: lane },
      { x: c2, y: lane },
      { x: c2, y: by },
      { x: tx, y: by },
    ],
    curve: false,
  };
}

const CORNER = 8;

/** SVG path text of a route: an S-curve, or the polyline with rounded corners. */
export function routePath(r: Route): string {
  const p = r.points;
  const f = (n: number) => Math.round(n * 10) / 10;
  if (r.curve) {
    const [s, c1, c2, e] = p;
    return `M${f(s.x)} ${f(s.y)}C${f(c1.x)} ${f(c1.y)} ${f(c2.x)} ${f(c2.y)} ${f(e.x)} ${f(e.y)}`;
  }
  let d = `M${f(p[0].x)} ${f(p[0].y)}`;
  for (let i = 1; i < p.length - 1; i++) {
    const prev = p[i - 1];
    const cur = p[i];
    const next = p[i + 1];
    const r1 = Math.min(CORNER, dist(prev, cur) / 2);
    const r2 = Math.min(CORNER, dist(cur, next) / 2);
    const a = toward(cur, prev, r1);
    const b = toward(cur, next, r2);
    d += `L${f(a.x)} ${f(a.y)}Q${f(cur.x)} ${f(cur.y)} ${f(b.x)} ${f(b.y)}`;
  }
  const last = p[p.length - 1];
  return `${d}L${f(last.x)} ${f(last.y)}`;
}

function dist(a: Placed, b: Placed): number {
  return Math.abs(a.x - b.x) + Math.abs(a.y - b.y);
}
function toward(from: Placed, to: Placed, by: number): Placed {
  const d = dist(from, to);
  if (d === 0) return from;
  return { x: from.x + ((to.x - from.x) * by) / d, y: from.y + ((to.y - from.y) * by) / d };
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
