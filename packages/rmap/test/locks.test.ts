/**
 * Locks and traces: the validator is on in every test (strict World); here a wrong order on purpose,
 * contention on the anon_vma lock (4.9 sleeps — the model reports; 6.12 try_lock gives up), and the
 * walk's trace events.
 */

import { LockContendedError, LockOrderError } from '@rmaplab/locks';
import {
  anonVmaLockRead,
  anonVmaLockWrite,
  anonVmaUnlockRead,
  anonVmaUnlockWrite,
  type TraceEvent,
} from '@rmaplab/mm';
import { describe, expect, it } from 'vitest';
import {
  migrateAt,
  mkcleanAt,
  pageLockAnonVmaRead,
  pageReferenced,
  type RmapWalkControl,
  referencedAt,
  rmapWalk,
  SWAP_AGAIN,
  TTU_IGNORE_ACCESS,
  TTU_UNMAP,
  unmapAt,
  walkAt,
} from '../src/index.js';
import { World } from './helpers.js';

function family(kernel: '4.9' | '6.12'): World {
  const w = new World({ kernel });
  w.spawn('P');
  w.mmap('P', 'heap', 2);
  w.mmap('P', 'f', 2, 'data', true);
  w.write('P', 'heap');
  w.read('P', 'f');
  w.fork('P', 'C');
  return w;
}

describe('locks', () => {
  it('taking i_mmap_rwsem inside anon_vma->rwsem is reported by the validator', () => {
    const w = family('4.9');
    const sys = w.sys;
    const av = w.vma('P', 'heap').anonVma!;
    const mapping = w.vma('P', 'f').vmFile!.mapping;
    let report = '';
    sys.as(sys.kswapd, () => {
      anonVmaLockRead(sys, av);
      try {
        mapping.iMmapRwsem.downRead(sys.current);
      } catch (e) {
        expect(e).toBeInstanceOf(LockOrderError);
        report = (e as LockOrderError).message;
      } finally {
        anonVmaUnlockRead(sys, av);
      }
    });
    console.log(report);
    expect(report).toMatch(/lock order inversion/);
    expect(report).toMatch(/mapping->i_mmap_rwsem/);
    expect(sys.locks.reports.at(-1)?.kind).toBe('inversion');
    w.check();
  });

  it('4.9 page_lock_anon_vma_read: trylock fails, pins the anon_vma, and would sleep (reported, pin dropped)', () => {
    const w = family('4.9');
    const sys = w.sys;
    const pfn = w.pfn('P', 'heap');
    const av = w.vma('P', 'heap').anonVma!;
    const refs = av.refcount;
    const writer = w.mm('C').owner;
    sys.as(writer, () => anonVmaLockWrite(sys, av));
    expect(() => sys.as(sys.kswapd, () => pageLockAnonVmaRead(sys, pfn))).toThrow(LockContendedError);
    expect(av.refcount).toBe(refs);
    sys.as(writer, () => anonVmaUnlockWrite(sys, av));
    const got = sys.as(sys.kswapd, () => pageLockAnonVmaRead(sys, pfn));
    expect(got).toBe(av);
    sys.as(sys.kswapd, () => anonVmaUnlockRead(sys, av));
    w.check();
  });

  it('6.12 folio_referenced uses try_lock: a contended anon_vma gives -1 and no sleep', () => {
    const w = family('6.12');
    const sys = w.sys;
    const pfn = w.pfn('P', 'heap');
    const av = w.vma('P', 'heap').anonVma!;
    const writer = w.mm('C').owner;
    sys.as(writer, () => anonVmaLockWrite(sys, av));
    const r = sys.as(sys.kswapd, () => pageReferenced(sys, pfn, true));
    expect(r.referenced).toBe(-1);
    sys.as(writer, () => anonVmaUnlockWrite(sys, av));
    expect(sys.as(sys.kswapd, () => pageReferenced(sys, pfn, true)).referenced).toBe(1);
    w.check();
  });

  it('a traced walk emits the walk events in order, with the lock events between them', () => {
    const w = family('4.9');
    const events: TraceEvent[] = [];
    w.sys.setTrace((e) => events.push(e));
    walkAt(w.sys, w.mm('P'), w.addr('heap'));
    w.sys.setTrace(null);
    const fns = events.map((e) => `${e.kind}:${e.fn}`);
    expect(fns).toEqual([
      'lock:trylock_page',
      'lock:down_read',
      'walk:rmap_walk_anon',
      'walk:anon_vma_interval_tree_foreach',
      'lock:spin_lock',
      'walk:page_check_address',
      'lock:spin_unlock',
      'walk:page_mapped_in_vma',
      'walk:anon_vma_interval_tree_foreach',
      'lock:spin_lock',
      'walk:page_check_address',
      'lock:spin_unlock',
      'walk:page_mapped_in_vma',
      'lock:up_read',
      'walk:rmap_walk_anon',
      'lock:unlock_page',
    ]);
    expect(events.at(-2)?.refs?.result).toBe('SWAP_AGAIN');
    expect(events.filter((e) => e.fn === 'page_check_address').map((e) => e.refs?.result)).toEqual([
      'found',
      'found',
    ]);
    w.check();
  });
});

describe('trace names of rmap_one', () => {
  /** The rmap_one events: a VMA's `walk` event carrying a SWAP_* result. */
  function rmapOneNames(events: TraceEvent[]): string[] {
    return events
      .filter(
        (e) => e.kind === 'walk' && e.refs?.vma !== undefined && String(e.refs.result).startsWith('SWAP_'),
      )
      .map((e) => e.fn);
  }

  it('every client names its rmap_one as the kernel does, whatever its function is called', () => {
    const w = family('4.9');
    const sys = w.sys;
    const events: TraceEvent[] = [];
    sys.setTrace((e) => events.push(e));
    const seen = (run: () => void): string[] => {
      events.length = 0;
      run();
      return [...new Set(rmapOneNames(events))];
    };
    const P = w.mm('P');
    expect(seen(() => walkAt(sys, P, w.addr('heap')))).toEqual(['page_mapped_in_vma']);
    expect(seen(() => referencedAt(sys, P, w.addr('heap')))).toEqual(['page_referenced_one']);
    expect(seen(() => mkcleanAt(sys, P, w.addr('f')))).toEqual(['page_mkclean_one']);
    expect(seen(() => migrateAt(sys, P, w.addr('heap')))).toEqual([
      'try_to_unmap_one',
      'remove_migration_pte',
    ]);
    expect(seen(() => unmapAt(sys, P, w.addr('f'), TTU_UNMAP | TTU_IGNORE_ACCESS))).toEqual([
      'try_to_unmap_one',
    ]);
    // A client whose callback has no name of its own (as after minification) is named by rwc.name.
    const rwc: RmapWalkControl<null> = {
      arg: null,
      name: 'my_rmap_one',
      rmapOne: [() => SWAP_AGAIN][0],
      done: null,
      anonLock: null,
      invalidVma: null,
    };
    expect(seen(() => sys.as(sys.kswapd, () => rmapWalk(sys, w.pfn('P', 'heap'), rwc)))).toEqual([
      'my_rmap_one',
    ]);
    sys.setTrace(null);
    w.check();
  });
});
