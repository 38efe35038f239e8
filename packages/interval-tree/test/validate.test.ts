import { describe, expect, it } from 'vitest';
import { IntervalTree, type IntervalTreeNode } from '../src/index.js';

/** Internal access to a node's red-black fields, only to corrupt them on purpose. */
type Raw = IntervalTreeNode<number> & { start: number; last: number };

function build(n = 31) {
  const tree = new IntervalTree<number>();
  const nodes = Array.from({ length: n }, (_, i) => tree.insert(i * 2, i * 2 + 5, i) as Raw);
  tree.validate();
  const root = tree.root as unknown as Raw;
  return { tree, nodes, root };
}

describe('validate() detects corruption', () => {
  it('passes on healthy trees of many shapes', () => {
    for (let n = 0; n < 200; n++) build(n).tree.validate();
  });

  it('a wrong subtreeLast (too large or too small)', () => {
    const { tree, root } = build();
    root.subtreeLast += 1;
    expect(() => tree.validate()).toThrow(/subtreeLast/);
    root.subtreeLast -= 2;
    expect(() => tree.validate()).toThrow(/has subtreeLast \d+, expected \d+/);
  });

  it('a wrong subtreeLast deep in the tree', () => {
    const { tree, nodes } = build();
    const leaf = nodes.find((n) => n.left === null && n.right === null)!;
    leaf.subtreeLast = leaf.last - 1;
    expect(() => tree.validate()).toThrow(/subtreeLast/);
  });

  it('a red root', () => {
    const { tree, root } = build();
    root.red = true;
    expect(() => tree.validate()).toThrow(/root is red/);
  });

  it('a red node with a red child', () => {
    const { tree, nodes } = build(100);
    const n = nodes.find((x) => !x.red && x.left !== null && x.parent !== null && x.parent.red === false)!;
    n.red = true;
    n.left!.red = true;
    expect(() => tree.validate()).toThrow(/red child|black heights/);
  });

  it('unequal black heights (a flipped colour)', () => {
    const { tree, nodes } = build(100);
    const blackLeaf = nodes.find((x) => !x.red && x.left === null && x.right === null)!;
    blackLeaf.red = true;
    expect(() => tree.validate()).toThrow(/black heights differ|red child/);
  });

  it('a broken parent link', () => {
    const { tree, nodes, root } = build();
    const n = nodes.find((x) => x.parent !== null && x.parent !== root)!;
    n.parent = root;
    expect(() => tree.validate()).toThrow(/wrong parent link/);
  });

  it('broken BST order', () => {
    const { tree, root } = build();
    root.start = 1000;
    root.last = 2000;
    root.subtreeLast = 2000;
    expect(() => tree.validate()).toThrow(/BST order|subtreeLast/);
  });

  it('invalid endpoints inside a node', () => {
    const { tree, nodes } = build();
    nodes[5].last = nodes[5].start - 1;
    expect(() => tree.validate()).toThrow(/invalid endpoints|subtreeLast/);
  });

  it('a wrong size, a detached subtree, a cycle', () => {
    let t = build();
    (t.tree as unknown as { count: number }).count++;
    expect(() => t.tree.validate()).toThrow(/size/);
    t = build();
    t.root.left = null;
    expect(() => t.tree.validate()).toThrow(/size|black heights|subtreeLast|leftmost/);
    t = build();
    const leaf = t.nodes.find((x) => x.left === null && x.right === null)!;
    leaf.left = t.root;
    expect(() => t.tree.validate()).toThrow();
  });

  it('a stale cached leftmost', () => {
    const { tree, nodes } = build();
    (tree as unknown as { leftmost: unknown }).leftmost = nodes[1];
    expect(() => tree.validate()).toThrow(/leftmost/);
  });

  it('a node whose membership mark is wrong', () => {
    const { tree, nodes } = build();
    nodes[7].owner = {};
    expect(() => tree.validate()).toThrow(/not marked as a member/);
  });

  it('an empty tree with a non-zero size', () => {
    const tree = new IntervalTree<number>();
    (tree as unknown as { count: number }).count = 1;
    expect(() => tree.validate()).toThrow(/size is 1 but the tree is empty/);
  });
});
