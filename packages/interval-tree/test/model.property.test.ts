import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type IntervalNode, IntervalTree } from '../src/index.js';

/**
 * A brute-force model of the kernel interval tree: a plain list kept in tree order.
 * - insert puts the new entry after the last entry whose start is <= the new start;
 * - insertAfter puts it right after prev;
 * - a query returns, in list order, every entry with start <= last && first <= entry.last.
 */
interface Entry {
  id: number;
  start: number;
  last: number;
  node: IntervalNode<number>;
}

type Op =
  | { kind: 'insert'; start: number; len: number }
  | { kind: 'after'; pick: number; len: number }
  | { kind: 'remove'; pick: number }
  | { kind: 'query'; start: number; len: number };

function opArb(base: number, span: number, maxLen: number): fc.Arbitrary<Op> {
  const start = fc.integer({ min: base, max: base + span });
  const len = fc.integer({ min: 0, max: maxLen });
  const pick = fc.nat({ max: 1_000_000 });
  return fc.oneof(
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('insert' as const), start, len }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('after' as const), pick, len }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('remove' as const), pick }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('query' as const), start, len }) },
  );
}

function checkAgainstModel(tree: IntervalTree<number>, model: Entry[]): void {
  expect(tree.size).toBe(model.length);
  // Full tree order, via both the iterator and first()/next().
  const order = [...tree].map((n) => n.value);
  expect(order).toEqual(model.map((e) => e.id));
  const viaNext: number[] = [];
  for (let n = tree.first(); n !== null; n = tree.next(n)) viaNext.push(n.value);
  expect(viaNext).toEqual(order);
}

function query(tree: IntervalTree<number>, model: Entry[], s: number, l: number): void {
  const expected = model.filter((e) => e.start <= l && s <= e.last).map((e) => e.id);
  const got: number[] = [];
  for (let n = tree.iterFirst(s, l); n !== null; n = tree.iterNext(n, s, l)) got.push(n.value);
  expect(got).toEqual(expected);
  expect([...tree.overlapping(s, l)].map((n) => n.value)).toEqual(expected);
}

function run(ops: Op[], maxSafeTop: number, relayoutMinNodes?: number): void {
  const tree = new IntervalTree<number>({ relayoutMinNodes });
  const model: Entry[] = [];
  let nextId = 0;
  for (const op of ops) {
    switch (op.kind) {
      case 'insert': {
        const last = Math.min(op.start + op.len, maxSafeTop);
        const id = nextId++;
        const node = tree.insert(op.start, last, id);
        expect(node.start).toBe(op.start);
        expect(node.last).toBe(last);
        expect(node.value).toBe(id);
        let pos = model.length;
        while (pos > 0 && model[pos - 1].start > op.start) pos--;
        model.splice(pos, 0, { id, start: op.start, last, node });
        break;
      }
      case 'after': {
        if (model.length === 0) continue;
        const idx = op.pick % model.length;
        const prev = model[idx];
        const last = Math.min(prev.start + op.len, maxSafeTop);
        const id = nextId++;
        const node = tree.insertAfter(prev.node, last, id);
        expect(node.start).toBe(prev.start);
        model.splice(idx + 1, 0, { id, start: prev.start, last, node });
        break;
      }
      case 'remove': {
        if (model.length === 0) continue;
        const idx = op.pick % model.length;
        tree.remove(model[idx].node);
        model.splice(idx, 1);
        break;
      }
      case 'query': {
        query(tree, model, op.start, Math.min(op.start + op.len, maxSafeTop));
        break;
      }
    }
    tree.validate();
    checkAgainstModel(tree, model);
  }
  // Always finish with a few wide queries, then empty the tree in random-ish order.
  query(tree, model, 0, Number.MAX_SAFE_INTEGER);
  query(tree, model, 0, 0);
  while (model.length > 0) {
    const idx = model.length % 3 === 0 ? 0 : model.length >> 1;
    tree.remove(model[idx].node);
    model.splice(idx, 1);
    tree.validate();
  }
  checkAgainstModel(tree, model);
}

describe('IntervalTree against a brute-force ordered-list model', () => {
  it('small key range: many equal and nested intervals (validate after every op, exact visit order)', () => {
    fc.assert(
      fc.property(fc.array(opArb(0, 12, 6), { maxLength: 120 }), (ops) => run(ops, Number.MAX_SAFE_INTEGER)),
      { numRuns: 5000 },
    );
  });

  it('very small key range: mostly duplicates, heavy insertAfter chains', () => {
    fc.assert(
      fc.property(fc.array(opArb(0, 3, 2), { maxLength: 80 }), (ops) => run(ops, Number.MAX_SAFE_INTEGER)),
      { numRuns: 3000 },
    );
  });

  it('wider key range with long intervals: deeper trees', () => {
    fc.assert(
      fc.property(fc.array(opArb(0, 1000, 400), { minLength: 50, maxLength: 300 }), (ops) =>
        run(ops, Number.MAX_SAFE_INTEGER),
      ),
      { numRuns: 300 },
    );
  });

  it('values near 2^53 (page offsets far beyond 2^32)', () => {
    const top = Number.MAX_SAFE_INTEGER;
    fc.assert(
      fc.property(fc.array(opArb(top - 20, 20, 8), { maxLength: 100 }), (ops) => run(ops, top)),
      { numRuns: 600 },
    );
  });

  it('values around 2^36 (48-bit addresses as page offsets)', () => {
    fc.assert(
      fc.property(fc.array(opArb(2 ** 36 - 10, 20, 8), { maxLength: 100 }), (ops) => run(ops, 2 ** 36 + 100)),
      { numRuns: 400 },
    );
  });

  it('with a relayout before (almost) every walk: same results, handles stay valid', () => {
    // relayoutMinNodes 0: every walk after a quarter of the nodes changed rewrites the arrays in tree
    // order; the model checks that walks, insertAfter and remove through old handles are unaffected.
    fc.assert(
      fc.property(fc.array(opArb(0, 40, 12), { maxLength: 150 }), fc.constantFrom(0, 3, 16), (ops, min) =>
        run(ops, Number.MAX_SAFE_INTEGER, min),
      ),
      { numRuns: 2000 },
    );
  });
});
