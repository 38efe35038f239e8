import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EXAMPLES } from '../src/model/examples';
import { runSession } from '../src/model/session';
import { nodesOf, passesOf, walkStateAt } from '../src/model/walk';

const kswapd = runSession(EXAMPLES.find((e) => e.name === '02-kswapd-reclaim')!.text);
const stepOf = (source: string, nth = 0) => kswapd.steps.filter((m) => m.source === source)[nth].step;
const secondReclaim = kswapd.detail(stepOf('parent: reclaim heap 0', 1)).events;

describe('passesOf', () => {
  it('cuts a reclaim into its page_referenced pass and its try_to_unmap pass, numbered on their own', () => {
    const passes = passesOf(secondReclaim, 'reclaim');
    expect(passes.map((p) => [p.index, p.client, p.walker, p.rmapOne])).toEqual([
      [1, 'page_referenced', 'rmap_walk_anon', 'page_referenced_one'],
      [2, 'try_to_unmap', 'rmap_walk_anon', 'try_to_unmap_one'],
    ]);
    // Each pass starts with the anon_vma lock its walker takes (page_lock_anon_vma_read tries
    // first) and ends with the walker's result.
    for (const p of passes) {
      expect(secondReclaim[p.from].fn).toBe('down_read_trylock');
      expect(secondReclaim[p.to]).toMatchObject({
        fn: 'rmap_walk_anon',
        refs: { result: expect.any(String) },
      });
    }
    expect(passes[0].to).toBeLessThan(passes[1].from);
  });

  it('finds no pass in a statement that does not walk', () => {
    expect(passesOf(kswapd.detail(stepOf('parent: fork child1')).events)).toEqual([]);
  });
});

describe('walkStateAt', () => {
  const passes = passesOf(secondReclaim, 'reclaim');

  it('lists the visited VMAs of the pass at the cursor, in order, with AVC, address, PTE probe and result', () => {
    const w = walkStateAt(secondReclaim, passes[1].to, passes);
    expect(w.pass?.index).toBe(2);
    expect(w.root).toBe('anon_vma:3');
    expect(w.page).toBe('page:1');
    expect(w.visited.map((v) => [v.order, v.node, v.pte, v.result])).toEqual([
      [1, 'vma:2', 'found', 'SWAP_AGAIN'],
      [2, 'vma:6', 'found', 'SWAP_AGAIN'],
      [3, 'vma:11', 'found', 'SWAP_AGAIN'],
      [4, 'vma:16', 'found', 'SWAP_AGAIN'],
    ]);
    expect(w.visited[0].avc).toBe('avc:4');
    expect(w.result).toBe('SWAP_AGAIN');
  });

  it('numbers the second pass from 1 again, not after the first pass’s visits', () => {
    const firstVisitOfPass2 = secondReclaim.findIndex(
      (e, i) => i > passes[1].from && e.fn === 'anon_vma_interval_tree_foreach',
    );
    const w = walkStateAt(secondReclaim, firstVisitOfPass2, passes);
    expect(w.visited.map((v) => v.order)).toEqual([1]);
    expect(w.current).toContain('vma:2');
  });

  it('grows monotonically within a pass', () => {
    fc.assert(
      fc.property(fc.nat(passes[1].to - passes[1].from), fc.nat(passes[1].to - passes[1].from), (a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        const early = walkStateAt(secondReclaim, passes[1].from + lo, passes).visited.map((v) => v.node);
        const late = walkStateAt(secondReclaim, passes[1].from + hi, passes).visited.map((v) => v.node);
        expect(late.slice(0, early.length)).toEqual(early);
      }),
    );
  });

  it('marks a VMA that invalid_vma() skipped', () => {
    const mk = runSession(EXAMPLES.find((e) => e.name === '20-file-walk-mkclean')!.text);
    const step = mk.steps.find((m) => m.op === 'mkclean')!.step;
    const events = mk.detail(step).events;
    const w = walkStateAt(events, events.length - 1);
    expect(w.visited.some((v) => v.skipped)).toBe(true);
    expect(walkStateAt(events, -1).visited).toEqual([]);
  });
});

describe('nodesOf', () => {
  it('names graph nodes with the same ids as buildStateGraph', () => {
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
