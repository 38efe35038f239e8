/**
 * Node storage. The kernel embeds a `struct rb_node` plus `__subtree_last` in every element
 * (`struct interval_tree_node`, `vm_area_struct.shared.rb`, `anon_vma_chain.rb`). Here the tree keeps
 * those fields for all of its nodes in typed arrays (a {@link NodeStore}), and hands out small
 * {@link IntervalTreeNode} handles that name a slot. A walk then reads compact, contiguous memory, and
 * the tree can rewrite the arrays in tree order (see `IntervalTree`) so that a long walk streams
 * through them instead of chasing pointers across the heap.
 *
 * Slot 0 is the nil sentinel (the kernel's NULL child): its `subtreeLast` is -1, below every valid
 * `start`, so "descend if `start <= child.subtreeLast`" needs no null test, and it is black.
 */

/** The nil sentinel slot. */
export const NIL = 0;

/**
 * One generation of a tree's node storage (`clear()` starts a new one, so older handles are rejected),
 * as parallel arrays indexed by slot:
 * - `start`, `last`, `subtreeLast`: ITSTART, ITLAST and ITSUBTREE;
 * - `left`, `right`: child slots (NIL for none); a free slot's `left` links the free list;
 * - `parentColor`: parent slot << 1 | colour, the kernel's `__rb_parent_color` (1 = black, 0 = red);
 * - `H`: the handle of each slot, `null` for a free slot.
 */
export class NodeStore<V> {
  // `declare`: fields are created by the constructor's assignments only, never first as `undefined`,
  // so V8 keeps their representation exact and the hot loops' typed-array accesses fast.
  declare start: Float64Array;
  declare last: Float64Array;
  declare subtreeLast: Float64Array;
  declare left: Int32Array;
  declare right: Int32Array;
  declare parentColor: Int32Array;
  declare H: (IntervalTreeNode<V> | null)[];
  /** Slots `1 … hi` have been handed out at some point; the rest of the capacity is unused. */
  declare hi: number;
  /** Head of the free-slot list (through `left`), or NIL. */
  declare free: number;

  constructor(capacity: number) {
    this.allocate(capacity);
    this.H = [null];
    this.hi = 0;
    this.free = NIL;
  }

  /** Slots the arrays can hold (not counting nil). */
  get capacity(): number {
    return this.left.length - 1;
  }

  /** A free slot: the most recently freed one, else a fresh one (growing the arrays by a quarter when full). */
  alloc(): number {
    const f = this.free;
    if (f !== NIL) {
      this.free = this.left[f];
      return f;
    }
    const n = ++this.hi;
    if (n > this.capacity) this.grow(Math.max(4, n + (n >> 2)));
    if (n === this.H.length) this.H.push(null);
    return n;
  }

  /** Puts slot `n` on the free list. */
  release(n: number): void {
    this.left[n] = this.free;
    this.free = n;
    this.H[n] = null;
  }

  /**
   * Forgets every slot (the tree is empty) while keeping the capacity, so that refilling hands out
   * slots 1, 2, 3, … again: consecutive inserts then write neighbouring memory instead of the
   * scattered slots the free list would give back.
   */
  reset(): void {
    this.hi = 0;
    this.free = NIL;
  }

  /**
   * Fresh, zeroed arrays for `capacity` slots plus nil (subtreeLast -1, below every start; black), as
   * views of one buffer: 36 bytes a slot, and one allocation per tree rather than six.
   */
  allocate(capacity: number): void {
    const n = capacity + 1;
    const buffer = new ArrayBuffer(36 * n);
    this.start = new Float64Array(buffer, 0, n);
    this.last = new Float64Array(buffer, 8 * n, n);
    this.subtreeLast = new Float64Array(buffer, 16 * n, n);
    this.left = new Int32Array(buffer, 24 * n, n);
    this.right = new Int32Array(buffer, 28 * n, n);
    this.parentColor = new Int32Array(buffer, 32 * n, n);
    this.subtreeLast[NIL] = -1;
    this.parentColor[NIL] = 1;
  }

  private grow(capacity: number): void {
    const { start, last, subtreeLast, left, right, parentColor } = this;
    this.allocate(capacity);
    this.start.set(start);
    this.last.set(last);
    this.subtreeLast.set(subtreeLast);
    this.left.set(left);
    this.right.set(right);
    this.parentColor.set(parentColor);
  }
}

/**
 * A node of an {@link IntervalTree}, as its caller sees it: a stable handle, valid until removed, like a
 * pointer to a kernel `struct interval_tree_node`. Its fields are read from the tree, so once the node
 * is removed only `value` remains (the numbers read NaN, the links null). Removal writes no new object
 * into the handle, which matters when handles outlive their nodes in the old generation of V8's heap.
 *
 * @internal `store` and `idx` belong to the tree: changing them corrupts it.
 */
export class IntervalTreeNode<V> {
  /** The storage generation holding this node, or `null` once removed. */
  declare store: NodeStore<V> | null;
  /** The slot in `store` (moved by the tree when it rewrites its arrays in tree order). */
  declare idx: number;
  /** The payload the node carries (the kernel embeds the node in the payload instead). */
  declare readonly value: V;

  constructor(store: NodeStore<V>, idx: number, value: V) {
    this.store = store;
    this.idx = idx;
    this.value = value;
  }

  /** ITSTART: first index covered (inclusive). */
  get start(): number {
    const s = this.store;
    return s !== null ? s.start[this.idx] : Number.NaN;
  }

  /** ITLAST: last index covered (inclusive). */
  get last(): number {
    const s = this.store;
    return s !== null ? s.last[this.idx] : Number.NaN;
  }

  /** ITSUBTREE (`__subtree_last`): the largest `last` in this node's subtree. */
  get subtreeLast(): number {
    const s = this.store;
    return s !== null ? s.subtreeLast[this.idx] : Number.NaN;
  }

  get left(): IntervalTreeNode<V> | null {
    const s = this.store;
    return s !== null ? s.H[s.left[this.idx]] : null;
  }

  get right(): IntervalTreeNode<V> | null {
    const s = this.store;
    return s !== null ? s.H[s.right[this.idx]] : null;
  }

  get parent(): IntervalTreeNode<V> | null {
    const s = this.store;
    return s !== null ? s.H[s.parentColor[this.idx] >> 1] : null;
  }

  /** Colour: `true` = red, `false` = black (the low bit of the kernel's `__rb_parent_color`). */
  get red(): boolean {
    const s = this.store;
    return s !== null && (s.parentColor[this.idx] & 1) === 0;
  }
}
