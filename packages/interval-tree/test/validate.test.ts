import { describe, expect, it } from 'vitest';
import { IntervalTree, type IntervalTreeNode, type NodeStore } from '../src/index.js';

type Node = IntervalTreeNode<number>;
type Store = NodeStore<number>;

/**
 * Writes a node's fields straight into the tree's arrays (see NodeStore), only to corrupt
 * them on purpose. Reads go through the handle's own view.
 */
function raw(n: Node) {
  const s = n.store as Store;
  const i = n.idx;
  const slot = (x: Node | null) => (x === null ? 0 : x.idx);
  return {
    set start(v: number) {
      s.start[i] = v;
    },
    set last(v: number) {
      s.last[i] = v;
    },
    set subtreeLast(v: number) {
      s.subtreeLast[i] = v;
    },
    set left(x: Node | null) {
      s.left[i] = slot(x);
    },
    set parent(x: Node | null) {
      s.parentColor[i] = (slot(x) << 1) | (s.parentColor[i] & 1);
    },
    set red(v: boolean) {
      s.parentColor[i] = (s.parentColor[i] & ~1) | (v ? 0 : 1);
    },
  };
}

function build(n = 31) {
  const tree = new IntervalTree<number>();
  const nodes = Array.from({ length: n }, (_, i) => tree.insert(i * 2, i * 2 + 5, i) as Node);
  tree.validate();
  const root = tree.root as unknown as Node;
  return { tree, nodes, root };
}

describe('validate() detects corruption', () => {
  it('passes on healthy trees of many shapes', () => {
    for (let n = 0; n < 200; n++) build(n).tree.validate();
  });

  it('a wrong subtreeLast (too large or too small)', () => {
    const { tree, root } = build();
    raw(root).subtreeLast = root.subtreeLast + 1;
    expect(() => tree.validate()).toThrow(/subtreeLast/);
    raw(root).subtreeLast = root.subtreeLast - 2;
    expect(() => tree.validate()).toThrow(/has subtreeLast \d+, expected \d+/);
  });

  it('a wrong subtreeLast deep in the tree', () => {
    const { tree, nodes } = build();
    const leaf = nodes.find((n) => n.left === null && n.right === null)!;
    raw(leaf).subtreeLast = leaf.last - 1;
    expect(() => tree.validate()).toThrow(/subtreeLast/);
  });

  it('a red root', () => {
    const { tree, root } = build();
    raw(root).red = true;
    expect(() => tree.validate()).toThrow(/root is red/);
  });

  it('a red node with a red child', () => {
    const { tree, nodes } = build(100);
    const n = nodes.find((x) => !x.red && x.left !== null && x.parent !== null && x.parent.red === false)!;
    raw(n).red = true;
    raw(n.left!).red = true;
    expect(() => tree.validate()).toThrow(/red child|black heights/);
  });

  it('unequal black heights (a flipped colour)', () => {
    const { tree, nodes } = build(100);
    const blackLeaf = nodes.find((x) => !x.red && x.left === null && x.right === null)!;
    raw(blackLeaf).red = true;
    expect(() => tree.validate()).toThrow(/black heights differ|red child/);
  });

  it('a broken parent link', () => {
    const { tree, nodes, root } = build();
    const n = nodes.find((x) => x.parent !== null && x.parent !== root)!;
    raw(n).parent = root;
    expect(() => tree.validate()).toThrow(/wrong parent link/);
  });

  it('broken BST order', () => {
    const { tree, root } = build();
    raw(root).start = 1000;
    raw(root).last = 2000;
    raw(root).subtreeLast = 2000;
    expect(() => tree.validate()).toThrow(/BST order|subtreeLast/);
  });

  it('invalid endpoints inside a node', () => {
    const { tree, nodes } = build();
    raw(nodes[5]).last = nodes[5].start - 1;
    expect(() => tree.validate()).toThrow(/invalid endpoints|subtreeLast/);
  });

  it('a wrong size, a detached subtree, a cycle', () => {
    let t = build();
    (t.tree as unknown as { count: number }).count++;
    expect(() => t.tree.validate()).toThrow(/size/);
    t = build();
    raw(t.root).left = null;
    expect(() => t.tree.validate()).toThrow(/size|black heights|subtreeLast|leftmost/);
    t = build();
    const leaf = t.nodes.find((x) => x.left === null && x.right === null)!;
    raw(leaf).left = t.root;
    expect(() => t.tree.validate()).toThrow();
  });

  it('a stale cached leftmost', () => {
    const { tree, nodes } = build();
    (tree as unknown as { leftmostIdx: number }).leftmostIdx = nodes[1].idx;
    expect(() => tree.validate()).toThrow(/leftmost/);
  });

  it('a node whose membership mark is wrong', () => {
    const { tree, nodes } = build();
    nodes[7].idx = nodes[8].idx; // the handle names another slot
    expect(() => tree.validate()).toThrow(/not marked as a member/);
  });

  it('a modified nil sentinel', () => {
    const { tree, root } = build();
    (root.store as Store).subtreeLast[0] = 0; // nil's subtreeLast must stay -1
    expect(() => tree.validate()).toThrow(/nil sentinel/);
  });

  it('a child link outside the store', () => {
    const { tree, nodes } = build();
    const leaf = nodes.find((x) => x.left === null && x.right === null)!;
    (leaf.store as Store).left[leaf.idx] = 10_000;
    expect(() => tree.validate()).toThrow(/outside the store|size/);
  });

  it('an empty tree with a non-zero size', () => {
    const tree = new IntervalTree<number>();
    (tree as unknown as { count: number }).count = 1;
    expect(() => tree.validate()).toThrow(/size is 1 but the tree is empty/);
  });
});
