import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ComparedObservation, compareObservations, formatDifference } from '../src/index.js';

const anon = ['anon', 'swapbacked'];

function obs(pages: ComparedObservation['pages'], absent: string[] = []): ComparedObservation {
  return { step: 1, pages, absent };
}

describe('compareObservations', () => {
  it('finds nothing when pages, mappings and flags are listed in another order', () => {
    const k = obs([
      { mapcount: 2, flags: ['swapbacked', 'anon'], mappings: ['B:h:1', 'A:h:1'] },
      { mapcount: 0, flags: ['zero'], mappings: ['A:h:0'] },
    ]);
    const m = obs([
      { mapcount: 0, flags: ['zero'], mappings: ['A:h:0'] },
      { mapcount: 2, flags: anon, mappings: ['A:h:1', 'B:h:1'] },
    ]);
    expect(compareObservations(k, m)).toEqual([]);
  });

  it('names a page the kernel shares and the model does not', () => {
    const k = obs([{ mapcount: 2, flags: anon, mappings: ['A:heap:3', 'B:heap:3'] }]);
    const m = obs([
      { mapcount: 1, flags: anon, mappings: ['A:heap:3'] },
      { mapcount: 1, flags: anon, mappings: ['B:heap:3'] },
    ]);
    expect(compareObservations(k, m).map(formatDifference)).toEqual([
      'A:heap:3 B:heap:3: kernel maps them together (mapcount 2, anon,swapbacked), model maps each alone (mapcount 1, anon,swapbacked)',
    ]);
    const m3 = obs([{ mapcount: 3, flags: anon, mappings: ['A:heap:3', 'B:heap:3', 'C:heap:3'] }]);
    expect(compareObservations(k, m3).map(formatDifference)).toEqual([
      'A:heap:3 B:heap:3: kernel maps them together (mapcount 2, anon,swapbacked), model maps them with C:heap:3 (mapcount 3, anon,swapbacked)',
      'C:heap:3: kernel does not know it (no such process or region there), model maps it with A:heap:3 B:heap:3 (mapcount 3, anon,swapbacked)',
    ]);
  });

  it('names differing flags and mapcounts of the same page', () => {
    const k = obs([{ mapcount: 1, flags: ['anon', 'mlocked', 'swapbacked'], mappings: ['A:heap:1'] }]);
    const m = obs([{ mapcount: 1, flags: anon, mappings: ['A:heap:1'] }]);
    expect(compareObservations(k, m).map(formatDifference)).toEqual([
      'A:heap:1: flags differ: kernel anon,mlocked,swapbacked, model anon,swapbacked',
    ]);
    const m2 = obs([{ mapcount: 3, flags: [], mappings: ['A:heap:1'] }]);
    const [d] = compareObservations(k, m2);
    expect(d.kind).toBe('mapcount');
    expect(formatDifference(d)).toBe(
      'A:heap:1: mapcount differs: kernel 1, model 3; flags differ: kernel anon,mlocked,swapbacked, model no flags',
    );
  });

  it('reports absent on one side and unknown mappings', () => {
    const k = obs([{ mapcount: 1, flags: [], mappings: ['C:q:1'] }], ['C:q:2']);
    const m = obs([], ['C:q:1', 'C:q:2', 'C:x:0']);
    expect(compareObservations(k, m).map(formatDifference)).toEqual([
      'C:q:1: kernel maps it alone (mapcount 1, no flags), model has it absent',
      'C:x:0: kernel does not know it (no such process or region there), model has it absent',
    ]);
  });

  it('reports one line for a shared page the model splits into singly-mapped pages', () => {
    const names = Array.from({ length: 256 }, (_, i) => `A:m:${i}`);
    const k = obs([{ mapcount: 256, flags: ['anon', 'ksm', 'swapbacked'], mappings: names }]);
    const m = obs(names.map((n) => ({ mapcount: 1, flags: anon, mappings: [n] })));
    expect(compareObservations(k, m).map(formatDifference)).toEqual([
      'A:m:0..255: kernel maps them together (mapcount 256, anon,ksm,swapbacked), model maps each alone (mapcount 1, anon,swapbacked)',
    ]);
  });

  // Random observations: a page per group of a random partition of the mappings.
  const observation = fc
    .array(
      fc.record({ group: fc.nat(5), mapcount: fc.nat(4), flags: fc.subarray(['anon', 'ksm', 'mlocked']) }),
      {
        minLength: 1,
        maxLength: 12,
      },
    )
    .map((slots) => {
      const pages = new Map<number, { mapcount: number; flags: string[]; mappings: string[] }>();
      const absent: string[] = [];
      slots.forEach((s, i) => {
        const name = `P:r:${i}`;
        if (s.group === 5) absent.push(name);
        else {
          const p = pages.get(s.group) ?? { mapcount: s.mapcount, flags: s.flags, mappings: [] };
          p.mappings.push(name);
          pages.set(s.group, p);
        }
      });
      return obs([...pages.values()], absent);
    });

  it('is empty exactly when the two observations describe the same pages (property)', () => {
    fc.assert(
      fc.property(observation, observation, (a, b) => {
        const canon = (o: ComparedObservation) =>
          JSON.stringify({
            pages: o.pages
              .map(
                (p) => `${[...p.mappings].sort().join(' ')}|${p.mapcount}|${[...p.flags].sort().join(',')}`,
              )
              .sort(),
            absent: [...o.absent].sort(),
          });
        expect(compareObservations(a, a)).toEqual([]);
        expect(compareObservations(a, b).length === 0).toBe(canon(a) === canon(b));
        // Every mapping that differs is named exactly once.
        const named = compareObservations(a, b).flatMap((d) => d.where);
        expect(new Set(named).size).toBe(named.length);
      }),
    );
  });
});
