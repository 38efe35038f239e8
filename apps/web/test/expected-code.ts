/**
 * The function a walk event comes from, read off the events alone (independently of the kernel-code
 * model): a listed function's own event is its own; the walker's loop, skip, stop and lock events
 * are the walker's; a PTE probe and the PTE lock taken inside a visit belong to that visit's
 * rmap_one (the next rmap_one result in the pass). Shared by the unit test and the e2e test.
 */
import type { TraceEvent } from '@rmaplab/mm';
import { FOREACH, isRmapOne, type Pass, PROBES, WALKERS } from '../src/model/walk';

export function expectedFunction(events: readonly TraceEvent[], i: number, pass: Pass): string | null {
  const e = events[i];
  if (WALKERS.has(e.fn) || isRmapOne(e.fn)) return e.fn;
  if (FOREACH.has(e.fn) || e.fn === 'invalid_vma' || e.fn === 'done' || /^(down|up)_/.test(e.fn))
    return pass.walker;
  if (PROBES.has(e.fn) || e.fn === 'spin_lock' || e.fn === 'spin_unlock') {
    for (let j = i + 1; j <= pass.to; j++) {
      if (isRmapOne(events[j].fn)) return events[j].fn;
      if (FOREACH.has(events[j].fn)) break;
    }
    return pass.rmapOne;
  }
  return null;
}
