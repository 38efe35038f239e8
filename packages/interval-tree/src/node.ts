/**
 * A node of an {@link IntervalTree}. It plays the part of the kernel's `struct rb_node` embedded in
 * an interval-tree element (`struct interval_tree_node`, `vm_area_struct.shared.rb`,
 * `anon_vma_chain.rb`) together with the element's `start`, `last` and cached `__subtree_last`.
 *
 * Every field is initialised in the constructor, always in the same order, so that all nodes share
 * one hidden class (V8 "map") and every access in the tree's hot loops stays monomorphic.
 *
 * @internal The fields other than `start`, `last` and `value` belong to the tree: mutating them
 * corrupts it (which is exactly what the corruption tests do, to prove that `validate()` notices).
 */
export class IntervalTreeNode<V> {
  /** ITSTART: first index covered (inclusive). */
  declare readonly start: number;
  /** ITLAST: last index covered (inclusive). */
  declare readonly last: number;
  /** The payload the node carries (the kernel embeds the node in the payload instead). */
  declare readonly value: V;
  /** ITSUBTREE: the largest `last` in the subtree rooted here. */
  declare subtreeLast: number;
  declare left: IntervalTreeNode<V> | null;
  declare right: IntervalTreeNode<V> | null;
  declare parent: IntervalTreeNode<V> | null;
  /** Colour: `true` = red, `false` = black (the low bit of the kernel's `__rb_parent_color`). */
  declare red: boolean;
  /**
   * The membership token of the tree holding this node, or `null` once removed. Lets `remove()`,
   * `insertAfter()` and `iterNext()` reject foreign or stale nodes in O(1).
   */
  declare owner: object | null;

  constructor(start: number, last: number, value: V, owner: object) {
    // Hot fields first, so that a node's search-relevant part spans as few cache lines as possible.
    this.start = start;
    this.last = last;
    this.subtreeLast = last;
    this.left = null;
    this.right = null;
    this.parent = null;
    this.red = true;
    this.owner = owner;
    this.value = value;
  }
}
