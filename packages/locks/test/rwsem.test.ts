import { describe, expect, it } from 'vitest';
import { LockContendedError, LockOrderError, LockSystem, RwSemaphore } from '../src/index.js';
import { recorder, T1, T2, T3 } from './helpers.js';

function setup(strict = true) {
  const rec = recorder();
  const sys = new LockSystem({ strict, onEvent: rec.onEvent });
  const sem = new RwSemaphore(sys, 'anon_vma->rwsem', 'anon_vma#1->rwsem');
  return { sys, sem, events: rec.events };
}

describe('RwSemaphore', () => {
  it('has name, class and kind', () => {
    const { sem } = setup();
    expect(sem.name).toBe('anon_vma#1->rwsem');
    expect(sem.lockClass).toBe('anon_vma->rwsem');
    expect(sem.kind).toBe('rwsem');
  });

  it('admits many readers', () => {
    const { sys, sem } = setup();
    sem.downRead(T1);
    sem.downRead(T2);
    expect(sem.readers).toBe(2);
    expect(sem.writer).toBeNull();
    expect(sys.holders(sem)).toEqual([
      { task: T1, mode: 'read' },
      { task: T2, mode: 'read' },
    ]);
    sem.upRead(T1);
    expect(sem.readers).toBe(1);
    expect(sys.holders(sem)).toEqual([{ task: T2, mode: 'read' }]);
    sem.upRead(T2);
    expect(sem.readers).toBe(0);
  });

  it('admits one writer', () => {
    const { sys, sem } = setup();
    sem.downWrite(T1);
    expect(sem.writer).toBe(T1);
    expect(sys.heldBy(T1)).toEqual([{ lock: sem, mode: 'write' }]);
    sem.upWrite(T1);
    expect(sem.writer).toBeNull();
    expect(sys.heldBy(T1)).toEqual([]);
  });

  it('blocking acquire against an incompatible holder throws LockContendedError without state change', () => {
    const { sys, sem, events } = setup();
    sem.downRead(T1);
    let err: unknown;
    try {
      sem.downWrite(T2);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LockContendedError);
    const c = err as LockContendedError;
    expect(c.lock).toBe(sem);
    expect(c.task).toBe(T2);
    expect(c.owner).toBe(T1);
    expect(sem.writer).toBeNull();
    expect(sem.readers).toBe(1);
    expect(sys.heldBy(T2)).toEqual([]);
    expect(sys.reports).toEqual([]);
    expect(events).toEqual([
      'acquire kswapd0 anon_vma#1->rwsem read',
      'contended bash anon_vma#1->rwsem write',
    ]);

    sem.upRead(T1);
    sem.downWrite(T2);
    expect(() => sem.downRead(T3)).toThrow(LockContendedError);
    expect(() => sem.downWrite(T3)).toThrow(/bash\/2/);
  });

  it('trylocks succeed or fail without a report', () => {
    const { sys, sem, events } = setup();
    expect(sem.downWriteTrylock(T1)).toBe(true);
    expect(sem.downReadTrylock(T2)).toBe(false);
    expect(sem.downWriteTrylock(T2)).toBe(false);
    sem.upWrite(T1);
    expect(sem.downReadTrylock(T2)).toBe(true);
    expect(sem.downReadTrylock(T3)).toBe(true);
    expect(sem.downWriteTrylock(T1)).toBe(false);
    expect(sys.reports).toEqual([]);
    expect(events).toEqual([
      'acquire kswapd0 anon_vma#1->rwsem write',
      'trylock-failed bash anon_vma#1->rwsem read',
      'trylock-failed bash anon_vma#1->rwsem write',
      'release kswapd0 anon_vma#1->rwsem write',
      'acquire bash anon_vma#1->rwsem read',
      'acquire ksmd anon_vma#1->rwsem read',
      'trylock-failed kswapd0 anon_vma#1->rwsem write',
    ]);
  });

  it('re-acquiring the same instance is a double-acquire, in any mode', () => {
    for (const [first, second] of [
      ['read', 'read'],
      ['read', 'write'],
      ['write', 'read'],
      ['write', 'write'],
    ] as const) {
      const { sys, sem } = setup();
      if (first === 'read') sem.downRead(T1);
      else sem.downWrite(T1);
      const again = () => (second === 'read' ? sem.downRead(T1) : sem.downWrite(T1));
      expect(again).toThrow(LockOrderError);
      expect(sys.reports.map((r) => r.kind)).toEqual(['double-acquire']);
      expect(sys.reports[0].held).toEqual(['anon_vma#1->rwsem']);
      expect(sys.heldBy(T1)).toHaveLength(1);
    }
  });

  it('a trylock of an instance the task holds is a double-acquire too', () => {
    const { sys, sem, events } = setup(false);
    sem.downRead(T1);
    expect(sem.downReadTrylock(T1)).toBe(false);
    expect(sys.reports.map((r) => r.kind)).toEqual(['double-acquire']);
    expect(events.at(-1)).toBe('trylock-failed kswapd0 anon_vma#1->rwsem read');
  });

  it('releasing an unheld lock or in the wrong mode is reported', () => {
    const { sys, sem, events } = setup();
    expect(() => sem.upRead(T1)).toThrow(LockOrderError);
    sem.downRead(T1);
    expect(() => sem.upWrite(T1)).toThrow(/holds it for read, not write/);
    expect(() => sem.upRead(T2)).toThrow(/does not hold it/);
    expect(sys.reports.map((r) => r.kind)).toEqual(['release-unheld', 'release-unheld', 'release-unheld']);
    expect(sem.readers).toBe(1);
    sem.upRead(T1);
    expect(events).toEqual([
      'acquire kswapd0 anon_vma#1->rwsem read',
      'release kswapd0 anon_vma#1->rwsem read',
    ]);
  });

  it('works without a listener and the listener can be installed later', () => {
    const sys = new LockSystem();
    const sem = new RwSemaphore(sys, 'anon_vma->rwsem', 'av');
    sem.downWrite(T1);
    const rec = recorder();
    sys.onEvent = rec.onEvent;
    sem.upWrite(T1);
    sys.onEvent = undefined;
    sem.downRead(T1);
    expect(rec.events).toEqual(['release kswapd0 av write']);
  });

  it('events carry the lock class', () => {
    const seen: string[] = [];
    const sys = new LockSystem({ onEvent: (e) => seen.push(e.lockClass) });
    const sem = new RwSemaphore(sys, 'mm->mmap_sem', 'mm1->mmap_sem');
    sem.downRead(T1);
    sem.upRead(T1);
    expect(seen).toEqual(['mm->mmap_sem', 'mm->mmap_sem']);
  });

  it('tasks are the same when id and name match, even as different objects', () => {
    const { sys, sem } = setup();
    sem.downWrite({ id: 1, name: 'kswapd0' });
    expect(sys.heldBy(T1)).toHaveLength(1);
    sem.upWrite({ id: 1, name: 'kswapd0' });
    // same id, different name: different tasks (as the mm model's kswapd0 and ksmd)
    sem.downRead({ id: 0, name: 'kswapd0' });
    expect(() => sem.upRead({ id: 0, name: 'ksmd' })).toThrow(LockOrderError);
  });
});
