import { describe, expect, it } from 'vitest';
import {
  LOCK_CLASS,
  LockContendedError,
  LockOrderError,
  LockSystem,
  lockPage,
  Mutex,
  pageLockOf,
  SpinLock,
  trylockPage,
  UNKNOWN_TASK,
  unlockPage,
} from '../src/index.js';
import { FakePage, recorder, T1, T2 } from './helpers.js';

for (const [label, make] of [
  ['Mutex', (sys: LockSystem) => new Mutex(sys, 'inode->i_mutex', 'inode#1->i_mutex')],
  ['SpinLock', (sys: LockSystem) => new SpinLock(sys, 'inode->i_mutex', 'inode#1->i_mutex')],
] as const) {
  describe(label, () => {
    it('has one owner; contention throws; trylock fails; events in order', () => {
      const rec = recorder();
      const sys = new LockSystem({ onEvent: rec.onEvent });
      const l = make(sys);
      expect(l.kind).toBe(label === 'Mutex' ? 'mutex' : 'spinlock');
      l.lock(T1);
      expect(l.owner).toBe(T1);
      expect(sys.holders(l)).toEqual([{ task: T1, mode: 'write' }]);
      expect(() => l.lock(T2)).toThrow(LockContendedError);
      expect(l.trylock(T2)).toBe(false);
      expect(l.owner).toBe(T1);
      l.unlock(T1);
      expect(l.owner).toBeNull();
      expect(l.trylock(T2)).toBe(true);
      l.unlock(T2);
      expect(sys.reports).toEqual([]);
      expect(rec.events).toEqual([
        'acquire kswapd0 inode#1->i_mutex write',
        'contended bash inode#1->i_mutex write',
        'trylock-failed bash inode#1->i_mutex write',
        'release kswapd0 inode#1->i_mutex write',
        'acquire bash inode#1->i_mutex write',
        'release bash inode#1->i_mutex write',
      ]);
    });

    it('reports double acquire and release by a non-owner', () => {
      const sys = new LockSystem({ strict: false });
      const l = make(sys);
      l.lock(T1);
      l.lock(T1);
      l.unlock(T2);
      expect(sys.reports.map((r) => r.kind)).toEqual(['double-acquire', 'release-unheld']);
      expect(l.owner).toBe(T1);
      l.unlock(T1);
      l.unlock(T1);
      expect(sys.reports.map((r) => r.kind)).toEqual(['double-acquire', 'release-unheld', 'release-unheld']);
    });
  });
}

describe('SpinLock.lockNested', () => {
  it('a subclass lets two pte locks nest (mremap move_ptes)', () => {
    const rec = { classes: [] as string[] };
    const sys = new LockSystem({ onEvent: (e) => e.type === 'acquire' && rec.classes.push(e.lockClass) });
    const oldPtl = new SpinLock(sys, LOCK_CLASS.pteLock, 'mm1->pte[0]');
    const newPtl = new SpinLock(sys, LOCK_CLASS.pteLock, 'mm1->pte[9]');
    oldPtl.lock(T1);
    newPtl.lockNested(T1, 1);
    newPtl.unlock(T1);
    oldPtl.unlock(T1);
    expect(sys.reports).toEqual([]);
    expect(rec.classes).toEqual(['pte_lock', 'pte_lock/1']);
    oldPtl.lock(T1);
    expect(() => newPtl.lock(T1)).toThrow(/recursive/);
  });
});

describe('PG_locked bit lock', () => {
  it('lock_page / trylock_page / unlock_page drive the page bit', () => {
    const rec = recorder();
    const sys = new LockSystem({ onEvent: rec.onEvent });
    const page = new FakePage('page#1');
    lockPage(sys, T1, page);
    expect(page.locked).toBe(true);
    const bit = pageLockOf(sys, page);
    expect(bit.kind).toBe('bitlock');
    expect(bit.lockClass).toBe(LOCK_CLASS.pageLock);
    expect(bit.name).toBe('page#1');
    expect(bit.owner).toBe(T1);
    expect(sys.heldBy(T1)).toEqual([{ lock: bit, mode: 'write' }]);
    expect(trylockPage(sys, T2, page)).toBe(false);
    let err: LockContendedError | undefined;
    try {
      lockPage(sys, T2, page);
    } catch (e) {
      err = e as LockContendedError;
    }
    expect(err).toBeInstanceOf(LockContendedError);
    expect(err?.owner).toBe(T1);
    expect(page.locked).toBe(true);
    unlockPage(sys, T1, page);
    expect(page.locked).toBe(false);
    expect(trylockPage(sys, T2, page)).toBe(true);
    unlockPage(sys, T2, page);
    expect(rec.events).toEqual([
      'acquire kswapd0 page#1 write',
      'trylock-failed bash page#1 write',
      'contended bash page#1 write',
      'release kswapd0 page#1 write',
      'acquire bash page#1 write',
      'release bash page#1 write',
    ]);
  });

  it('a bit set outside the lock system contends with an unknown owner', () => {
    const sys = new LockSystem();
    const page = new FakePage('page#2');
    page.locked = true;
    expect(trylockPage(sys, T1, page)).toBe(false);
    expect(() => lockPage(sys, T1, page)).toThrow(LockContendedError);
    try {
      lockPage(sys, T1, page);
    } catch (e) {
      expect((e as LockContendedError).owner).toBe(UNKNOWN_TASK);
    }
    expect(page.locked).toBe(true);
  });

  it('unlocking a page one does not hold is reported and leaves the bit alone', () => {
    const sys = new LockSystem();
    const page = new FakePage('page#3');
    lockPage(sys, T1, page);
    expect(() => unlockPage(sys, T2, page)).toThrow(LockOrderError);
    expect(page.locked).toBe(true);
    expect(sys.reports[0].kind).toBe('release-unheld');
    expect(() => lockPage(sys, T1, page)).toThrow(/double acquire/);
  });

  it('page lock takes part in the documented order (PG_locked above i_mmap_rwsem)', () => {
    const sys = new LockSystem({ strict: false });
    const page = new FakePage('page#4');
    const iMmap = new Mutex(sys, LOCK_CLASS.iMmapRwsem, 'f->i_mmap_rwsem');
    iMmap.lock(T1);
    lockPage(sys, T1, page);
    expect(sys.reports.map((r) => r.kind)).toEqual(['inversion']);
    const quiet = new LockSystem({ validateBitLocks: false });
    const q = new Mutex(quiet, LOCK_CLASS.iMmapRwsem, 'f->i_mmap_rwsem');
    q.lock(T1);
    lockPage(quiet, T1, new FakePage('page#5'));
    expect(quiet.reports).toEqual([]);
  });

  it("the BitLock's own lock/trylock/unlock are the same lock as lock_page() on its holder", () => {
    const sys = new LockSystem();
    const page = new FakePage('page#6');
    const l = pageLockOf(sys, page);
    l.lock(T1);
    expect(page.locked).toBe(true);
    expect(sys.isHeld(T1, l)).toBe(true);
    expect(trylockPage(sys, T2, page)).toBe(false);
    unlockPage(sys, T1, page);
    expect(page.locked).toBe(false);
    expect(l.trylock(T2)).toBe(true);
    expect(() => lockPage(sys, T2, page)).toThrow(/double acquire/);
    l.unlock(T2);
    expect(sys.tasksHoldingLocks()).toEqual([]);
  });
});
