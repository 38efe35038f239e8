import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nodesOf, walkStateAt } from '../src/model/walk';
import { UNMAP_TRACE } from './events';

describe('walkStateAt', () => {
  it('lists the visited VMAs in order with their AVC, address, PTE probe and rmap_one result', () => {
    const w = walkStateAt(UNMAP_TRACE, UNMAP_TRACE.length - 1);
    expect(w.root).toBe('anon_vma:3');
    expect(w.page).toBe('page:5');
    expect(w.visited).toEqual([
      { node: 'vma:2', avc: 'avc:4', addr: 0x10000000000, order: 1, pte: 'found', result: 'SWAP_AGAIN' },
      { node: 'vma:8', avc: 'avc:9', addr: 0x10000000000, order: 2, pte: 'found', result: 'SWAP_AGAIN' },
    ]);
    expect(w.result).toBe('SWAP_SUCCESS');
  });

  it('shows only what happened up to the cursor', () => {
    const w = walkStateAt(UNMAP_TRACE, 4);
    expect(w.visited.map((v) => [v.node, v.pte, v.result])).toEqual([['vma:2', 'found', undefined]]);
    expect(w.current).toEqual(['vma:2']);
    expect(w.result).toBeNull();
    expect(walkStateAt(UNMAP_TRACE, -1).visited).toEqual([]);
  });

  it('marks a VMA that invalid_vma() skipped', () => {
    const events = [
      UNMAP_TRACE[1],
      UNMAP_TRACE[3],
      { kind: 'walk' as const, fn: 'invalid_vma', task: '1:A', msg: 'skip', refs: { vma: 2 } },
    ];
    expect(walkStateAt(events, 2).visited[0].skipped).toBe(true);
  });

  it('grows monotonically: the visits at an earlier cursor are a prefix of the visits at a later one', () => {
    fc.assert(
      fc.property(fc.nat(UNMAP_TRACE.length - 1), fc.nat(UNMAP_TRACE.length - 1), (a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        const early = walkStateAt(UNMAP_TRACE, lo).visited.map((v) => v.node);
        const late = walkStateAt(UNMAP_TRACE, hi).visited.map((v) => v.node);
        expect(late.slice(0, early.length)).toEqual(early);
      }),
    );
  });
});

describe('nodesOf', () => {
  it('names graph nodes with the same ids as buildGraph', () => {
    expect(
      nodesOf({
        kind: 'walk',
        fn: 'x',
        task: 't',
        msg: '',
        refs: { mm: 1, vma: 2, avc: 3, anonVma: 4, pfn: 5, file: 'f' },
      }),
    ).toEqual(['mm:1', 'vma:2', 'avc:3', 'anon_vma:4', 'page:5', 'file:f']);
    expect(nodesOf({ kind: 'call', fn: 'x', task: 't', msg: '' })).toEqual([]);
  });
});
