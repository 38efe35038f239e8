import { describe, expect, it } from 'vitest';
import { type IntervalNode, type IntervalNodeView, IntervalTree } from '../src/index.js';

/** A small tree plus a snapshot function, to prove a failed call left it untouched. */
function fixture() {
  const tree = new IntervalTree<string>();
  const a = tree.insert(5, 10, 'a');
  const b = tree.insert(5, 7, 'b');
  const c = tree.insert(1, 100, 'c');
  const d = tree.insert(20, 20, 'd');
  const snapshot = () => ({
    size: tree.size,
    order: [...tree].map((n) => `${n.value}[${n.start},${n.last}]`),
    hits: [...tree.overlapping(6, 6)].map((n) => n.value),
  });
  const before = snapshot();
  const intact = () => {
    tree.validate();
    expect(snapshot()).toEqual(before);
  };
  return { tree, a, b, c, d, intact };
}

const BAD_ENDPOINTS: [string, unknown, unknown][] = [
  ['negative start', -1, 5],
  ['negative last', 0, -1],
  ['fractional start', 1.5, 5],
  ['fractional last', 1, 5.25],
  ['NaN start', Number.NaN, 5],
  ['NaN last', 0, Number.NaN],
  ['Infinity last', 0, Number.POSITIVE_INFINITY],
  ['unsafe last (2^53)', 0, 2 ** 53],
  ['unsafe start (2^60)', 2 ** 60, 2 ** 60],
  ['start > last', 6, 5],
];

describe('bad input throws a clear error and leaves the tree intact', () => {
  for (const [name, s, l] of BAD_ENDPOINTS) {
    it(`insert: ${name}`, () => {
      const { tree, intact } = fixture();
      expect(() => tree.insert(s as number, l as number, 'x')).toThrow(RangeError);
      expect(() => tree.insert(s as number, l as number, 'x')).toThrow(/IntervalTree\.insert/);
      intact();
    });
    it(`iterFirst / iterNext / overlapping: ${name}`, () => {
      const { tree, a, intact } = fixture();
      expect(() => tree.iterFirst(s as number, l as number)).toThrow(RangeError);
      expect(() => tree.iterNext(a, s as number, l as number)).toThrow(RangeError);
      expect(() => tree.overlapping(s as number, l as number)).toThrow(RangeError);
      intact();
    });
  }

  it('error messages say what was wrong', () => {
    const { tree } = fixture();
    expect(() => tree.insert(-1, 5, 'x')).toThrow('start must be a non-negative safe integer, got -1');
    expect(() => tree.insert(0, 2 ** 53, 'x')).toThrow(
      'last must be a non-negative safe integer, got 9007199254740992',
    );
    expect(() => tree.insert(6, 5, 'x')).toThrow(
      'start must be <= last (closed interval [start, last]), got [6, 5]',
    );
    expect(() => tree.insert(Number.NaN, 5, 'x')).toThrow('got NaN');
  });

  it('non-number endpoints throw TypeError', () => {
    const { tree, intact } = fixture();
    expect(() => tree.insert('1' as unknown as number, 5, 'x')).toThrow(TypeError);
    expect(() => tree.insert(1, 5n as unknown as number, 'x')).toThrow(/bigint/);
    expect(() => tree.insert(undefined as unknown as number, 5, 'x')).toThrow(TypeError);
    expect(() => tree.iterFirst(null as unknown as number, 5)).toThrow(TypeError);
    intact();
  });

  it('remove twice', () => {
    const { tree, a, b, c, d } = fixture();
    tree.remove(b);
    tree.validate();
    expect(() => tree.remove(b)).toThrow(/already removed/);
    tree.validate();
    expect(tree.size).toBe(3);
    expect([...tree].map((n) => n.value)).toEqual(['c', 'a', 'd']);
    for (const n of [a, c, d]) expect(tree.has(n)).toBe(true);
    expect(tree.has(b)).toBe(false);
  });

  it('remove / insertAfter / iterNext / next / prev with a node of another tree', () => {
    const { tree, intact } = fixture();
    const other = new IntervalTree<string>();
    const foreign = other.insert(5, 10, 'foreign');
    expect(() => tree.remove(foreign)).toThrow(/belongs to another tree/);
    expect(() => tree.insertAfter(foreign, 10, 'x')).toThrow(/belongs to another tree/);
    expect(() => tree.iterNext(foreign, 0, 100)).toThrow(/belongs to another tree/);
    expect(() => tree.next(foreign)).toThrow(/belongs to another tree/);
    expect(() => tree.prev(foreign)).toThrow(/belongs to another tree/);
    intact();
    other.validate();
    expect(other.size).toBe(1);
  });

  it('insertAfter with a removed node', () => {
    const { tree, b } = fixture();
    tree.remove(b);
    const snapshot = [...tree].map((n) => n.value);
    expect(() => tree.insertAfter(b, 10, 'x')).toThrow(/already removed/);
    tree.validate();
    expect([...tree].map((n) => n.value)).toEqual(snapshot);
  });

  it('insertAfter with an invalid last', () => {
    const { tree, a, intact } = fixture();
    expect(() => tree.insertAfter(a, 4, 'x')).toThrow(/start must be <= last.*got \[5, 4\]/);
    expect(() => tree.insertAfter(a, 5.5, 'x')).toThrow(RangeError);
    expect(() => tree.insertAfter(a, 2 ** 53, 'x')).toThrow(RangeError);
    expect(() => tree.insertAfter(a, Number.NaN, 'x')).toThrow(RangeError);
    intact();
  });

  it('things that are not nodes', () => {
    const { tree, intact } = fixture();
    const fake = { start: 5, last: 10, value: 'fake' } as IntervalNode<string>;
    expect(() => tree.remove(fake)).toThrow(TypeError);
    expect(() => tree.remove(null as unknown as IntervalNode<string>)).toThrow(/not an interval tree node/);
    expect(() => tree.remove(undefined as unknown as IntervalNode<string>)).toThrow(TypeError);
    expect(() => tree.insertAfter(fake, 10, 'x')).toThrow(TypeError);
    expect(() => tree.iterNext(fake, 0, 10)).toThrow(TypeError);
    expect(tree.has(fake)).toBe(false);
    intact();
  });

  it('nodes from before clear() are rejected afterwards', () => {
    const { tree, a } = fixture();
    tree.clear();
    tree.validate();
    expect(tree.size).toBe(0);
    expect(tree.first()).toBeNull();
    expect(tree.iterFirst(0, Number.MAX_SAFE_INTEGER)).toBeNull();
    expect(() => tree.remove(a)).toThrow(/another tree \(or was cleared\)/);
    const n = tree.insert(5, 10, 'new');
    tree.validate();
    expect([...tree]).toEqual([n]);
  });

  it('a removed node keeps its value; its endpoints and links are gone with it', () => {
    const { tree, a } = fixture();
    tree.remove(a);
    expect(a.value).toBe('a');
    expect([a.start, a.last]).toEqual([Number.NaN, Number.NaN]);
    const view = a as unknown as IntervalNodeView<string>;
    expect([view.left, view.right, view.parent, view.red, view.subtreeLast]).toEqual([
      null,
      null,
      null,
      false,
      Number.NaN,
    ]);
  });
});
