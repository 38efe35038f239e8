/**
 * Walk logs and walk reports: a log keeps every visit, also past the room it made for the page's
 * mappings when the walk started, in the order the trace shows them; a report builds its visits
 * from the log once, when first read.
 */
import type { TraceEvent } from '@rmaplab/mm';
import { describe, expect, it } from 'vitest';
import { newWalkLog, type RmapWalkControl, rmapWalk, SWAP_AGAIN, walkAt } from '../src/index.js';
import { World } from './helpers.js';

/** P writes page 0 of `heap`, forks `children` children, and each child writes its own copy. */
function copiedFamily(children: number): World {
  const w = new World();
  w.spawn('P');
  w.mmap('P', 'heap', 4);
  w.write('P', 'heap', 0);
  for (let i = 1; i <= children; i++) {
    w.fork('P', `C${i}`);
    w.write(`C${i}`, 'heap', 0);
  }
  return w;
}

describe('walk log', () => {
  it('keeps every visit of a walk that visits far more VMAs than map the page', () => {
    // The page is mapped once (P), but P's anon_vma tree holds all 41 VMAs: the log outgrows the
    // room it made for the page's one mapping, twice.
    const w = copiedFamily(40);
    const pfn = w.pfn('P', 'heap', 0);
    const events: TraceEvent[] = [];
    w.sys.setTrace((e) => events.push(e));
    const r = walkAt(w.sys, w.mm('P'), w.addr('heap', 0));
    w.sys.setTrace(null);
    const names = ['P', ...Array.from({ length: 40 }, (_, i) => `C${i + 1}`)];
    expect(r.pfn).toBe(pfn);
    expect(r.walk.visited).toBe(41);
    expect(r.walk.visits.map((v) => [v.process, v.address, v.result, v.pte])).toEqual(
      names.map((p) => [p, w.addr('heap', 0), 'SWAP_AGAIN', p === 'P' ? 'found' : 'none']),
    );
    // The same visits, in the same order, as the trace's rmap_one events and PTE probes.
    const oneEvents = events.filter((e) => e.fn === 'page_mapped_in_vma');
    expect(r.walk.visits.map((v) => [v.vma, v.address])).toEqual(
      oneEvents.map((e) => [e.refs?.vma, e.refs?.addr]),
    );
    const probes = events.filter((e) => e.fn === 'page_check_address').map((e) => e.refs?.result);
    expect(r.walk.visits.map((v) => v.pte)).toEqual(probes);
  });

  it('records the AVC that led to each VMA of an anon walk, and none for a file walk', () => {
    const w = copiedFamily(2);
    const log = newWalkLog();
    const rwc: RmapWalkControl<null> = {
      arg: null,
      name: 'visit',
      rmapOne: () => SWAP_AGAIN,
      done: null,
      anonLock: null,
      invalidVma: null,
    };
    w.sys.as(w.sys.kswapd, () => rmapWalk(w.sys, w.pfn('P', 'heap', 0), rwc, log));
    expect(log.visits.map((v) => v.avc?.vma)).toEqual(log.visits.map((v) => v.vma));
    expect(log.visits.map((v) => v.vma.vmMm)).toEqual([w.mm('P'), w.mm('C1'), w.mm('C2')]);
    expect(log.visits.every((v) => v.pte === null)).toBe(true);

    const f = new World();
    f.shareFile(['A', 'B'], 'f', 1, 'data');
    f.read('A', 'f');
    f.read('B', 'f');
    const fr = walkAt(f.sys, f.mm('A'), f.addr('f'));
    expect(fr.walk.visits.map((v) => [v.process, v.avc])).toEqual([
      ['A', null],
      ['B', null],
    ]);
  });
});

describe('walk report', () => {
  it('builds its visits once, on first read', () => {
    const w = copiedFamily(3);
    const r = walkAt(w.sys, w.mm('P'), w.addr('heap', 0));
    const first = r.walk.visits;
    expect(r.walk.visits).toBe(first);
    expect(first.map((v) => v.process)).toEqual(['P', 'C1', 'C2', 'C3']);
    expect(first.length).toBe(r.walk.visited);
  });

  it('serializes with its visits, as plain data', () => {
    const w = copiedFamily(1);
    const r = walkAt(w.sys, w.mm('P'), w.addr('heap', 0));
    expect(JSON.parse(JSON.stringify(r.walk))).toEqual({
      kind: 'anon',
      anonVma: r.walk.anonVma,
      mapping: null,
      result: 'SWAP_AGAIN',
      stop: null,
      visited: 2,
      visits: r.walk.visits,
    });
  });
});
