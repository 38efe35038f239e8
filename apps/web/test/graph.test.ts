import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { drawn, drawnEdge } from '../src/model/edges';
import { EXAMPLES } from '../src/model/examples';
import {
  type Cell,
  edgeRoute,
  type GraphData,
  type Layout,
  layoutGraph,
  MAX_PER_COLUMN,
  NODE_HEIGHT,
  NODE_WIDTH,
  type Placed,
  RANK,
  ROW_PITCH,
  summaryOf,
} from '../src/model/graph';
import { runSession } from '../src/model/session';

const KINDS = Object.keys(RANK);

/** A random graph: nodes of the known kinds and edges between them. */
const arbGraph = fc.array(fc.constantFrom(...KINDS), { maxLength: 120 }).chain((kinds) =>
  fc
    .array(fc.tuple(fc.nat(Math.max(0, kinds.length - 1)), fc.nat(Math.max(0, kinds.length - 1))), {
      maxLength: kinds.length ? 200 : 0,
    })
    .map(
      (pairs): GraphData => ({
        nodes: kinds.map((kind, i) => ({ id: `${kind}:${i}`, kind, label: `${i}`, fields: {} })),
        edges: pairs.map(([a, b], i) => ({
          id: `e${i}`,
          from: `${kinds[a]}:${a}`,
          to: `${kinds[b]}:${b}`,
          kind: 'x',
        })),
      }),
    ),
);

function overlaps(a: { x: number; y: number }, b: { x: number; y: number }): boolean {
  return Math.abs(a.x - b.x) < NODE_WIDTH && Math.abs(a.y - b.y) < NODE_HEIGHT;
}

/** Whether the axis-parallel segment p–q passes through the inside of the box at c. */
function segmentHitsBox(p: Placed, q: Placed, c: Placed): boolean {
  const x0 = Math.min(p.x, q.x);
  const x1 = Math.max(p.x, q.x);
  const y0 = Math.min(p.y, q.y);
  const y1 = Math.max(p.y, q.y);
  return x1 > c.x + 0.5 && x0 < c.x + NODE_WIDTH - 0.5 && y1 > c.y + 0.5 && y0 < c.y + NODE_HEIGHT - 0.5;
}

/** Pairs of route segments of different edges that properly cross (perpendicular, interiors meeting). */
function crossings(l: Layout, g: GraphData): number {
  const segs: { e: number; p: Placed; q: Placed }[] = [];
  g.edges.forEach((raw, i) => {
    const e = drawnEdge(raw);
    const a = l.positions.get(e.from);
    const b = l.positions.get(e.to);
    if (!a || !b || e.from === e.to) return;
    const pts = edgeRoute(l, a, b).points;
    for (let k = 1; k < pts.length; k++) segs.push({ e: i, p: pts[k - 1], q: pts[k] });
  });
  let n = 0;
  for (let i = 0; i < segs.length; i++)
    for (let j = i + 1; j < segs.length; j++) {
      const s = segs[i];
      const t = segs[j];
      if (s.e === t.e) continue;
      const sv = s.p.x === s.q.x;
      const tv = t.p.x === t.q.x;
      if (sv === tv) continue;
      const [v, h] = sv ? [s, t] : [t, s];
      const x = v.p.x;
      const y = h.p.y;
      const inside = (a: number, b: number, z: number) =>
        z > Math.min(a, b) + 0.5 && z < Math.max(a, b) - 0.5;
      if (inside(h.p.x, h.q.x, x) && inside(v.p.y, v.q.y, y)) n++;
    }
  return n;
}

describe('layoutGraph', () => {
  it('places every node once, with no two boxes overlapping, on one row grid', () => {
    fc.assert(
      fc.property(arbGraph, (g) => {
        const { positions } = layoutGraph(g);
        expect(positions.size).toBe(g.nodes.length);
        const all = [...positions.values()];
        for (let i = 0; i < all.length; i++)
          for (let j = i + 1; j < all.length; j++) expect(overlaps(all[i], all[j])).toBe(false);
        // One grid for every column: the gaps between rows are free across the whole picture.
        for (const c of all) expect(c.y).toBe(c.row * ROW_PITCH);
      }),
      { numRuns: 60 },
    );
  });

  it('orders kinds left to right as rmap links them: process, VMA, AVC, anon_vma, page', () => {
    fc.assert(
      fc.property(arbGraph, (g) => {
        const { positions } = layoutGraph(g);
        for (const a of g.nodes)
          for (const b of g.nodes)
            if (RANK[a.kind] < RANK[b.kind])
              expect(positions.get(a.id)!.x).toBeLessThan(positions.get(b.id)!.x);
      }),
      { numRuns: 40 },
    );
  });

  it('wraps a tall rank into columns so no column exceeds the limit', () => {
    const g: GraphData = {
      nodes: Array.from({ length: 100 }, (_, i) => ({
        id: `page:${i}`,
        kind: 'page',
        label: '',
        fields: {},
      })),
      edges: [],
    };
    const columns = new Map<number, number>();
    for (const p of layoutGraph(g).positions.values()) columns.set(p.x, (columns.get(p.x) ?? 0) + 1);
    expect(columns.size).toBe(Math.ceil(100 / MAX_PER_COLUMN));
    for (const n of columns.values()) expect(n).toBeLessThanOrEqual(MAX_PER_COLUMN);
  });

  it('pulls a node next to its neighbour (barycenter ordering)', () => {
    // Two processes, each with one VMA, listed in the opposite order: the VMAs follow their owners.
    const g: GraphData = {
      nodes: [
        { id: 'mm:1', kind: 'process', label: 'A', fields: {} },
        { id: 'mm:2', kind: 'process', label: 'B', fields: {} },
        { id: 'vma:4', kind: 'vma', label: 'B heap', fields: {} },
        { id: 'vma:3', kind: 'vma', label: 'A heap', fields: {} },
      ],
      edges: [
        { id: 'a', from: 'mm:1', to: 'vma:3', kind: 'vma' },
        { id: 'b', from: 'mm:2', to: 'vma:4', kind: 'vma' },
      ],
    };
    const p = layoutGraph(g).positions;
    expect(p.get('vma:3')!.y < p.get('vma:4')!.y).toBe(p.get('mm:1')!.y < p.get('mm:2')!.y);
  });
});

describe('edgeRoute', () => {
  it('never runs through a box other than its two ends, for any graph and any edge', () => {
    fc.assert(
      fc.property(arbGraph, fc.integer({ min: -8, max: 8 }), (g, shift) => {
        const l = layoutGraph(g);
        const cells = [...l.positions.entries()];
        for (const e of g.edges) {
          const a = l.positions.get(e.from)!;
          const b = l.positions.get(e.to)!;
          if (e.from === e.to) continue;
          const pts = edgeRoute(l, a, b, shift).points;
          for (let k = 1; k < pts.length; k++)
            for (const [id, c] of cells) {
              if (id === e.from || id === e.to) continue;
              expect(segmentHitsBox(pts[k - 1], pts[k], c), `${e.from}→${e.to} crosses ${id}`).toBe(false);
            }
        }
      }),
      { numRuns: 60 },
    );
  });

  it('leaves the source box and enters the target box at their sides', () => {
    const l: Layout = { positions: new Map(), columns: [0, 310, 620], startY: 0, width: 820, height: 300 };
    const a: Cell = { x: 0, y: 0, col: 0, row: 0 };
    const b: Cell = { x: 620, y: 192, col: 2, row: 2 };
    const fwd = edgeRoute(l, a, b).points;
    expect(fwd[0]).toEqual({ x: NODE_WIDTH, y: NODE_HEIGHT / 2 });
    expect(fwd.at(-1)).toEqual({ x: 620, y: 192 + NODE_HEIGHT / 2 });
    const back = edgeRoute(l, b, a).points;
    expect(back[0]).toEqual({ x: 620, y: 192 + NODE_HEIGHT / 2 });
    expect(back.at(-1)).toEqual({ x: NODE_WIDTH, y: NODE_HEIGHT / 2 });
  });

  it('draws the kswapd example (before its reclaims) with few crossings', () => {
    const text = EXAMPLES.find((e) => e.name === '02-kswapd-reclaim')!.text;
    const s = runSession(text);
    const walk = s.steps.findIndex((x) => x.op === 'walk') + 1;
    const full = s.detail(walk).graph!;
    const g = { nodes: full.nodes, edges: full.edges.filter(drawn) };
    const l = layoutGraph(g);
    // Measured: the barycenter sweeps bring the four processes, their VMAs and AVCs into one order.
    expect(crossings(l, g)).toBeLessThanOrEqual(12);
  });
});

describe('summaryOf', () => {
  it('shows at most two known fields of the kind, skipping empty ones', () => {
    expect(
      summaryOf({
        id: 'page:3',
        kind: 'page',
        label: 'pfn 3',
        fields: { _mapcount: 1, flags: 'anon', x: 1 },
      }),
    ).toEqual(['_mapcount=1', 'flags=anon']);
    expect(
      summaryOf({
        id: 'vma:1',
        kind: 'vma',
        label: '',
        fields: { vm_start: null, vm_pgoff: 0, vm_flags: 'rd wr' },
      }),
    ).toEqual(['vm_pgoff=0', 'vm_flags=rd wr']);
  });
});
