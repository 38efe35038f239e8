import { describe, expect, it } from 'vitest';
import {
  type IntervalNode,
  IntervalTree,
  type IntervalTreeNode,
  type NodeStore,
  RELAYOUT_MIN_NODES,
} from '../src/index.js';

type Node = IntervalTreeNode<number>;

/** The tree's node store and the slots of its nodes in tree order (internal; for these tests only). */
function slotsInTreeOrder(tree: IntervalTree<number>): number[] {
  return [...tree].map((n) => (n as Node).idx);
}
function storeOf(tree: IntervalTree<number>): NodeStore<number> {
  return (tree as unknown as { store: NodeStore<number> }).store;
}

/** A deterministic shuffle (LCG), so the slot order starts far from tree order. */
function shuffled(n: number): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  let x = 12345;
  for (let i = n - 1; i > 0; i--) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    const j = x % (i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

function build(n: number, relayoutMinNodes?: number) {
  const tree = new IntervalTree<number>({ relayoutMinNodes });
  const handles = new Map<number, IntervalNode<number>>();
  for (const k of shuffled(n)) handles.set(k, tree.insert(k, k + (k % 7), k));
  return { tree, handles };
}

const isAscending = (xs: number[]) => xs.every((x, i) => i === 0 || xs[i - 1] < x);

describe('relayout: the node arrays rewritten in tree order', () => {
  it('a walk on a large, freshly built tree puts slots in tree order and keeps every handle', () => {
    const n = RELAYOUT_MIN_NODES;
    const { tree, handles } = build(n);
    expect(isAscending(slotsInTreeOrder(tree))).toBe(false);
    const before = [...tree].map((h) => [h.start, h.last, h.value]);
    expect(tree.iterFirst(0, 0)?.value).toBe(0);
    expect(slotsInTreeOrder(tree)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect([...tree].map((h) => [h.start, h.last, h.value])).toEqual(before);
    tree.validate();
    // Spare capacity is trimmed to an eighth.
    expect(storeOf(tree).capacity).toBe(n + (n >> 3));
    // Old handles still work for every operation.
    const h = handles.get(500)!;
    expect(tree.has(h)).toBe(true);
    const after = tree.insertAfter(h, 600, -1);
    expect(tree.next(h)).toBe(after);
    tree.remove(h);
    expect(() => tree.remove(h)).toThrow(/already removed/);
    expect(h.value).toBe(500);
    tree.validate();
  });

  it('does not happen below the size threshold, nor until a quarter of the nodes changed', () => {
    const small = build(RELAYOUT_MIN_NODES - 1).tree;
    small.iterFirst(0, 0);
    expect(isAscending(slotsInTreeOrder(small))).toBe(false);

    const { tree, handles } = build(4000, 0);
    tree.iterFirst(0, 0); // relayout
    for (let k = 0; k < 999; k++) tree.remove(handles.get(k * 4)!);
    for (let k = 0; k < 999; k++) tree.insert(k * 4, k * 4, k * 4);
    // 1,998 changes on 4,000 nodes: under a quarter? No: 1,998 * 4 >= 4,000, so the next walk relayouts.
    // First check the layout before that walk is not in tree order (reused slots).
    expect(isAscending(slotsInTreeOrder(tree))).toBe(false);
    tree.iterFirst(0, 0);
    expect(isAscending(slotsInTreeOrder(tree))).toBe(true);
    // Few changes since: no rewrite.
    tree.insert(1, 1, 1);
    tree.iterFirst(0, 0);
    expect(isAscending(slotsInTreeOrder(tree))).toBe(false);
    tree.validate();
  });

  it('Infinity disables it', () => {
    const { tree } = build(RELAYOUT_MIN_NODES, Number.POSITIVE_INFINITY);
    tree.iterFirst(0, 0);
    expect(isAscending(slotsInTreeOrder(tree))).toBe(false);
    expect(() => new IntervalTree({ relayoutMinNodes: -1 })).toThrow(RangeError);
    expect(() => new IntervalTree({ relayoutMinNodes: Number.NaN })).toThrow(/relayoutMinNodes/);
  });

  it('a walk nested inside another, relayouting mid-walk, leaves the outer walk correct', () => {
    const { tree } = build(3000, 0);
    const expected = [...tree].filter((h) => h.start <= 2000 && 1000 <= h.last).map((h) => h.value);
    const got: number[] = [];
    let first = true;
    for (let x = tree.iterFirst(1000, 2000); x !== null; x = tree.iterNext(x, 1000, 2000)) {
      got.push(x.value);
      if (first) {
        // Make a quarter of the tree change, then start another walk: it relayouts under the outer one.
        first = false;
        const extra = Array.from({ length: 1000 }, (_, i) => tree.insert(5000 + i, 5000 + i, -i));
        expect([...tree.overlapping(5000, 5999)]).toHaveLength(1000);
        for (const h of extra) tree.remove(h);
      }
    }
    expect(got).toEqual(expected);
    tree.validate();
  });
});
