import { IntervalTreeNode, NIL, NodeStore } from './node.js';

/**
 * What the tree hands out for every stored interval: a stable handle that stays valid until it is
 * removed, like a pointer to a kernel `struct interval_tree_node`.
 */
export interface IntervalNode<V> {
  /** ITSTART: first index covered (inclusive). */
  readonly start: number;
  /** ITLAST: last index covered (inclusive). */
  readonly last: number;
  /** The payload given to `insert()` / `insertAfter()`. */
  readonly value: V;
}

/**
 * A read-only view of a node's red-black and augmentation fields, for visualisers and debugging
 * (see {@link IntervalTree.root}).
 */
export interface IntervalNodeView<V> extends IntervalNode<V> {
  /** ITSUBTREE (`__subtree_last`): the largest `last` in this node's subtree. */
  readonly subtreeLast: number;
  readonly left: IntervalNodeView<V> | null;
  readonly right: IntervalNodeView<V> | null;
  readonly parent: IntervalNodeView<V> | null;
  /** `true` for a red node, `false` for a black one. */
  readonly red: boolean;
}

/** Construction options of an {@link IntervalTree}. */
export interface IntervalTreeOptions {
  /**
   * Smallest size at which a walk may first rewrite the node arrays in tree order (default
   * {@link RELAYOUT_MIN_NODES}; `Infinity` never does, 0 always may). It changes speed, never results.
   */
  relayoutMinNodes?: number;
}

type Node<V> = IntervalTreeNode<V>;

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/**
 * By default, a walk (`iterFirst`) first rewrites the node arrays in tree order once at least this many nodes are
 * stored and a quarter of them have been inserted or removed since the last rewrite. Below it, a
 * tree's arrays (about 44 bytes a node) fit in a 512 KiB–1 MiB L2 cache whatever their order.
 */
export const RELAYOUT_MIN_NODES = 16_384;

/** A store of any payload: the helpers below touch only the typed arrays. */
type Store = NodeStore<unknown>;

function describe(x: unknown): string {
  if (typeof x === 'number') return Object.is(x, -0) ? '-0' : String(x);
  if (typeof x === 'bigint') return `${x}n (a bigint)`;
  if (typeof x === 'string') return JSON.stringify(x);
  return String(x);
}

/** Builds the error for an invalid endpoint pair (kept out of the hot paths). */
function intervalError(what: string, start: unknown, last: unknown): Error {
  for (const [name, v] of [
    ['start', start],
    ['last', last],
  ] as const) {
    if (typeof v !== 'number') {
      return new TypeError(`${what}: ${name} must be a number, got ${typeof v} ${describe(v)}`);
    }
    if (!Number.isSafeInteger(v) || v < 0) {
      return new RangeError(`${what}: ${name} must be a non-negative safe integer, got ${describe(v)}`);
    }
  }
  return new RangeError(
    `${what}: start must be <= last (closed interval [start, last]), got [${describe(start)}, ${describe(last)}]`,
  );
}

function validRange(start: number, last: number): boolean {
  return start >= 0 && start <= last && last <= MAX_SAFE && Number.isInteger(start) && Number.isInteger(last);
}

// Red-black field helpers over parentColor (`rb_parent()`, `rb_is_red()`, … in rbtree_augmented.h).

function parentOf(s: Store, n: number): number {
  return s.parentColor[n] >> 1;
}
function isRed(s: Store, n: number): boolean {
  return (s.parentColor[n] & 1) === 0; // nil is black
}
function setParent(s: Store, n: number, p: number): void {
  s.parentColor[n] = (p << 1) | (s.parentColor[n] & 1);
}
function setBlack(s: Store, n: number): void {
  s.parentColor[n] |= 1;
}
function setRed(s: Store, n: number): void {
  s.parentColor[n] &= ~1;
}
/** ITSUBTREE recomputation: max of the node's own `last` and its children's `subtreeLast` (nil's is -1). */
function computeSubtreeLast(s: Store, n: number): number {
  let max = s.last[n];
  const l = s.subtreeLast[s.left[n]];
  const r = s.subtreeLast[s.right[n]];
  if (l > max) max = l;
  if (r > max) max = r;
  return max;
}

/**
 * Augment "propagate" callback (RB_DECLARE_CALLBACKS(_MAX)): recompute upwards from `n` until `stop`
 * (exclusive), stopping early once a value does not change.
 */
function augmentPropagate(s: Store, n: number, stop: number): void {
  while (n !== stop && n !== NIL) {
    const v = computeSubtreeLast(s, n);
    if (s.subtreeLast[n] === v) break;
    s.subtreeLast[n] = v;
    n = parentOf(s, n);
  }
}

/** Augment "rotate" callback: the new subtree top inherits the old top's value; the old top is recomputed. */
function augmentRotate(s: Store, oldTop: number, newTop: number): void {
  s.subtreeLast[newTop] = s.subtreeLast[oldTop];
  s.subtreeLast[oldTop] = computeSubtreeLast(s, oldTop);
}

/**
 * `_subtree_search()` — include/linux/interval_tree_generic.h.
 * Leftmost node of `n`'s subtree that intersects [start, last], or NIL; requires `start <= n.subtreeLast`.
 */
function subtreeSearch(s: Store, n: number, start: number, last: number): number {
  const { left: L, right: R, subtreeLast: Sub } = s;
  for (;;) {
    const left = L[n];
    if (start <= Sub[left]) {
      // Some nodes in the left subtree satisfy Cond2; the leftmost match, if any, is there.
      n = left;
      continue;
    }
    if (s.start[n] <= last) {
      // Cond1 holds here.
      if (start <= s.last[n]) return n; // Cond2 too: a match.
      const right = R[n];
      if (start <= Sub[right]) {
        n = right;
        continue;
      }
    }
    return NIL;
  }
}

/** `rb_next()` over slots. */
function nextSlot(s: Store, n: number): number {
  let r = s.right[n];
  if (r !== NIL) {
    for (let l = s.left[r]; l !== NIL; l = s.left[r]) r = l;
    return r;
  }
  let p = parentOf(s, n);
  while (p !== NIL && n === s.right[p]) {
    n = p;
    p = parentOf(s, p);
  }
  return p;
}

/**
 * The Linux kernel's interval tree (`INTERVAL_TREE_DEFINE`, include/linux/interval_tree_generic.h):
 * an augmented red-black tree over closed intervals `[start, last]`, keyed by `start`, in which
 * every node caches `subtreeLast`, the largest `last` in its subtree, and the root caches the
 * leftmost node (`struct rb_root_cached`).
 *
 * - Endpoints are non-negative safe integers (0 … 2^53 - 1); duplicates are allowed.
 * - Tree order is ascending `start`; equal starts keep insertion order, because an insert goes left
 *   only when `start < node.start`. `insertAfter()` places a node right after another with the same start.
 * - Queries (`iterFirst`/`iterNext`, `overlapping`) visit every intersecting node once, in tree order.
 *
 * Representation: the nodes' keys and links live in typed arrays (see {@link NodeStore}), indexed by
 * slot. Inserts take free slots, so after many changes tree order and slot order disagree and a long
 * walk jumps around memory. When a walk starts on a large tree that changed a lot since the last
 * time, the tree first rewrites its arrays in tree order (`relayout()`, O(n), paid for by the
 * Ω(n) changes before it), so walks read memory front to back. Handles stay valid throughout.
 *
 * Not safe to modify while a query is in progress, exactly like the kernel's (whose callers hold
 * the i_mmap / anon_vma lock across the walk).
 */
export class IntervalTree<V> {
  /** See {@link IntervalTreeOptions.relayoutMinNodes}. */
  declare private readonly relayoutMinNodes: number;
  /** The nodes' storage; replaced by `clear()`, which is how older handles are recognised. */
  private store: NodeStore<V> = new NodeStore<V>(0);
  /** The root slot (`rb_root_cached.rb_root.rb_node`), or NIL. */
  private rootIdx = NIL;
  /** The cached leftmost slot (`rb_root_cached.rb_leftmost`), or NIL. */
  private leftmostIdx = NIL;
  private count = 0;
  /** Inserts and removals since the arrays were last in tree order. */
  private scrambled = 0;
  /**
   * The slot of the node the last iterFirst/iterNext returned, and the range it was validated for:
   * iterNext(thatNode) then skips the handle. Needs no invalidation: the cursor applies only while
   * the store's handle at that slot is the very node passed in.
   */
  private cursorIdx = NIL;
  private cursorStart = -1;
  private cursorLast = -1;

  constructor(options: IntervalTreeOptions = {}) {
    const min = options.relayoutMinNodes ?? RELAYOUT_MIN_NODES;
    if (!(min >= 0)) {
      throw new RangeError(
        `IntervalTree: relayoutMinNodes must be >= 0 (Infinity: never), got ${describe(min)}`,
      );
    }
    this.relayoutMinNodes = min;
  }

  /** Number of nodes in the tree. */
  get size(): number {
    return this.count;
  }

  /** The root, as a read-only view of the red-black structure (for visualisers); `null` if empty. */
  get root(): IntervalNodeView<V> | null {
    return this.store.H[this.rootIdx];
  }

  /**
   * `interval_tree_insert()` — include/linux/interval_tree_generic.h (with `rb_insert_augmented_cached()`).
   * Adds `[start, last]` carrying `value` after every node whose start is `<= start` and returns its handle.
   * @throws RangeError / TypeError if the endpoints are not non-negative safe integers with `start <= last`.
   */
  insert(start: number, last: number, value: V): IntervalNode<V> {
    if (!validRange(start, last)) throw intervalError('IntervalTree.insert', start, last);
    const s = this.store;
    const n = s.alloc();
    const { start: S, subtreeLast: Sub, left: L, right: R } = s;
    let parent = NIL;
    let cur = this.rootIdx;
    let goLeft = false;
    let leftmost = true;
    while (cur !== NIL) {
      // Raise subtreeLast on the way down: the new node will be in all these subtrees.
      if (Sub[cur] < last) Sub[cur] = last;
      parent = cur;
      // Both children are loaded before the comparison decides, so that the loads overlap.
      const l = L[cur];
      const r = R[cur];
      goLeft = start < S[cur];
      if (goLeft) cur = l;
      else {
        leftmost = false;
        cur = r;
      }
    }
    if (parent === NIL) this.rootIdx = n;
    else (goLeft ? s.left : s.right)[parent] = n;
    if (leftmost) this.leftmostIdx = n;
    return this.link(s, n, start, last, parent, value);
  }

  /**
   * `vma_interval_tree_insert_after()` — mm/interval_tree.c (`mapping_rmap_tree_insert_after()` in newer
   * kernels): the new node `[prev.start, last]` goes immediately after `prev` in tree order, as fork
   * does for a child's file VMA. It becomes `prev`'s right child if that is free, else the left child
   * of the leftmost node of `prev`'s right subtree; then subtreeLast is raised upwards and the tree rebalanced.
   * Unlike the kernel (which assumes `last === prev.last`), any `last >= prev.start` is accepted.
   * @throws Error if `prev` is not a node of this tree; RangeError if `last` is invalid.
   */
  insertAfter(prev: IntervalNode<V>, last: number, value: V): IntervalNode<V> {
    const p = this.own(prev, 'IntervalTree.insertAfter').idx;
    const s = this.store;
    const start = s.start[p];
    if (!(start <= last && last <= MAX_SAFE && Number.isInteger(last))) {
      throw intervalError('IntervalTree.insertAfter', start, last);
    }
    const n = s.alloc();
    let parent = s.right[p];
    if (parent === NIL) {
      parent = p;
      s.right[p] = n;
    } else {
      for (let l = s.left[parent]; l !== NIL; l = s.left[parent]) parent = l;
      s.left[parent] = n;
    }
    // Every ancestor's subtree now contains the new node. Once one is already >= last, all above it are.
    for (let a = parent; a !== NIL && s.subtreeLast[a] < last; a = parentOf(s, a)) s.subtreeLast[a] = last;
    return this.link(s, n, start, last, parent, value);
  }

  /**
   * `interval_tree_remove()` — include/linux/interval_tree_generic.h (`rb_erase_augmented_cached()`).
   * O(log n). The handle is dead afterwards: removing it again, or using it with `insertAfter()` /
   * `iterNext()`, throws; its `value` stays readable, its `start` and `last` read NaN.
   * @throws Error if `node` is not in this tree (foreign, already removed, or cleared).
   */
  remove(node: IntervalNode<V>): void {
    const h = this.own(node, 'IntervalTree.remove');
    const n = h.idx;
    const s = this.store;
    if (this.leftmostIdx === n) this.leftmostIdx = nextSlot(s, n);
    const rebalance = this.eraseAugmented(n);
    if (rebalance !== NIL) this.eraseColor(rebalance);
    h.store = null;
    s.release(n);
    if (--this.count === 0) s.reset();
    this.scrambled++;
  }

  /**
   * `interval_tree_iter_first()` — include/linux/interval_tree_generic.h.
   * The first node (in tree order) intersecting the closed range `[start, last]`, or `null`.
   * Rejects in O(1) when the root's subtreeLast is `< start` or the cached leftmost node starts after `last`.
   * May first rewrite the node arrays in tree order (see the class comment); handles are unaffected.
   * @throws RangeError / TypeError on an invalid range.
   */
  iterFirst(start: number, last: number): IntervalNode<V> | null {
    if (!validRange(start, last)) throw intervalError('IntervalTree.iterFirst', start, last);
    if (this.scrambled * 4 >= this.count && this.count >= this.relayoutMinNodes) this.relayout();
    const s = this.store;
    const root = this.rootIdx;
    this.cursorStart = start;
    this.cursorLast = last;
    if (start > s.subtreeLast[root]) return null; // also when empty: nil's subtreeLast is -1
    if (s.start[this.leftmostIdx] > last) return null;
    return this.emit(subtreeSearch(s, root, start, last));
  }

  /**
   * `interval_tree_iter_next()` — include/linux/interval_tree_generic.h.
   * The next node after `node` (in tree order) intersecting `[start, last]`, or `null`. Climbs through
   * parent links, so it needs no stack and allocates nothing.
   * @throws Error if `node` is not in this tree; RangeError / TypeError on an invalid range.
   */
  iterNext(node: IntervalNode<V>, start: number, last: number): IntervalNode<V> | null {
    const s = this.store;
    let n: number;
    // Object.is, not ===: V8 guards a speculative === on objects by loading both objects' maps, which
    // would touch every returned handle (scattered over the heap) once per step of a walk.
    if (Object.is(node, s.H[this.cursorIdx]) && start === this.cursorStart && last === this.cursorLast) {
      n = this.cursorIdx;
    } else {
      n = this.own(node, 'IntervalTree.iterNext').idx;
      if (!validRange(start, last)) throw intervalError('IntervalTree.iterNext', start, last);
      this.cursorStart = start;
      this.cursorLast = last;
    }
    const { right: R, parentColor: PC, subtreeLast: Sub } = s;
    let rb = R[n];
    for (;;) {
      // Invariant: rb is n's right child.
      if (start <= Sub[rb]) return this.emit(subtreeSearch(s, rb, start, last));
      // Climb until we arrive from a left child.
      let prev: number;
      do {
        const up = PC[n] >> 1;
        if (up === NIL) return this.emit(NIL);
        prev = n;
        n = up;
        rb = R[n];
      } while (prev === rb);
      if (last < s.start[n]) return this.emit(NIL); // Cond1 fails here and for everything after.
      if (start <= s.last[n]) return this.emit(n); // Cond2.
    }
  }

  /**
   * `vma_interval_tree_foreach()` / `anon_vma_interval_tree_foreach()` — include/linux/mm.h — as an
   * iterator: the nodes intersecting `[start, last]` in tree order, via {@link iterFirst} / {@link iterNext}.
   */
  overlapping(start: number, last: number): IterableIterator<IntervalNode<V>> {
    return new OverlapIterator(this, start, last, this.iterFirst(start, last));
  }

  /** `rb_first_cached()`: the first node in tree order, or `null`. O(1). */
  first(): IntervalNode<V> | null {
    return this.store.H[this.leftmostIdx];
  }

  /**
   * `rb_last()` — lib/rbtree.c: the last node in tree order, or `null`. O(log n): walks the right
   * spine, so callers such as find_vma_prev() need not walk a list.
   */
  last(): IntervalNode<V> | null {
    const s = this.store;
    let n = this.rootIdx;
    if (n === NIL) return null;
    for (let r = s.right[n]; r !== NIL; r = s.right[n]) n = r;
    return s.H[n];
  }

  /** `rb_next()`: the node after `node` in tree order, or `null`. */
  next(node: IntervalNode<V>): IntervalNode<V> | null {
    const s = this.store;
    return s.H[nextSlot(s, this.own(node, 'IntervalTree.next').idx)];
  }

  /** `rb_prev()`: the node before `node` in tree order, or `null`. */
  prev(node: IntervalNode<V>): IntervalNode<V> | null {
    let n = this.own(node, 'IntervalTree.prev').idx;
    const s = this.store;
    const H = s.H;
    let l = s.left[n];
    if (l !== NIL) {
      for (let r = s.right[l]; r !== NIL; r = s.right[l]) l = r;
      return H[l];
    }
    let p = parentOf(s, n);
    while (p !== NIL && n === s.left[p]) {
      n = p;
      p = parentOf(s, p);
    }
    return H[p];
  }

  /** Whether `node` is currently a node of this tree. */
  has(node: IntervalNode<V>): boolean {
    return node != null && (node as Node<V>).store === this.store;
  }

  /** All nodes in tree order (ascending start, ties in insertion order). */
  *[Symbol.iterator](): IterableIterator<IntervalNode<V>> {
    for (let n = this.first(); n !== null; n = this.next(n)) yield n;
  }

  /** Removes every node in O(1); handles obtained before become invalid (remove() on them throws). */
  clear(): void {
    this.store = new NodeStore<V>(0);
    this.rootIdx = NIL;
    this.leftmostIdx = NIL;
    this.count = 0;
    this.scrambled = 0;
    this.cursorIdx = NIL; // keeps the cursor's slot inside the new, shorter handle array
  }

  /**
   * Checks every invariant, in the spirit of the kernel's `CONFIG_DEBUG_VM_RB` checks
   * (`anon_vma_interval_tree_verify`, `validate_mm_rb`): red-black rules (black root, no red node
   * with a red child, equal black height on every path), parent links, BST order (in-order starts
   * non-decreasing), valid endpoints, every `subtreeLast`, that every node's handle names its slot,
   * the nil sentinel, the size and the cached leftmost node. O(n).
   * @throws Error describing the first violation found.
   */
  validate(): void {
    const s = this.store;
    const H = s.H;
    const fail = (msg: string): never => {
      throw new Error(`IntervalTree.validate: ${msg}`);
    };
    if (
      s.subtreeLast[NIL] !== -1 ||
      s.left[NIL] !== NIL ||
      s.right[NIL] !== NIL ||
      s.parentColor[NIL] !== 1
    ) {
      fail('the nil sentinel was modified');
    }
    const root = this.rootIdx;
    if (root === NIL) {
      if (this.count !== 0) fail(`size is ${this.count} but the tree is empty`);
      if (this.leftmostIdx !== NIL) fail('cached leftmost is set but the tree is empty');
      return;
    }
    if (parentOf(s, root) !== NIL) fail('root has a parent');
    if (isRed(s, root)) fail('root is red');
    let visited = 0;
    let prevStart = -1;
    let first = NIL;
    const desc = (n: number) => `node [${s.start[n]}, ${s.last[n]}]`;
    // Returns the black height of the subtree (counting the nil leaves as 1).
    const walk = (n: number, parent: number, depth: number): number => {
      if (n === NIL) return 1;
      if (++visited > this.count) fail(`more nodes reachable than size ${this.count} (or a cycle)`);
      if (depth > 128) fail('tree deeper than any red-black tree can be');
      if (!(n > 0 && n <= s.hi)) fail(`a child link names slot ${n}, outside the store`);
      if (parentOf(s, n) !== parent) fail(`${desc(n)} has a wrong parent link`);
      const h = H[n];
      if (!(h instanceof IntervalTreeNode) || h.store !== s || h.idx !== n) {
        fail(`${desc(n)} is not marked as a member of this tree`);
      }
      const start = s.start[n];
      const last = s.last[n];
      if (!(Number.isSafeInteger(start) && Number.isSafeInteger(last) && start >= 0 && start <= last)) {
        fail(`${desc(n)} has invalid endpoints`);
      }
      const l = s.left[n];
      const r = s.right[n];
      if (isRed(s, n) && ((l !== NIL && isRed(s, l)) || (r !== NIL && isRed(s, r)))) {
        fail(`red ${desc(n)} has a red child`);
      }
      const lh = walk(l, n, depth + 1);
      // In-order position: check BST order here.
      if (first === NIL) first = n;
      if (start < prevStart) fail(`${desc(n)} comes after a node with start ${prevStart} (BST order broken)`);
      prevStart = start;
      const rh = walk(r, n, depth + 1);
      if (lh !== rh) fail(`black heights differ below ${desc(n)}: left ${lh}, right ${rh}`);
      const expect = computeSubtreeLast(s, n);
      const sub = s.subtreeLast[n];
      if (sub !== expect) fail(`${desc(n)} has subtreeLast ${sub}, expected ${expect}`);
      return lh + (isRed(s, n) ? 0 : 1);
    };
    walk(root, NIL, 0);
    if (visited !== this.count) fail(`size is ${this.count} but ${visited} nodes are reachable`);
    if (this.leftmostIdx !== first) fail('cached leftmost is not the first node in tree order');
  }

  // ---------------------------------------------------------------------------------------------
  // Internals

  /** Casts a handle to this tree's node type, rejecting foreign, removed and non-node values. */
  private own(node: IntervalNode<V>, what: string): Node<V> {
    const n = node as Node<V>;
    if (n != null && n.store === this.store) return n;
    if (!(node instanceof IntervalTreeNode)) throw new TypeError(`${what}: not an interval tree node`);
    if (node.store === null) throw new Error(`${what}: the node was already removed`);
    throw new Error(`${what}: node [${node.start}, ${node.last}] belongs to another tree (or was cleared)`);
  }

  /** Fills slot `n` (already linked below `parent`) as a red node, gives it a handle and rebalances. */
  private link(s: NodeStore<V>, n: number, start: number, last: number, parent: number, value: V): Node<V> {
    // `+ 0` turns -0 (accepted as an integer) into 0, so that start reads back as 0.
    s.start[n] = start + 0;
    s.last[n] = last + 0;
    s.subtreeLast[n] = last + 0;
    s.left[n] = NIL;
    s.right[n] = NIL;
    s.parentColor[n] = parent << 1; // red
    const h = new IntervalTreeNode<V>(s, n, value);
    s.H[n] = h;
    this.count++;
    this.scrambled++;
    this.insertFixup(n);
    return h;
  }

  /** The handle of slot `n` (or `null` for NIL), remembered as the cursor for the next iterNext(). */
  private emit(n: number): Node<V> | null {
    this.cursorIdx = n;
    return this.store.H[n];
  }

  /**
   * Rewrites the node arrays so that slot order is tree order (slots 1 … size), trimming spare
   * capacity to an eighth, and moves every handle to its new slot. The tree's shape is unchanged.
   * The store object stays the same, so a handle only has its slot number rewritten.
   */
  private relayout(): void {
    const s = this.store;
    const n = this.count;
    const { start, last, subtreeLast, left, right, parentColor, H } = s;
    // Pass 1: number the nodes in tree order.
    const slot = new Int32Array(s.hi + 1);
    const order = new Int32Array(n + 1);
    let k = 0;
    for (let x = this.leftmostIdx; x !== NIL; x = nextSlot(s, x)) {
      slot[x] = ++k;
      order[k] = x;
    }
    // Pass 2: copy every node to its new slot, translating its links.
    s.allocate(n + (n >> 3));
    const H2: (Node<V> | null)[] = [null];
    for (let j = 1; j <= n; j++) {
      const x = order[j];
      s.start[j] = start[x];
      s.last[j] = last[x];
      s.subtreeLast[j] = subtreeLast[x];
      s.left[j] = slot[left[x]];
      s.right[j] = slot[right[x]];
      const pc = parentColor[x];
      s.parentColor[j] = (slot[pc >> 1] << 1) | (pc & 1);
      const h = H[x] as Node<V>;
      h.idx = j;
      H2.push(h);
    }
    s.H = H2;
    s.hi = n;
    s.free = NIL;
    this.rootIdx = slot[this.rootIdx];
    this.leftmostIdx = slot[this.leftmostIdx];
    this.scrambled = 0;
    this.cursorIdx = NIL; // keeps the cursor's slot inside the new, shorter handle array
  }

  /** `__rb_change_child()`: make `parent` (or the root) point at `newChild` instead of `oldChild`. */
  private changeChild(s: Store, oldChild: number, newChild: number, parent: number): void {
    if (parent === NIL) this.rootIdx = newChild;
    else if (s.left[parent] === oldChild) s.left[parent] = newChild;
    else s.right[parent] = newChild;
  }

  /**
   * `__rb_rotate_set_parents()`: `newTop` takes `oldTop`'s place, parent and colour; `oldTop` becomes its
   * child with colour `black` (1) or red (0).
   */
  private rotateSetParents(s: Store, oldTop: number, newTop: number, black: 0 | 1): void {
    const pc = s.parentColor[oldTop];
    s.parentColor[newTop] = pc;
    s.parentColor[oldTop] = (newTop << 1) | black;
    this.changeChild(s, oldTop, newTop, pc >> 1);
  }

  /** `__rb_insert()` (lib/rbtree.c) with augmented rotations: restore the red-black rules after linking a red node. */
  private insertFixup(node: number): void {
    const s = this.store;
    let parent = parentOf(s, node);
    for (;;) {
      if (parent === NIL) {
        setBlack(s, node); // The root is black.
        return;
      }
      if (!isRed(s, parent)) return;
      const gparent = parentOf(s, parent); // A red node is never the root.
      let tmp = s.right[gparent];
      if (parent !== tmp) {
        // parent is gparent's left child.
        if (tmp !== NIL && isRed(s, tmp)) {
          // Red uncle: recolour and continue two levels up.
          setBlack(s, tmp);
          setBlack(s, parent);
          setRed(s, gparent);
          node = gparent;
          parent = parentOf(s, node);
          continue;
        }
        tmp = s.right[parent];
        if (node === tmp) {
          // node is an inner child: rotate left at parent.
          tmp = s.left[node];
          s.right[parent] = tmp;
          s.left[node] = parent;
          if (tmp !== NIL) setParent(s, tmp, parent);
          setParent(s, parent, node);
          augmentRotate(s, parent, node);
          parent = node;
          tmp = s.right[node];
        }
        // Rotate right at gparent.
        s.left[gparent] = tmp;
        s.right[parent] = gparent;
        if (tmp !== NIL) setParent(s, tmp, gparent);
        this.rotateSetParents(s, gparent, parent, 0);
        augmentRotate(s, gparent, parent);
        return;
      }
      // parent is gparent's right child: the mirror image.
      tmp = s.left[gparent];
      if (tmp !== NIL && isRed(s, tmp)) {
        setBlack(s, tmp);
        setBlack(s, parent);
        setRed(s, gparent);
        node = gparent;
        parent = parentOf(s, node);
        continue;
      }
      tmp = s.left[parent];
      if (node === tmp) {
        tmp = s.right[node];
        s.left[parent] = tmp;
        s.right[node] = parent;
        if (tmp !== NIL) setParent(s, tmp, parent);
        setParent(s, parent, node);
        augmentRotate(s, parent, node);
        parent = node;
        tmp = s.left[node];
      }
      s.right[gparent] = tmp;
      s.left[parent] = gparent;
      if (tmp !== NIL) setParent(s, tmp, gparent);
      this.rotateSetParents(s, gparent, parent, 0);
      augmentRotate(s, gparent, parent);
      return;
    }
  }

  /**
   * `__rb_erase_augmented()` (include/linux/rbtree_augmented.h): unlink `node`, replacing it with its
   * successor when it has two children, and fix subtreeLast with the copy / propagate callbacks.
   * Returns the parent from which colours must be rebalanced, or NIL.
   */
  private eraseAugmented(node: number): number {
    const s = this.store;
    const child = s.right[node];
    let tmp = s.left[node];
    let rebalance: number;
    let fixFrom: number;
    if (tmp === NIL) {
      // At most one child, on the right. A lone child is red, so it can take node's place and colour.
      const parent = parentOf(s, node);
      this.changeChild(s, node, child, parent);
      if (child !== NIL) {
        s.parentColor[child] = s.parentColor[node];
        rebalance = NIL;
      } else {
        rebalance = isRed(s, node) ? NIL : parent;
      }
      fixFrom = parent;
    } else if (child === NIL) {
      // Only a (red) left child.
      const parent = parentOf(s, node);
      s.parentColor[tmp] = s.parentColor[node];
      this.changeChild(s, node, tmp, parent);
      rebalance = NIL;
      fixFrom = parent;
    } else {
      // Two children: the successor (leftmost of the right subtree) takes node's place.
      let successor = child;
      let parent: number;
      let child2: number;
      tmp = s.left[child];
      if (tmp === NIL) {
        // The successor is node's right child.
        parent = successor;
        child2 = s.right[successor];
        s.subtreeLast[successor] = s.subtreeLast[node]; // augment "copy"
      } else {
        do {
          parent = successor;
          successor = tmp;
          tmp = s.left[tmp];
        } while (tmp !== NIL);
        child2 = s.right[successor];
        s.left[parent] = child2;
        s.right[successor] = child;
        setParent(s, child, successor);
        s.subtreeLast[successor] = s.subtreeLast[node]; // augment "copy"
        augmentPropagate(s, parent, successor);
      }
      const left = s.left[node];
      s.left[successor] = left;
      setParent(s, left, successor);
      const pc = s.parentColor[node];
      this.changeChild(s, node, successor, pc >> 1);
      if (child2 !== NIL) {
        s.parentColor[child2] = (parent << 1) | 1; // black
        rebalance = NIL;
      } else {
        rebalance = isRed(s, successor) ? NIL : parent;
      }
      s.parentColor[successor] = pc;
      fixFrom = successor;
    }
    augmentPropagate(s, fixFrom, NIL);
    return rebalance;
  }

  /**
   * `____rb_erase_color()` (lib/rbtree.c) with augmented rotations: after removing a black leaf
   * below `parent`, restore equal black heights.
   */
  private eraseColor(parent: number): void {
    const s = this.store;
    let node = NIL;
    for (;;) {
      let sibling = s.right[parent];
      if (node !== sibling) {
        // node is parent's left child (possibly nil); sibling is a real node.
        if (isRed(s, sibling)) {
          // Red sibling: rotate left at parent.
          const t = s.left[sibling];
          s.right[parent] = t;
          s.left[sibling] = parent;
          setParent(s, t, parent);
          this.rotateSetParents(s, parent, sibling, 0);
          augmentRotate(s, parent, sibling);
          sibling = t;
        }
        let t1 = s.right[sibling];
        if (t1 === NIL || !isRed(s, t1)) {
          const t2 = s.left[sibling];
          if (t2 === NIL || !isRed(s, t2)) {
            // Black sibling with black children: recolour, maybe continue upwards.
            setRed(s, sibling);
            if (isRed(s, parent)) {
              setBlack(s, parent);
            } else {
              node = parent;
              const up = parentOf(s, node);
              if (up !== NIL) {
                parent = up;
                continue;
              }
            }
            return;
          }
          // Sibling's left child is red: rotate right at sibling.
          t1 = s.right[t2];
          s.left[sibling] = t1;
          s.right[t2] = sibling;
          s.right[parent] = t2;
          if (t1 !== NIL) s.parentColor[t1] = (sibling << 1) | 1;
          augmentRotate(s, sibling, t2);
          t1 = sibling;
          sibling = t2;
        }
        // Sibling's right child (t1) is red: rotate left at parent and recolour.
        const t2 = s.left[sibling];
        s.right[parent] = t2;
        s.left[sibling] = parent;
        s.parentColor[t1] = (sibling << 1) | 1;
        if (t2 !== NIL) setParent(s, t2, parent);
        this.rotateSetParents(s, parent, sibling, 1);
        augmentRotate(s, parent, sibling);
        return;
      }
      // node is parent's right child: the mirror image.
      sibling = s.left[parent];
      if (isRed(s, sibling)) {
        const t = s.right[sibling];
        s.left[parent] = t;
        s.right[sibling] = parent;
        setParent(s, t, parent);
        this.rotateSetParents(s, parent, sibling, 0);
        augmentRotate(s, parent, sibling);
        sibling = t;
      }
      let t1 = s.left[sibling];
      if (t1 === NIL || !isRed(s, t1)) {
        const t2 = s.right[sibling];
        if (t2 === NIL || !isRed(s, t2)) {
          setRed(s, sibling);
          if (isRed(s, parent)) {
            setBlack(s, parent);
          } else {
            node = parent;
            const up = parentOf(s, node);
            if (up !== NIL) {
              parent = up;
              continue;
            }
          }
          return;
        }
        t1 = s.left[t2];
        s.right[sibling] = t1;
        s.left[t2] = sibling;
        s.left[parent] = t2;
        if (t1 !== NIL) s.parentColor[t1] = (sibling << 1) | 1;
        augmentRotate(s, sibling, t2);
        t1 = sibling;
        sibling = t2;
      }
      const t2 = s.right[sibling];
      s.left[parent] = t2;
      s.right[sibling] = parent;
      s.parentColor[t1] = (sibling << 1) | 1;
      if (t2 !== NIL) setParent(s, t2, parent);
      this.rotateSetParents(s, parent, sibling, 1);
      augmentRotate(s, parent, sibling);
      return;
    }
  }
}

/** The iterator behind {@link IntervalTree.overlapping}: steps with `iterNext()`, so it keeps no stack or array. */
class OverlapIterator<V> implements IterableIterator<IntervalNode<V>> {
  private readonly tree: IntervalTree<V>;
  private readonly start: number;
  private readonly last: number;
  private cur: IntervalNode<V> | null;

  constructor(tree: IntervalTree<V>, start: number, last: number, first: IntervalNode<V> | null) {
    this.tree = tree;
    this.start = start;
    this.last = last;
    this.cur = first;
  }

  next(): IteratorResult<IntervalNode<V>> {
    const cur = this.cur;
    if (cur === null) return { done: true, value: undefined };
    this.cur = this.tree.iterNext(cur, this.start, this.last);
    return { done: false, value: cur };
  }

  [Symbol.iterator](): IterableIterator<IntervalNode<V>> {
    return this;
  }
}
