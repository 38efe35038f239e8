import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type GraphData,
  layoutGraph,
  MAX_PER_COLUMN,
  NODE_HEIGHT,
  NODE_WIDTH,
  RANK,
  summaryOf,
} from '../src/model/graph';

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

describe('layoutGraph', () => {
  it('places every node once, with no two boxes overlapping', () => {
    fc.assert(
      fc.property(arbGraph, (g) => {
        const { positions } = layoutGraph(g);
        expect(positions.size).toBe(g.nodes.length);
        const all = [...positions.values()];
        for (let i = 0; i < all.length; i++)
          for (let j = i + 1; j < all.length; j++) expect(overlaps(all[i], all[j])).toBe(false);
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
        { id: 'a', from: 'mm:1', to: 'vma:3', kind: 'mmap' },
        { id: 'b', from: 'mm:2', to: 'vma:4', kind: 'mmap' },
      ],
    };
    const p = layoutGraph(g).positions;
    expect(p.get('vma:3')!.y < p.get('vma:4')!.y).toBe(p.get('mm:1')!.y < p.get('mm:2')!.y);
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
