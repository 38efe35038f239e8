import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ComparedObservation,
  type ComparedVma,
  compareObservations,
  formatDifference,
} from '../src/index.js';

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

  it('compares which pages share a folio, not the folio ids', () => {
    const thp = (i: number, folio?: number) => ({
      mapcount: 1,
      flags: [...anon, 'thp', i === 0 ? 'head' : 'tail'],
      mappings: [`A:heap:${i}`],
      ...(folio === undefined ? {} : { folio }),
    });
    const k = obs([0, 1, 2, 3].map((i) => thp(i, 7)));
    expect(compareObservations(k, obs([3, 2, 1, 0].map((i) => thp(i, 1))))).toEqual([]);
    // The head's flags differ from its tails', so it is a difference of its own.
    expect(compareObservations(k, obs([0, 1, 2, 3].map((i) => thp(i)))).map(formatDifference)).toEqual([
      'A:heap:0: folio differs: kernel the folio of A:heap:0..3, model no large folio',
      'A:heap:1..3: folio differs: kernel the folio of A:heap:0..3, model no large folio',
    ]);
    const halves = compareObservations(k, obs([0, 1, 2, 3].map((i) => thp(i, i < 2 ? 1 : 2))));
    expect(halves.map((d) => d.kind)).toEqual(['folio', 'folio', 'folio']);
    expect(halves.map(formatDifference)).toEqual([
      'A:heap:0: folio differs: kernel the folio of A:heap:0..3, model the folio of A:heap:0..1',
      'A:heap:1: folio differs: kernel the folio of A:heap:0..3, model the folio of A:heap:0..1',
      'A:heap:2..3: folio differs: kernel the folio of A:heap:0..3, model the folio of A:heap:2..3',
    ]);
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

  it('compares the VMAs of each region: layout, protection and flags, flags as a set', () => {
    const vma = (first: number, last: number, prot: string, ...flags: string[]) => ({
      region: 'heap',
      first,
      last,
      prot,
      flags,
    });
    const k = { ...obs([]), vmas: { A: [vma(0, 3, 'rw', 'account', 'nohugepage')], B: [] } };
    expect(
      compareObservations(k, { ...obs([]), vmas: { B: [], A: [vma(0, 3, 'rw', 'nohugepage', 'account')] } }),
    ).toEqual([]);
    const split = {
      ...obs([]),
      vmas: { A: [vma(0, 1, 'r', 'nohugepage'), vma(2, 3, 'rw', 'account')], B: [] },
    };
    expect(compareObservations(k, split).map(formatDifference)).toEqual([
      'A:heap VMAs differ: kernel has 0..3 rw account,nohugepage, model has 0..1 r nohugepage | 2..3 rw account',
    ]);
    const flags = { ...obs([]), vmas: { A: [vma(0, 3, 'r', 'locked', 'nohugepage')], B: [] } };
    const [d] = compareObservations(k, flags);
    expect(d.kind).toBe('vma');
    expect(formatDifference(d)).toBe(
      'A:heap:0..3 (VMA): prot differs: kernel rw, model r; VMA flags differ: account kernel only, locked model only',
    );
    const other = {
      ...obs([]),
      vmas: { A: [vma(0, 3, 'rw', 'account', 'nohugepage')], C: [vma(0, 0, 'rw')] },
    };
    expect(compareObservations(k, other).map(formatDifference)).toEqual([
      'C:heap VMAs differ: kernel does not know the process, model has 0..0 rw no flags',
    ]);
    const gone = { ...obs([]), vmas: { A: [vma(0, 1, 'rw', 'account', 'nohugepage')], B: [] } };
    expect(compareObservations(gone, { ...obs([]), vmas: { A: [], B: [] } }).map(formatDifference)).toEqual([
      'A:heap VMAs differ: kernel has 0..1 rw account,nohugepage, model has no VMA there',
    ]);
  });

  it('names each KSM counter that differs, and a `ksm` only one side reports', () => {
    const ksm = {
      pages_shared: 2,
      pages_sharing: 293,
      pages_unshared: 10,
      stable_node_chains: 1,
      stable_node_dups: 2,
    };
    const v2 = { ...obs([]), vmas: {} };
    expect(compareObservations({ ...v2, ksm }, { ...v2, ksm: { ...ksm } })).toEqual([]);
    const m = { ...v2, ksm: { ...ksm, pages_sharing: 298, stable_node_dups: 1 } };
    expect(compareObservations({ ...v2, ksm }, m).map(formatDifference)).toEqual([
      'ksm: pages_sharing kernel 293, model 298; stable_node_dups kernel 2, model 1',
    ]);
    expect(compareObservations(v2, { ...v2, ksm }).map(formatDifference)).toEqual([
      'ksm: pages_shared kernel absent, model 2; pages_sharing kernel absent, model 293; pages_unshared kernel absent, model 10; stable_node_chains kernel absent, model 1; stable_node_dups kernel absent, model 2',
    ]);
    // A contract v1 side (no vmas) has no counters to compare with.
    expect(compareObservations(obs([]), { ...v2, ksm })).toEqual([]);
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
        const named = compareObservations(a, b).flatMap((d) => ('where' in d ? d.where : []));
        expect(new Set(named).size).toBe(named.length);
      }),
    );
  });

  // Random VMA lists: regions r0..r2 of processes P and Q, each cut into VMAs at random pages.
  const vmas = fc
    .array(
      fc.record({
        proc: fc.constantFrom('P', 'Q'),
        region: fc.constantFrom('r0', 'r1', 'r2'),
        cuts: fc.subarray([1, 2, 3]),
        prot: fc.constantFrom('r', 'rw'),
        flags: fc.subarray(['locked', 'account', 'nohugepage']),
      }),
      { maxLength: 4 },
    )
    .map((list) => {
      const out: Record<string, ComparedVma[]> = { P: [], Q: [] };
      const seen = new Set<string>();
      for (const { proc, region, cuts, prot, flags } of list) {
        if (seen.has(`${proc}:${region}`)) continue;
        seen.add(`${proc}:${region}`);
        const edges = [0, ...cuts, 4];
        for (let i = 0; i + 1 < edges.length; i++)
          out[proc].push({ region, first: edges[i], last: edges[i + 1] - 1, prot, flags });
      }
      return { ...obs([]), vmas: out };
    });

  it('finds no VMA difference exactly when both sides cut every region alike, with the same prot and flags (property)', () => {
    fc.assert(
      fc.property(vmas, vmas, (a, b) => {
        const canon = (o: typeof a) =>
          JSON.stringify(
            Object.entries(o.vmas)
              .flatMap(([p, l]) =>
                l.map((v) => `${p}:${v.region}:${v.first}..${v.last} ${v.prot} ${v.flags}`),
              )
              .sort(),
          );
        expect(compareObservations(a, a)).toEqual([]);
        const diffs = compareObservations(a, b);
        expect(diffs.length === 0).toBe(canon(a) === canon(b));
        // A region is either a layout difference or compared VMA by VMA, never both.
        const layouts = diffs.flatMap((d) => (d.kind === 'vma-layout' ? [`${d.process}:${d.region}`] : []));
        expect(new Set(layouts).size).toBe(layouts.length);
        for (const d of diffs)
          if (d.kind === 'vma') expect(layouts).not.toContain(`${d.process}:${d.kernel.region}`);
      }),
    );
  });
});
