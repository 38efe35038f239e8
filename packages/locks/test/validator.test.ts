import { describe, expect, it } from 'vitest';
import {
  LOCK_CLASS,
  LockOrderError,
  type LockReport,
  LockSystem,
  lockPage,
  Mutex,
  RMAP_LOCK_ORDER_6_12,
  RwSemaphore,
  SpinLock,
  unlockPage,
} from '../src/index.js';
import { FakePage, T1, T2 } from './helpers.js';

function world(strict = true) {
  const sys = new LockSystem({ strict });
  const mmapSem = new RwSemaphore(sys, LOCK_CLASS.mmapSem, 'mm1->mmap_sem');
  const iMmap = new RwSemaphore(sys, LOCK_CLASS.iMmapRwsem, 'file1->i_mmap_rwsem');
  const iMmap2 = new RwSemaphore(sys, LOCK_CLASS.iMmapRwsem, 'file2->i_mmap_rwsem');
  const av1 = new RwSemaphore(sys, LOCK_CLASS.anonVmaRwsem, 'anon_vma#1->rwsem');
  const av2 = new RwSemaphore(sys, LOCK_CLASS.anonVmaRwsem, 'anon_vma#2->rwsem');
  const ptl = new SpinLock(sys, LOCK_CLASS.pteLock, 'mm1->pte[0]');
  const pgtl = new SpinLock(sys, LOCK_CLASS.pageTableLock, 'mm1->page_table_lock');
  const swap = new SpinLock(sys, LOCK_CLASS.swapLock, 'swap_lock');
  const mmlist = new SpinLock(sys, LOCK_CLASS.mmlistLock, 'mmlist_lock');
  return { sys, mmapSem, iMmap, iMmap2, av1, av2, ptl, pgtl, swap, mmlist };
}

function caught(fn: () => void): LockOrderError {
  try {
    fn();
  } catch (e) {
    if (e instanceof LockOrderError) return e;
    throw e;
  }
  throw new Error('expected a LockOrderError');
}

describe('validator: documented order', () => {
  it('the documented nesting passes', () => {
    const w = world();
    const page = new FakePage('page#1');
    w.mmapSem.downRead(T1);
    lockPage(w.sys, T1, page);
    w.iMmap.downWrite(T1);
    w.av1.downWrite(T1);
    w.ptl.lock(T1);
    w.swap.lock(T1);
    w.mmlist.lock(T1);
    w.mmlist.unlock(T1);
    w.swap.unlock(T1);
    w.ptl.unlock(T1);
    w.av1.upWrite(T1);
    w.iMmap.upWrite(T1);
    unlockPage(w.sys, T1, page);
    w.mmapSem.upRead(T1);
    // out-of-order release is fine
    w.av1.downRead(T2);
    w.pgtl.lock(T2);
    w.av1.upRead(T2);
    w.pgtl.unlock(T2);
    expect(w.sys.reports).toEqual([]);
    w.sys.assertNoLocksHeld();
  });

  it('i_mmap_rwsem under anon_vma->rwsem is an inversion naming both locks', () => {
    const w = world();
    // the right way first, so that the earlier path is known
    w.iMmap.downRead(T1);
    w.av1.downRead(T1);
    w.av1.upRead(T1);
    w.iMmap.upRead(T1);

    w.av1.downWrite(T2);
    const err = caught(() => w.iMmap.downWrite(T2));
    const r = err.report;
    expect(r.kind).toBe('inversion');
    expect(r.task).toBe(T2);
    expect(r.lock).toBe(w.iMmap);
    expect(r.held).toEqual(['anon_vma#1->rwsem']);
    expect(r.previous).toEqual(['file1->i_mmap_rwsem']);
    expect(r.message).toContain('mapping->i_mmap_rwsem');
    expect(r.message).toContain('anon_vma->rwsem');
    expect(r.message).toContain('file1->i_mmap_rwsem');
    expect(r.message).toContain('anon_vma#1->rwsem');
    expect(r.message).toContain('bash/2');
    expect(r.message).toContain('kswapd0/1');
    expect(r.message).toMatch(/documents mapping->i_mmap_rwsem as outer to anon_vma->rwsem/);
    expect(w.sys.reports).toEqual([r]);
    // strict: nothing acquired
    expect(w.iMmap.writer).toBeNull();
    expect(w.sys.heldBy(T2).map((h) => h.lock.name)).toEqual(['anon_vma#1->rwsem']);
  });

  it('flags mmap_sem inside an rmap lock and any rwsem under a pte lock', () => {
    const w = world(false);
    w.av1.downRead(T1);
    w.mmapSem.downRead(T1);
    w.mmapSem.upRead(T1);
    w.av1.upRead(T1);
    w.ptl.lock(T2);
    w.av2.downRead(T2);
    expect(w.sys.reports.map((r) => `${r.kind} ${r.lock.name}`)).toEqual([
      'inversion mm1->mmap_sem',
      'inversion anon_vma#2->rwsem',
    ]);
  });

  it('page_table_lock and pte_lock are one level: either nests under anon_vma, neither is outer', () => {
    const w = world();
    w.av1.downRead(T1);
    w.pgtl.lock(T1);
    w.ptl.lock(T1);
    w.ptl.unlock(T1);
    w.pgtl.unlock(T1);
    w.av1.upRead(T1);
    expect(w.sys.reports).toEqual([]);
  });

  it('the second chain: anon_vma->rwsem → tasklist_lock → pte lock', () => {
    const w = world();
    const tasklist = new Mutex(w.sys, LOCK_CLASS.tasklistLock, 'tasklist_lock');
    w.av1.downRead(T1);
    tasklist.lock(T1);
    w.ptl.lock(T1);
    w.ptl.unlock(T1);
    tasklist.unlock(T1);
    expect(() => w.av2.downRead(T2)).not.toThrow();
    w.ptl.lock(T2);
    expect(() => tasklist.lock(T2)).toThrow(/tasklist_lock/);
  });

  it('trylocks are not order-checked but count as held', () => {
    const w = world();
    w.av1.downWrite(T1);
    expect(w.iMmap.downWriteTrylock(T1)).toBe(true);
    expect(w.sys.reports).toEqual([]);
    expect(() => w.mmapSem.downRead(T1)).toThrow(LockOrderError);
  });

  it('6.12 order: aliases let 4.9 class names be checked against the new names', () => {
    const sys = new LockSystem({ order: RMAP_LOCK_ORDER_6_12, strict: false });
    const mmap = new RwSemaphore(sys, LOCK_CLASS.mmapSem, 'mm1->mmap_lock');
    const inval = new RwSemaphore(sys, LOCK_CLASS.invalidateLock, 'file1->invalidate_lock');
    const page = new FakePage('folio#1');
    mmap.downRead(T1);
    inval.downRead(T1);
    lockPage(sys, T1, page);
    unlockPage(sys, T1, page);
    inval.upRead(T1);
    mmap.upRead(T1);
    expect(sys.reports).toEqual([]);
    lockPage(sys, T2, page);
    inval.downRead(T2);
    expect(sys.reports.map((r) => r.kind)).toEqual(['inversion']);
    expect(sys.reports[0].message).toContain(
      'Linux 6.12 mm/rmap.c documents mapping->invalidate_lock as outer to folio_lock',
    );
  });

  it('6.12: folio_lock vs i_mmap_rwsem is documented both ways (hugetlb chain), so left to learning', () => {
    const sys = new LockSystem({ order: RMAP_LOCK_ORDER_6_12 });
    const iMmap = new RwSemaphore(sys, LOCK_CLASS.iMmapRwsem, 'hugefile->i_mmap_rwsem');
    const page = new FakePage('folio#2');
    iMmap.downWrite(T1);
    lockPage(sys, T1, page);
    unlockPage(sys, T1, page);
    iMmap.upWrite(T1);
    lockPage(sys, T2, page);
    expect(() => iMmap.downRead(T2)).toThrow(/circular locking dependency/);
  });
});

describe('validator: learned dependencies', () => {
  it('an ABBA between two undocumented classes reports both paths', () => {
    const sys = new LockSystem();
    const a = new Mutex(sys, 'foo->lock', 'foo#1->lock');
    const b = new Mutex(sys, 'bar->lock', 'bar#1->lock');
    const mmap = new RwSemaphore(sys, LOCK_CLASS.mmapSem, 'mm1->mmap_sem');
    mmap.downRead(T1);
    a.lock(T1);
    b.lock(T1);
    b.unlock(T1);
    a.unlock(T1);
    mmap.upRead(T1);
    expect(sys.reports).toEqual([]);
    expect(sys.dependencies()).toContain('foo->lock → bar->lock');

    b.lock(T2);
    const r = caught(() => a.lock(T2)).report;
    expect(r.kind).toBe('inversion');
    expect(r.held).toEqual(['bar#1->lock']);
    expect(r.previous).toEqual(['mm1->mmap_sem', 'foo#1->lock']);
    expect(r.message).toContain('circular locking dependency');
    expect(r.message).toContain('current acquisition path (bash/2)');
    expect(r.message).toContain('earlier acquisition path #1: foo->lock -> bar->lock (kswapd0/1)');
    expect(r.message).toContain('#1: foo#1->lock (foo->lock){write}');
    expect(r.message).toContain('-> bar#1->lock (bar->lock){write}');
  });

  it('finds longer cycles A→B, B→C, then C held taking A', () => {
    const sys = new LockSystem({ strict: false });
    const [a, b, c] = ['a', 'b', 'c'].map((x) => new Mutex(sys, `${x}_class`, `${x}#1`));
    a.lock(T1);
    b.lock(T1);
    b.unlock(T1);
    a.unlock(T1);
    b.lock(T1);
    c.lock(T1);
    c.unlock(T1);
    b.unlock(T1);
    c.lock(T2);
    a.lock(T2);
    expect(sys.reports).toHaveLength(1);
    expect(sys.reports[0].message).toContain('a_class -> b_class -> c_class');
    expect(sys.reports[0].message).toContain('earlier acquisition path #2: b_class -> c_class');
  });

  it('reports a repeated inversion once (non-strict) and does not learn the bad edge', () => {
    const sys = new LockSystem({ strict: false });
    const a = new Mutex(sys, 'a_class', 'a#1');
    const b = new Mutex(sys, 'b_class', 'b#1');
    for (let i = 0; i < 3; i++) {
      a.lock(T1);
      b.lock(T1);
      b.unlock(T1);
      a.unlock(T1);
      b.lock(T2);
      a.lock(T2);
      a.unlock(T2);
      b.unlock(T2);
    }
    expect(sys.reports).toHaveLength(1);
    expect(sys.dependencies()).toEqual(['a_class → b_class']);
  });
});

describe('validator: same-class recursion', () => {
  it('two anon_vma roots at once → recursive', () => {
    const w = world();
    w.av1.downWrite(T1);
    const r: LockReport = caught(() => w.av2.downWrite(T1)).report;
    expect(r.kind).toBe('recursive');
    expect(r.lock).toBe(w.av2);
    expect(r.held).toEqual(['anon_vma#1->rwsem']);
    expect(r.message).toContain('possible recursive locking detected');
    expect(r.message).toContain('anon_vma#1->rwsem');
    expect(r.message).toContain('anon_vma#2->rwsem');
  });

  it('two i_mmap_rwsems, even for read → recursive', () => {
    const w = world(false);
    w.iMmap.downRead(T1);
    w.iMmap2.downRead(T1);
    expect(w.sys.reports.map((r) => r.kind)).toEqual(['recursive']);
  });

  it('down_write_nest_lock under mmap_sem allows it (mm_take_all_locks)', () => {
    const w = world();
    w.mmapSem.downWrite(T1);
    w.iMmap.downWriteNestLock(T1, w.mmapSem);
    w.iMmap2.downWriteNestLock(T1, w.mmapSem);
    w.av1.downWriteNestLock(T1, w.mmapSem);
    w.av2.downWriteNestLock(T1, w.mmapSem);
    expect(w.sys.reports).toEqual([]);
    for (const l of [w.av2, w.av1, w.iMmap2, w.iMmap]) l.upWrite(T1);
    w.mmapSem.upWrite(T1);
    w.sys.assertNoLocksHeld();
  });

  it('the nest lock must be held', () => {
    const w = world();
    w.av1.downWrite(T1);
    expect(() => w.av2.downWriteNestLock(T1, w.mmapSem)).toThrow(/recursive/);
  });
});

describe('strict:false and assertNoLocksHeld', () => {
  it('strict:false records without throwing and still acquires', () => {
    const w = world(false);
    w.av1.downWrite(T1);
    expect(() => w.iMmap.downWrite(T1)).not.toThrow();
    expect(w.iMmap.writer).toBe(T1);
    expect(() => w.av2.downRead(T1)).not.toThrow();
    expect(() => w.swap.unlock(T1)).not.toThrow();
    expect(w.sys.reports.map((r) => r.kind)).toEqual(['inversion', 'recursive', 'release-unheld']);
  });

  it('assertNoLocksHeld reports held-at-end per task and throws', () => {
    const w = world(false);
    w.mmapSem.downRead(T1);
    w.av1.downRead(T1);
    w.ptl.lock(T2);
    const err = caught(() => w.sys.assertNoLocksHeld());
    expect(err.report.kind).toBe('held-at-end');
    expect(err.report.held).toEqual(['mm1->mmap_sem', 'anon_vma#1->rwsem']);
    expect(w.sys.reports.map((r) => `${r.kind} ${r.task.name}`)).toEqual([
      'held-at-end kswapd0',
      'held-at-end bash',
    ]);
    expect(err.message).toContain('kswapd0/1 still holds 2 locks');
    w.ptl.unlock(T2);
    w.av1.upRead(T1);
    w.mmapSem.upRead(T1);
    expect(() => w.sys.assertNoLocksHeld()).not.toThrow();
  });

  it('isHeld and tasksHoldingLocks', () => {
    const w = world();
    w.av1.downRead(T1);
    expect(w.sys.isHeld(T1, w.av1)).toBe(true);
    expect(w.sys.isHeld(T1, w.av1, 'write')).toBe(false);
    expect(w.sys.isHeld(T2, w.av1)).toBe(false);
    expect(w.sys.tasksHoldingLocks()).toEqual([T1]);
  });
});

describe('validator memo: a repeated acquisition pattern is checked once, with the same verdicts', () => {
  it('a nested acquisition passed under its nest lock still reports without it', () => {
    const w = world(false);
    w.mmapSem.downWrite(T1);
    w.av1.downWriteNestLock(T1, w.mmapSem);
    w.av2.downWriteNestLock(T1, w.mmapSem);
    w.av2.upWrite(T1);
    expect(w.sys.reports).toEqual([]);
    w.av2.downWrite(T1); // the same stack, but not nested: recursion
    expect(w.sys.reports.map((r) => r.kind)).toEqual(['recursive']);
  });

  it('a subclass acquisition passed does not let the plain class through', () => {
    const w = world(false);
    const ptl2 = new SpinLock(w.sys, LOCK_CLASS.pteLock, 'mm1->pte[1]');
    w.ptl.lock(T1);
    ptl2.lockNested(T1, 1);
    ptl2.unlock(T1);
    expect(w.sys.reports).toEqual([]);
    ptl2.lock(T1);
    expect(w.sys.reports.map((r) => r.kind)).toEqual(['recursive']);
  });

  it('a release from the middle of the stack leaves the shape of what is still held', () => {
    const w = world(false);
    w.mmapSem.downRead(T1);
    w.iMmap.downRead(T1); // passes on top of mmap_sem alone
    w.iMmap.upRead(T1);
    w.av1.downRead(T1);
    w.ptl.lock(T1);
    w.ptl.unlock(T1);
    w.mmapSem.upRead(T1); // now only anon_vma->rwsem is held
    w.iMmap.downRead(T1); // inverted against the documented order
    expect(w.sys.reports.map((r) => r.kind)).toEqual(['inversion']);
    w.iMmap.upRead(T1);
    w.av1.upRead(T1);
    // a passed pattern repeated by another task passes again and learns nothing new
    const deps = w.sys.dependencies().length;
    for (const t of [T1, T2]) {
      w.mmapSem.downRead(t);
      w.av1.downRead(t);
      w.ptl.lock(t);
      w.ptl.unlock(t);
      w.av1.upRead(t);
      w.mmapSem.upRead(t);
    }
    expect(w.sys.reports.length).toBe(1);
    expect(w.sys.dependencies().length).toBe(deps);
  });
});
