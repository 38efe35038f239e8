import type { TraceEvent } from '@rmaplab/mm';
import { describe, expect, it } from 'vitest';
import { lockAction, lockMode, replayLocks } from '../src/model/locks';
import { UNMAP_TRACE } from './events';

const lockEv = (fn: string, msg: string, lock: string, task = '1:A'): TraceEvent => ({
  kind: 'lock',
  fn,
  task,
  msg,
  refs: { lock },
});

describe('replayLocks', () => {
  it('holds the anon_vma rwsem for reading across the walk and the pte lock only inside try_to_unmap_one', () => {
    const inside = replayLocks(UNMAP_TRACE, 5);
    expect(inside.held.get('1:A')?.map((h) => [h.lock, h.mode])).toEqual([
      ['anon_vma#3->rwsem', 'read'],
      ['pte#1', 'exclusive'],
    ]);
    const between = replayLocks(UNMAP_TRACE, 8);
    expect(between.held.get('1:A')?.map((h) => h.lock)).toEqual(['anon_vma#3->rwsem']);
    expect(replayLocks(UNMAP_TRACE, UNMAP_TRACE.length - 1).held.size).toBe(0);
  });

  it('records contention and failed trylocks without counting them as held', () => {
    const events = [
      lockEv('down_write', 'took anon_vma#1->rwsem (write)', 'anon_vma#1->rwsem', '2:B'),
      lockEv('down_read', 'contended anon_vma#1->rwsem (read)', 'anon_vma#1->rwsem'),
      lockEv('down_read_trylock', 'trylock-failed anon_vma#1->rwsem (read)', 'anon_vma#1->rwsem'),
    ];
    const s = replayLocks(events, 2);
    expect([...s.held.keys()]).toEqual(['2:B']);
    expect(s.incidents.map((i) => [i.task, i.action])).toEqual([
      ['1:A', 'contended'],
      ['1:A', 'trylock-failed'],
    ]);
  });

  it('releases out of order as lockdep allows', () => {
    const events = [
      lockEv('down_read', 'took a (read)', 'a'),
      lockEv('spin_lock', 'took b', 'b'),
      lockEv('up_read', 'released a (read)', 'a'),
    ];
    expect(
      replayLocks(events, 2)
        .held.get('1:A')
        ?.map((h) => h.lock),
    ).toEqual(['b']);
  });
});

describe('lock event names', () => {
  it('reads the action and mode from the kernel function name', () => {
    expect(lockAction(lockEv('up_write', 'released x (write)', 'x'))).toBe('release');
    expect(lockAction(lockEv('unlock_page', 'released x', 'x'))).toBe('release');
    expect(lockAction(lockEv('lock_page', 'took x', 'x'))).toBe('acquire');
    expect(lockAction(lockEv('trylock_page', 'trylock-failed x', 'x'))).toBe('trylock-failed');
    // A trylock that succeeded took the lock, in any release's spelling.
    expect(lockAction(lockEv('down_read_trylock', 'took x (read)', 'x'))).toBe('acquire');
    expect(lockAction(lockEv('folio_trylock', 'took x', 'x'))).toBe('acquire');
    expect(lockAction(lockEv('folio_unlock', 'released x', 'x'))).toBe('release');
    expect(lockMode(lockEv('down_write', '', 'x'))).toBe('write');
    expect(lockMode(lockEv('mutex_lock', '', 'x'))).toBe('exclusive');
  });
});
