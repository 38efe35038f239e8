import { describe, expect, it } from 'vitest';
import { codeLineFor, LISTINGS, listingsFor, walkerOf } from '../src/model/kernel-code';
import { UNMAP_TRACE } from './events';

describe('kernel code panel', () => {
  it('shows try_to_unmap, the anon walker and try_to_unmap_one for an unmap', () => {
    expect(walkerOf(UNMAP_TRACE)).toBe('rmap_walk_anon');
    expect(listingsFor(UNMAP_TRACE)).toEqual(['try_to_unmap', 'rmap_walk_anon', 'try_to_unmap_one']);
  });

  it('maps each event to the line that produced it', () => {
    const lines = UNMAP_TRACE.map((_, i) => {
      const r = codeLineFor(UNMAP_TRACE, i);
      return r ? `${r.listing}:${r.line}` : null;
    });
    expect(lines).toEqual([
      'try_to_unmap:walk',
      'rmap_walk_anon:lock',
      'rmap_walk_anon:lock',
      'rmap_walk_anon:address',
      'try_to_unmap_one:check',
      'try_to_unmap_one:check',
      'try_to_unmap_one:remove',
      'try_to_unmap_one:unlock',
      'try_to_unmap_one:return',
      'rmap_walk_anon:address',
      'try_to_unmap_one:check',
      'try_to_unmap_one:check',
      'try_to_unmap_one:unlock',
      'try_to_unmap_one:return',
      'rmap_walk_anon:done',
      'rmap_walk_anon:unlock',
      'rmap_walk_anon:return',
      'try_to_unmap:result',
    ]);
  });

  it('only maps to lines that exist in the listing', () => {
    for (let i = 0; i < UNMAP_TRACE.length; i++) {
      const r = codeLineFor(UNMAP_TRACE, i);
      if (r) expect(LISTINGS[r.listing].lines.some((l) => l.id === r.line)).toBe(true);
    }
    expect(codeLineFor(UNMAP_TRACE, UNMAP_TRACE.length)).toBeNull();
  });
});

describe('lastCodeLine', () => {
  it('keeps the line of the nearest earlier event when the current one has none', async () => {
    const { lastCodeLine } = await import('../src/model/kernel-code');
    const events = [
      { kind: 'walk', fn: 'rmap_walk_anon', task: '1:P', msg: 'start', refs: { pfn: 1, anonVma: 3 } },
      { kind: 'lock', fn: 'unlock_page', task: '1:P', msg: 'released page#1', refs: { lock: 'page#1' } },
    ] as const;
    expect(codeLineFor(events as never, 1)).toBeNull();
    expect(lastCodeLine(events as never, 1)).toEqual(codeLineFor(events as never, 0));
    expect(lastCodeLine([], 0)).toBeNull();
  });
});
