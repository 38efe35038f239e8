import { IntervalTreeNode } from './node.js';

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

type Node<V> = IntervalTreeNode<V>;

/** Marks the nodes of one tree "generation"; replaced by `clear()`, so stale nodes are rejected. */
class Membership {}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
/** Largest value V8 can keep as a small integer (Smi) on 64-bit builds without pointer compression. */
const SMI_MAX = 0x7fffffff;

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

/** ITSUBTREE recomputation: max of the node's own `last` and its children's `subtreeLast`. */
function computeSubtreeLast<V>(node: Node<V>): number {
  let max = node.last;
  const l = node.left;
  const r = node.right;
  if (l !== null && l.subtreeLast > max) max = l.subtreeLast;
  if (r !== null && r.subtreeLast > max) max = r.subtreeLast;
  return max;
}

/**
 * Augment "propagate" callback (RB_DECLARE_CALLBACKS(_MAX)): recompute upwards from `node` until
 * `stop` (exclusive), stopping early once a value does not change.
 */
function augmentPropagate<V>(node: Node<V> | null, stop: Node<V> | null): void {
  while (node !== stop && node !== null) {
    const v = computeSubtreeLast(node);
    if (node.subtreeLast === v) break;
    node.subtreeLast = v;
    node = node.parent;
  }
}

/** Augment "rotate" callback: the new subtree top inherits the old top's value; the old top is recomputed. */
function augmentRotate<V>(oldTop: Node<V>, newTop: Node<V>): void {
  newTop.subtreeLast = oldTop.subtreeLast;
  oldTop.subtreeLast = computeSubtreeLast(oldTop);
}

/**
 * `_subtree_search()` — include/linux/interval_tree_generic.h.
 * Leftmost node of `node`'s subtree that intersects [start, last]; requires `start <= node.subtreeLast`.
 */
function subtreeSearch<V>(node: Node<V>, start: number, last: number): Node<V> | null {
  for (;;) {
    const left = node.left;
    if (left !== null && start <= left.subtreeLast) {
      // Some nodes in the left subtree satisfy Cond2; the leftmost match, if any, is there.
      node = left;
      continue;
    }
    if (node.start <= last) {
      // Cond1 holds here.
      if (start <= node.last) return node; // Cond2 too: a match.
      const right = node.right;
      if (right !== null && start <= right.subtreeLast) {
        node = right;
        continue;
      }
    }
    return null;
  }
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
 * Not safe to modify while a query is in progress, exactly like the kernel's (whose callers hold
 * the i_mmap / anon_vma lock across the walk).
 */
export class IntervalTree<V> {
  /** The root node (`rb_root_cached.rb_root.rb_node`). */
  private rootNode: Node<V> | null = null;
  /** The cached leftmost node (`rb_root_cached.rb_leftmost`). */
  private leftmost: Node<V> | null = null;
  private count = 0;
  /** Identity stamped into every node of this tree; replaced by `clear()`. */
  private membership: Membership = new Membership();

  /** Number of nodes in the tree. */
  get size(): number {
    return this.count;
  }

  /** The root, as a read-only view of the red-black structure (for visualisers); `null` if empty. */
  get root(): IntervalNodeView<V> | null {
    return this.rootNode;
  }

  /**
   * `interval_tree_insert()` — include/linux/interval_tree_generic.h (with `rb_insert_augmented_cached()`).
   * Adds `[start, last]` carrying `value` after every node whose start is `<= start` and returns its handle.
   * @throws RangeError / TypeError if the endpoints are not non-negative safe integers with `start <= last`.
   */
  insert(start: number, last: number, value: V): IntervalNode<V> {
    if (
      !(start >= 0 && start <= last && last <= MAX_SAFE && Number.isInteger(start) && Number.isInteger(last))
    ) {
      throw intervalError('IntervalTree.insert', start, last);
    }
    if (last <= SMI_MAX) {
      // An integral double (say, read from a Float64Array) would make V8 switch the node fields to
      // boxed-double representation for every node; store it as a small integer instead.
      start |= 0;
      last |= 0;
    }
    let parent: Node<V> | null = null;
    let cur = this.rootNode;
    let goLeft = false;
    let leftmost = true;
    while (cur !== null) {
      // Raise subtreeLast on the way down: the new node will be in all these subtrees.
      if (cur.subtreeLast < last) cur.subtreeLast = last;
      parent = cur;
      if (start < cur.start) {
        goLeft = true;
        cur = cur.left;
      } else {
        goLeft = false;
        leftmost = false;
        cur = cur.right;
      }
    }
    const node = new IntervalTreeNode<V>(start, last, value, this.membership);
    node.parent = parent;
    if (parent === null) this.rootNode = node;
    else if (goLeft) parent.left = node;
    else parent.right = node;
    if (leftmost) this.leftmost = node;
    this.count++;
    this.insertFixup(node);
    return node;
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
    const p = this.own(prev, 'IntervalTree.insertAfter');
    const start = p.start;
    if (!(start <= last && last <= MAX_SAFE && Number.isInteger(last))) {
      throw intervalError('IntervalTree.insertAfter', start, last);
    }
    if (last <= SMI_MAX) last |= 0; // See insert().
    const node = new IntervalTreeNode<V>(start, last, value, this.membership);
    let parent = p.right;
    if (parent === null) {
      parent = p;
      p.right = node;
    } else {
      while (parent.left !== null) parent = parent.left;
      parent.left = node;
    }
    node.parent = parent;
    // Every ancestor's subtree now contains the new node. Once one is already >= last, all above it are.
    for (let a: Node<V> | null = parent; a !== null && a.subtreeLast < last; a = a.parent)
      a.subtreeLast = last;
    this.count++;
    this.insertFixup(node);
    return node;
  }

  /**
   * `interval_tree_remove()` — include/linux/interval_tree_generic.h (`rb_erase_augmented_cached()`).
   * O(log n). The handle is dead afterwards: removing it again, or using it with `insertAfter()` /
   * `iterNext()`, throws.
   * @throws Error if `node` is not in this tree (foreign, already removed, or cleared).
   */
  remove(node: IntervalNode<V>): void {
    const n = this.own(node, 'IntervalTree.remove');
    if (this.leftmost === n) this.leftmost = this.nextNode(n);
    const rebalance = this.eraseAugmented(n);
    if (rebalance !== null) this.eraseColor(rebalance);
    n.left = null;
    n.right = null;
    n.parent = null;
    n.red = true;
    n.subtreeLast = n.last;
    n.owner = null;
    this.count--;
  }

  /**
   * `interval_tree_iter_first()` — include/linux/interval_tree_generic.h.
   * The first node (in tree order) intersecting the closed range `[start, last]`, or `null`.
   * Rejects in O(1) when the root's subtreeLast is `< start` or the cached leftmost node starts after `last`.
   * @throws RangeError / TypeError on an invalid range.
   */
  iterFirst(start: number, last: number): IntervalNode<V> | null {
    if (
      !(start >= 0 && start <= last && last <= MAX_SAFE && Number.isInteger(start) && Number.isInteger(last))
    ) {
      throw intervalError('IntervalTree.iterFirst', start, last);
    }
    const root = this.rootNode;
    if (root === null || root.subtreeLast < start) return null;
    if ((this.leftmost as Node<V>).start > last) return null;
    return subtreeSearch(root, start, last);
  }

  /**
   * `interval_tree_iter_next()` — include/linux/interval_tree_generic.h.
   * The next node after `node` (in tree order) intersecting `[start, last]`, or `null`. Climbs through
   * parent links, so it needs no stack and allocates nothing.
   * @throws Error if `node` is not in this tree; RangeError / TypeError on an invalid range.
   */
  iterNext(node: IntervalNode<V>, start: number, last: number): IntervalNode<V> | null {
    let n = this.own(node, 'IntervalTree.iterNext');
    if (
      !(start >= 0 && start <= last && last <= MAX_SAFE && Number.isInteger(start) && Number.isInteger(last))
    ) {
      throw intervalError('IntervalTree.iterNext', start, last);
    }
    let rb = n.right;
    for (;;) {
      // Invariant: rb is n's right child.
      if (rb !== null && start <= rb.subtreeLast) return subtreeSearch(rb, start, last);
      // Climb until we arrive from a left child.
      let prev: Node<V>;
      do {
        const up: Node<V> | null = n.parent;
        if (up === null) return null;
        prev = n;
        n = up;
        rb = n.right;
      } while (prev === rb);
      if (last < n.start) return null; // Cond1 fails here and for everything after.
      if (start <= n.last) return n; // Cond2.
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
    return this.leftmost;
  }

  /** `rb_next()`: the node after `node` in tree order, or `null`. */
  next(node: IntervalNode<V>): IntervalNode<V> | null {
    return this.nextNode(this.own(node, 'IntervalTree.next'));
  }

  /** `rb_prev()`: the node before `node` in tree order, or `null`. */
  prev(node: IntervalNode<V>): IntervalNode<V> | null {
    let n = this.own(node, 'IntervalTree.prev');
    if (n.left !== null) {
      n = n.left;
      while (n.right !== null) n = n.right;
      return n;
    }
    let p = n.parent;
    while (p !== null && n === p.left) {
      n = p;
      p = p.parent;
    }
    return p;
  }

  /** Whether `node` is currently a node of this tree. */
  has(node: IntervalNode<V>): boolean {
    return node != null && (node as Node<V>).owner === this.membership;
  }

  /** All nodes in tree order (ascending start, ties in insertion order). */
  *[Symbol.iterator](): IterableIterator<IntervalNode<V>> {
    for (let n = this.leftmost; n !== null; n = this.nextNode(n)) yield n;
  }

  /** Removes every node in O(1); handles obtained before become invalid (remove() on them throws). */
  clear(): void {
    this.rootNode = null;
    this.leftmost = null;
    this.count = 0;
    this.membership = new Membership();
  }

  /**
   * Checks every invariant, in the spirit of the kernel's `CONFIG_DEBUG_VM_RB` checks
   * (`anon_vma_interval_tree_verify`, `validate_mm_rb`): red-black rules (black root, no red node
   * with a red child, equal black height on every path), parent links, BST order (in-order starts
   * non-decreasing), valid endpoints, every `subtreeLast`, node membership, the size and the cached
   * leftmost node. O(n).
   * @throws Error describing the first violation found.
   */
  validate(): void {
    const root = this.rootNode;
    const fail = (msg: string): never => {
      throw new Error(`IntervalTree.validate: ${msg}`);
    };
    if (root === null) {
      if (this.count !== 0) fail(`size is ${this.count} but the tree is empty`);
      if (this.leftmost !== null) fail('cached leftmost is set but the tree is empty');
      return;
    }
    if (root.parent !== null) fail('root has a parent');
    if (root.red) fail('root is red');
    let visited = 0;
    let prevStart = -1;
    let first: Node<V> | null = null;
    const desc = (n: Node<V>) => `node [${n.start}, ${n.last}]`;
    // Returns the black height of the subtree (counting the null leaves as 1).
    const walk = (n: Node<V> | null, parent: Node<V> | null, depth: number): number => {
      if (n === null) return 1;
      if (++visited > this.count) fail(`more nodes reachable than size ${this.count} (or a cycle)`);
      if (depth > 128) fail('tree deeper than any red-black tree can be');
      if (!(n instanceof IntervalTreeNode)) fail('a child link is not a node');
      if (n.parent !== parent) fail(`${desc(n)} has a wrong parent link`);
      if (n.owner !== this.membership) fail(`${desc(n)} is not marked as a member of this tree`);
      if (
        !(Number.isSafeInteger(n.start) && Number.isSafeInteger(n.last) && n.start >= 0 && n.start <= n.last)
      ) {
        fail(`${desc(n)} has invalid endpoints`);
      }
      if (n.red && (n.left?.red || n.right?.red)) {
        fail(`red ${desc(n)} has a red child`);
      }
      const lh = walk(n.left, n, depth + 1);
      // In-order position: check BST order here.
      if (first === null) first = n;
      if (n.start < prevStart)
        fail(`${desc(n)} comes after a node with start ${prevStart} (BST order broken)`);
      prevStart = n.start;
      const rh = walk(n.right, n, depth + 1);
      if (lh !== rh) fail(`black heights differ below ${desc(n)}: left ${lh}, right ${rh}`);
      const expect = computeSubtreeLast(n);
      if (n.subtreeLast !== expect) fail(`${desc(n)} has subtreeLast ${n.subtreeLast}, expected ${expect}`);
      return lh + (n.red ? 0 : 1);
    };
    walk(root, null, 0);
    if (visited !== this.count) fail(`size is ${this.count} but ${visited} nodes are reachable`);
    if (this.leftmost !== first) fail('cached leftmost is not the first node in tree order');
  }

  // ---------------------------------------------------------------------------------------------
  // Internals

  /** Casts a handle to this tree's node type, rejecting foreign, removed and non-node values. */
  private own(node: IntervalNode<V>, what: string): Node<V> {
    // Only a node stamped with this tree's current membership token passes. (No `instanceof` here:
    // it is markedly slower once a bundler has redefined the class's `name`, as `keepNames` does.)
    const n = node as Node<V>;
    if (n != null && n.owner === this.membership) return n;
    if (!(node instanceof IntervalTreeNode)) throw new TypeError(`${what}: not an interval tree node`);
    if (node.owner === null)
      throw new Error(`${what}: node [${node.start}, ${node.last}] was already removed`);
    throw new Error(`${what}: node [${node.start}, ${node.last}] belongs to another tree (or was cleared)`);
  }

  private nextNode(n: Node<V>): Node<V> | null {
    if (n.right !== null) {
      n = n.right;
      while (n.left !== null) n = n.left;
      return n;
    }
    let p = n.parent;
    while (p !== null && n === p.right) {
      n = p;
      p = p.parent;
    }
    return p;
  }

  /** `__rb_change_child()`: make `parent` (or the root) point at `newChild` instead of `oldChild`. */
  private changeChild(oldChild: Node<V>, newChild: Node<V> | null, parent: Node<V> | null): void {
    if (parent === null) this.rootNode = newChild;
    else if (parent.left === oldChild) parent.left = newChild;
    else parent.right = newChild;
  }

  /**
   * `__rb_rotate_set_parents()`: `newTop` takes `oldTop`'s place, parent and colour; `oldTop` becomes its
   * child with colour `red`.
   */
  private rotateSetParents(oldTop: Node<V>, newTop: Node<V>, red: boolean): void {
    const parent = oldTop.parent;
    newTop.parent = parent;
    newTop.red = oldTop.red;
    oldTop.parent = newTop;
    oldTop.red = red;
    this.changeChild(oldTop, newTop, parent);
  }

  /** `__rb_insert()` (lib/rbtree.c) with augmented rotations: restore the red-black rules after linking a red node. */
  private insertFixup(node: Node<V>): void {
    let parent = node.parent;
    for (;;) {
      if (parent === null) {
        node.red = false; // The root is black.
        return;
      }
      if (!parent.red) return;
      const gparent = parent.parent as Node<V>; // A red node is never the root.
      let tmp = gparent.right;
      if (parent !== tmp) {
        // parent is gparent's left child.
        if (tmp?.red) {
          // Red uncle: recolour and continue two levels up.
          tmp.red = false;
          parent.red = false;
          gparent.red = true;
          node = gparent;
          parent = node.parent;
          continue;
        }
        tmp = parent.right;
        if (node === tmp) {
          // node is an inner child: rotate left at parent.
          tmp = node.left;
          parent.right = tmp;
          node.left = parent;
          if (tmp !== null) tmp.parent = parent;
          parent.parent = node;
          augmentRotate(parent, node);
          parent = node;
          tmp = node.right;
        }
        // Rotate right at gparent.
        gparent.left = tmp;
        parent.right = gparent;
        if (tmp !== null) tmp.parent = gparent;
        this.rotateSetParents(gparent, parent, true);
        augmentRotate(gparent, parent);
        return;
      }
      // parent is gparent's right child: the mirror image.
      tmp = gparent.left;
      if (tmp?.red) {
        tmp.red = false;
        parent.red = false;
        gparent.red = true;
        node = gparent;
        parent = node.parent;
        continue;
      }
      tmp = parent.left;
      if (node === tmp) {
        tmp = node.right;
        parent.left = tmp;
        node.right = parent;
        if (tmp !== null) tmp.parent = parent;
        parent.parent = node;
        augmentRotate(parent, node);
        parent = node;
        tmp = node.left;
      }
      gparent.right = tmp;
      parent.left = gparent;
      if (tmp !== null) tmp.parent = gparent;
      this.rotateSetParents(gparent, parent, true);
      augmentRotate(gparent, parent);
      return;
    }
  }

  /**
   * `__rb_erase_augmented()` (include/linux/rbtree_augmented.h): unlink `node`, replacing it with its
   * successor when it has two children, and fix subtreeLast with the copy / propagate callbacks.
   * Returns the parent from which colours must be rebalanced, or `null`.
   */
  private eraseAugmented(node: Node<V>): Node<V> | null {
    const child = node.right;
    let tmp = node.left;
    let rebalance: Node<V> | null;
    let fixFrom: Node<V> | null;
    if (tmp === null) {
      // At most one child, on the right. A lone child is red, so it can take node's place and colour.
      const parent = node.parent;
      this.changeChild(node, child, parent);
      if (child !== null) {
        child.parent = parent;
        child.red = node.red;
        rebalance = null;
      } else {
        rebalance = node.red ? null : parent;
      }
      fixFrom = parent;
    } else if (child === null) {
      // Only a (red) left child.
      const parent = node.parent;
      tmp.parent = parent;
      tmp.red = node.red;
      this.changeChild(node, tmp, parent);
      rebalance = null;
      fixFrom = parent;
    } else {
      // Two children: the successor (leftmost of the right subtree) takes node's place.
      let successor = child;
      let parent: Node<V>;
      let child2: Node<V> | null;
      tmp = child.left;
      if (tmp === null) {
        // The successor is node's right child.
        parent = successor;
        child2 = successor.right;
        successor.subtreeLast = node.subtreeLast; // augment "copy"
      } else {
        do {
          parent = successor;
          successor = tmp;
          tmp = tmp.left;
        } while (tmp !== null);
        child2 = successor.right;
        parent.left = child2;
        successor.right = child;
        child.parent = successor;
        successor.subtreeLast = node.subtreeLast; // augment "copy"
        augmentPropagate(parent, successor);
      }
      const left = node.left as Node<V>;
      successor.left = left;
      left.parent = successor;
      const nodeParent = node.parent;
      this.changeChild(node, successor, nodeParent);
      if (child2 !== null) {
        child2.parent = parent;
        child2.red = false;
        rebalance = null;
      } else {
        rebalance = successor.red ? null : parent;
      }
      successor.parent = nodeParent;
      successor.red = node.red;
      fixFrom = successor;
    }
    augmentPropagate(fixFrom, null);
    return rebalance;
  }

  /**
   * `____rb_erase_color()` (lib/rbtree.c) with augmented rotations: after removing a black leaf
   * below `parent`, restore equal black heights.
   */
  private eraseColor(parent: Node<V>): void {
    let node: Node<V> | null = null;
    for (;;) {
      let sibling = parent.right;
      if (node !== sibling) {
        // node is parent's left child (possibly null); sibling is non-null.
        let s = sibling as Node<V>;
        if (s.red) {
          // Red sibling: rotate left at parent.
          const t = s.left as Node<V>;
          parent.right = t;
          s.left = parent;
          t.parent = parent;
          this.rotateSetParents(parent, s, true);
          augmentRotate(parent, s);
          s = t;
        }
        let t1 = s.right;
        if (t1 === null || !t1.red) {
          const t2 = s.left;
          if (t2 === null || !t2.red) {
            // Black sibling with black children: recolour, maybe continue upwards.
            s.red = true;
            if (parent.red) {
              parent.red = false;
            } else {
              node = parent;
              const up: Node<V> | null = node.parent;
              if (up !== null) {
                parent = up;
                continue;
              }
            }
            return;
          }
          // Sibling's left child is red: rotate right at sibling.
          t1 = t2.right;
          s.left = t1;
          t2.right = s;
          parent.right = t2;
          if (t1 !== null) {
            t1.parent = s;
            t1.red = false;
          }
          augmentRotate(s, t2);
          t1 = s;
          s = t2;
        }
        // Sibling's right child (t1) is red: rotate left at parent and recolour.
        const t2 = s.left;
        parent.right = t2;
        s.left = parent;
        t1.parent = s;
        t1.red = false;
        if (t2 !== null) t2.parent = parent;
        this.rotateSetParents(parent, s, false);
        augmentRotate(parent, s);
        return;
      }
      // node is parent's right child: the mirror image.
      sibling = parent.left;
      let s = sibling as Node<V>;
      if (s.red) {
        const t = s.right as Node<V>;
        parent.left = t;
        s.right = parent;
        t.parent = parent;
        this.rotateSetParents(parent, s, true);
        augmentRotate(parent, s);
        s = t;
      }
      let t1 = s.left;
      if (t1 === null || !t1.red) {
        const t2 = s.right;
        if (t2 === null || !t2.red) {
          s.red = true;
          if (parent.red) {
            parent.red = false;
          } else {
            node = parent;
            const up: Node<V> | null = node.parent;
            if (up !== null) {
              parent = up;
              continue;
            }
          }
          return;
        }
        t1 = t2.left;
        s.right = t1;
        t2.left = s;
        parent.left = t2;
        if (t1 !== null) {
          t1.parent = s;
          t1.red = false;
        }
        augmentRotate(s, t2);
        t1 = s;
        s = t2;
      }
      const t2 = s.right;
      parent.left = t2;
      s.right = parent;
      t1.parent = s;
      t1.red = false;
      if (t2 !== null) t2.parent = parent;
      this.rotateSetParents(parent, s, false);
      augmentRotate(parent, s);
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
