import { describe, expect, it } from 'vitest';
import { type IntervalNode, type IntervalNodeView, IntervalTree } from '../src/index.js';

const values = <V>(it: Iterable<IntervalNode<V>>) => [...it].map((n) => n.value);

function visit<V>(tree: IntervalTree<V>, s: number, l: number): V[] {
  const out: V[] = [];
  for (let n = tree.iterFirst(s, l); n !== null; n = tree.iterNext(n, s, l)) out.push(n.value);
  return out;
}

describe('kernel semantics', () => {
  it('intervals are closed: touching endpoints intersect', () => {
    const tree = new IntervalTree<string>();
    tree.insert(10, 20, 'x');
    expect(visit(tree, 20, 30)).toEqual(['x']);
    expect(visit(tree, 0, 10)).toEqual(['x']);
    expect(visit(tree, 21, 30)).toEqual([]);
    expect(visit(tree, 0, 9)).toEqual([]);
    expect(visit(tree, 15, 15)).toEqual(['x']);
  });

  it('equal starts keep insertion order; order is by start, not by last', () => {
    const tree = new IntervalTree<string>();
    tree.insert(5, 9, 'a');
    tree.insert(1, 50, 'b');
    tree.insert(5, 6, 'c');
    tree.insert(5, 100, 'd');
    tree.insert(3, 3, 'e');
    tree.insert(5, 9, 'f');
    tree.validate();
    expect(values(tree)).toEqual(['b', 'e', 'a', 'c', 'd', 'f']);
    expect(visit(tree, 6, 7)).toEqual(['b', 'a', 'c', 'd', 'f']);
  });

  it('duplicates are separate nodes, each removable', () => {
    const tree = new IntervalTree<number>();
    const nodes = Array.from({ length: 50 }, (_, i) => tree.insert(7, 8, i));
    expect(values(tree.overlapping(8, 8))).toEqual(nodes.map((_, i) => i));
    for (let i = 0; i < 50; i += 2) tree.remove(nodes[i]);
    tree.validate();
    expect(values(tree)).toEqual(nodes.map((_, i) => i).filter((i) => i % 2 === 1));
  });

  it('iterFirst returns null at once when the cached leftmost starts after the query', () => {
    const tree = new IntervalTree<string>();
    tree.insert(100, 200, 'x');
    tree.insert(150, 160, 'y');
    expect(tree.iterFirst(0, 99)).toBeNull();
    expect(tree.iterFirst(201, 300)).toBeNull(); // root.subtreeLast < start
    expect(tree.iterFirst(0, 100)?.value).toBe('x');
    expect(tree.first()?.value).toBe('x');
  });

  it('iterNext continues from any matching node, including one found by another query', () => {
    const tree = new IntervalTree<number>();
    for (let i = 0; i < 20; i++) tree.insert(i, i + 3, i);
    const n = tree.iterFirst(10, 10);
    expect(n?.value).toBe(7);
    expect(tree.iterNext(n!, 10, 10)?.value).toBe(8);
    // Starting from a node with a different query is allowed (the kernel does not care either).
    expect(tree.iterNext(n!, 0, 100)?.value).toBe(8);
  });

  it('big values near 2^53, and the full query [0, MAX_SAFE_INTEGER]', () => {
    const M = Number.MAX_SAFE_INTEGER;
    const tree = new IntervalTree<string>();
    tree.insert(M, M, 'top');
    tree.insert(M - 1, M, 'near');
    tree.insert(0, M, 'all');
    tree.insert(2 ** 36, 2 ** 36 + 511, 'pgoff');
    tree.insert(2 ** 32 + 1, 2 ** 33, 'over-u32');
    tree.validate();
    expect(visit(tree, 0, M)).toEqual(['all', 'over-u32', 'pgoff', 'near', 'top']);
    expect(visit(tree, M, M)).toEqual(['all', 'near', 'top']);
    expect(visit(tree, 2 ** 36 + 511, 2 ** 36 + 511)).toEqual(['all', 'pgoff']);
    expect(visit(tree, 2 ** 33 + 1, 2 ** 36 - 1)).toEqual(['all']);
    expect(tree.root?.subtreeLast).toBe(M);
  });

  it('integral doubles (e.g. read from a Float64Array) work like integers', () => {
    const f = new Float64Array([3, 9, 3, 4]);
    const tree = new IntervalTree<string>();
    tree.insert(f[0], f[1], 'a');
    tree.insert(f[2], f[3], 'b');
    tree.insert(-0, 0, 'zero');
    tree.validate();
    expect(values(tree.overlapping(4, 4))).toEqual(['a', 'b']);
    expect(Object.is(tree.first()?.start, 0)).toBe(true);
  });
});

describe('insertAfter (vma_interval_tree_insert_after)', () => {
  it('goes right after prev, before later equal-start nodes', () => {
    const tree = new IntervalTree<string>();
    const p = tree.insert(10, 20, 'parent');
    tree.insert(10, 20, 'sibling');
    tree.insert(5, 30, 'before');
    tree.insert(11, 12, 'after');
    const c1 = tree.insertAfter(p, 20, 'child1');
    expect(c1.start).toBe(10);
    expect(values(tree)).toEqual(['before', 'parent', 'child1', 'sibling', 'after']);
    // A second fork of the same parent lands between the parent and the first child, as in the kernel.
    tree.insertAfter(p, 20, 'child2');
    // Forking the child puts the grandchild right after the child.
    tree.insertAfter(c1, 20, 'grandchild');
    tree.validate();
    expect(values(tree)).toEqual(['before', 'parent', 'child2', 'child1', 'grandchild', 'sibling', 'after']);
    expect(visit(tree, 15, 15)).toEqual(['before', 'parent', 'child2', 'child1', 'grandchild', 'sibling']);
  });

  it('links as the kernel does: right child if free, else left child of the right subtree’s leftmost node', () => {
    const tree = new IntervalTree<string>();
    const a = tree.insert(10, 10, 'a') as IntervalNodeView<string>;
    // a is the root with no right child: the new node becomes its right child.
    const b = tree.insertAfter(a, 10, 'b') as IntervalNodeView<string>;
    expect(a.right).toBe(b);
    expect(b.parent).toBe(a);
    // Now a has a right child (b, a leaf): the new node is b's left child.
    const c = tree.insertAfter(a, 10, 'c') as IntervalNodeView<string>;
    tree.validate();
    expect(values(tree)).toEqual(['a', 'c', 'b']);
    // After rebalancing c is the root with a and b as children.
    expect(tree.root).toBe(c);
    expect(c.left).toBe(a);
    expect(c.right).toBe(b);
  });

  it('propagates a larger last up the tree (the generic API allows last != prev.last)', () => {
    const tree = new IntervalTree<number>();
    const nodes = Array.from({ length: 64 }, (_, i) => tree.insert(i, i, i));
    const deep = nodes[3];
    tree.insertAfter(deep, 1000, 99);
    tree.validate();
    expect(tree.root?.subtreeLast).toBe(1000);
    expect(visit(tree, 500, 600)).toEqual([99]);
    expect(visit(tree, 3, 4)).toEqual([3, 99, 4]);
  });

  it('after the last node in tree order', () => {
    const tree = new IntervalTree<number>();
    for (let i = 0; i < 10; i++) tree.insert(i, i + 1, i);
    const last = [...tree].at(-1)!;
    tree.insertAfter(last, 9, 10);
    tree.validate();
    expect(values(tree)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
});

describe('navigation and helpers', () => {
  it('first / next / prev / iterator / root / has / clear', () => {
    const tree = new IntervalTree<number>();
    expect(tree.first()).toBeNull();
    expect(tree.last()).toBeNull();
    expect(tree.root).toBeNull();
    const nodes = [5, 3, 8, 1, 4, 7, 9, 3].map((s, i) => tree.insert(s, s + 2, i));
    expect(values(tree)).toEqual([3, 1, 7, 4, 0, 5, 2, 6]);
    const order = [...tree];
    expect(tree.last()).toBe(order[order.length - 1]);
    for (let i = 0; i < order.length; i++) {
      expect(tree.next(order[i])).toBe(order[i + 1] ?? null);
      expect(tree.prev(order[i])).toBe(order[i - 1] ?? null);
    }
    expect(tree.root?.red).toBe(false);
    expect(tree.has(nodes[0])).toBe(true);
    tree.clear();
    expect(tree.size).toBe(0);
    expect(tree.has(nodes[0])).toBe(false);
    expect([...tree]).toEqual([]);
  });

  it('overlapping() is a proper iterator', () => {
    const tree = new IntervalTree<number>();
    for (let i = 0; i < 5; i++) tree.insert(i, i + 1, i);
    const it = tree.overlapping(2, 3);
    expect(it[Symbol.iterator]()).toBe(it);
    expect(it.next()).toEqual({ done: false, value: expect.objectContaining({ value: 1 }) });
    expect([...it].map((n) => n.value)).toEqual([2, 3]);
    expect(it.next().done).toBe(true);
  });

  it('handles larger random workloads (validate + exact order against sort)', () => {
    const tree = new IntervalTree<number>();
    let seed = 12345;
    const rnd = (m: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % m;
    };
    const live: IntervalNode<number>[] = [];
    for (let i = 0; i < 20000; i++) {
      if (live.length > 0 && rnd(3) === 0) {
        const k = rnd(live.length);
        tree.remove(live[k]);
        live[k] = live[live.length - 1];
        live.pop();
      } else {
        const s = rnd(1000);
        live.push(tree.insert(s, s + rnd(50), i));
      }
    }
    tree.validate();
    const expected = [...live].sort((x, y) => x.start - y.start || x.value - y.value).map((n) => n.value);
    expect(values(tree)).toEqual(expected);
    const hits = visit(tree, 500, 510);
    expect(hits).toEqual(
      [...live]
        .filter((n) => n.start <= 510 && 500 <= n.last)
        .sort((x, y) => x.start - y.start || x.value - y.value)
        .map((n) => n.value),
    );
  });
});
