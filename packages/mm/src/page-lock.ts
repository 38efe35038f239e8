/**
 * PG_locked of a frame as a @rmaplab/locks bit lock: lock_page / trylock_page / unlock_page —
 * include/linux/pagemap.h. The bit itself stays in `sys.mem.flags[pfn]`; the one registry here is
 * what every layer (KSM, rmap, reclaim, migration) goes through, so the lock validator sees one lock
 * per page while it is held.
 */
import { BitLock, type LockBitHolder, type LockSystem } from '@rmaplab/locks';
import { PG_locked } from './constants.js';
import type { PhysMem } from './page.js';
import type { MmSystem } from './system.js';

const LOCKED = 1 << PG_locked;

/**
 * The holder of one frame's PG_locked bit — a model addition (the kernel needs no object to name a
 * bit), carrying the BitLock that stands for it. It is registered only while a task holds the bit
 * through the lock system, then goes back to its system's pool to stand for another frame: KSM locks
 * every mergeable page of a scan, and an object pair made per frame (kept or not) cost a third of
 * the merging scan in allocation and garbage collection.
 */
class PageLockBit implements LockBitHolder {
  readonly lock: BitLock;
  pfn = -1;
  /**
   * Someone may keep the lock past its release (an event listener, a report, a LockContendedError,
   * a pageLock() caller): it then stands for this frame for good and is never pooled.
   */
  escaped = false;
  constructor(
    private readonly mem: PhysMem,
    locks: LockSystem,
  ) {
    // Made here rather than through pageLockOf(): this registry is the only way to the bit.
    this.lock = new BitLock(locks, this);
  }
  get lockName(): string {
    return `page#${this.pfn}`;
  }
  testAndSetLocked(): boolean {
    const was = (this.mem.flags[this.pfn] & LOCKED) !== 0;
    this.mem.flags[this.pfn] |= LOCKED;
    return was;
  }
  clearLocked(): void {
    this.mem.flags[this.pfn] &= ~LOCKED;
  }
}

/** One system's page locks: the holder of each frame whose bit a task holds, and the free ones. */
class PageLocks {
  /** By pfn; null where no task holds the bit. Grown densely (holes that far apart make a hash table). */
  readonly held: (PageLockBit | null)[] = [];
  readonly pool: PageLockBit[] = [];
  constructor(readonly sys: MmSystem) {}

  /** The holder of `pfn`'s bit: the one registered, else one from the pool, registered. */
  get(pfn: number): PageLockBit {
    const held = this.held;
    while (held.length <= pfn) held.push(null);
    let b = held[pfn];
    if (b === null) {
      b = this.pool.pop() ?? new PageLockBit(this.sys.mem, this.sys.locks);
      b.pfn = pfn;
      held[pfn] = b;
    }
    if (this.sys.locks.onEvent !== undefined) b.escaped = true;
    return b;
  }

  /**
   * After an operation on `b`: unregister it once no task holds it, and pool it unless it escaped.
   * `reports` is the validator's report count before the operation (a new report keeps the lock).
   */
  settle(b: PageLockBit, reports: number): void {
    const locks = this.sys.locks;
    if (locks.reports.length !== reports || locks.onEvent !== undefined) b.escaped = true;
    if (b.lock.owner !== null) return;
    this.held[b.pfn] = null;
    if (!b.escaped) this.pool.push(b);
  }
}

const registries = new WeakMap<MmSystem, PageLocks>();
/** The registry last used: page locks come in runs on one system. */
let last: PageLocks | null = null;

function pageLocks(sys: MmSystem): PageLocks {
  if (last !== null && last.sys === sys) return last;
  let r = registries.get(sys);
  if (!r) registries.set(sys, (r = new PageLocks(sys)));
  last = r;
  return r;
}

/**
 * The lock that stands for frame `pfn`'s PG_locked bit (for `sys.locks.isHeld`): the held one, or
 * while no task holds it one that nobody holds.
 */
export function pageLock(sys: MmSystem, pfn: number): BitLock {
  const r = pageLocks(sys);
  const b = r.get(pfn);
  b.escaped = true;
  r.settle(b, sys.locks.reports.length);
  return b.lock;
}

/** lock_page() — include/linux/pagemap.h, as `sys.current`. */
export function lockPage(sys: MmSystem, pfn: number): void {
  const r = pageLocks(sys);
  const b = r.get(pfn);
  const reports = sys.locks.reports.length;
  try {
    b.lock.lock(sys.current);
  } catch (e) {
    b.escaped = true;
    throw e;
  } finally {
    r.settle(b, reports);
  }
}

/** trylock_page() — include/linux/pagemap.h, as `sys.current`. */
export function trylockPage(sys: MmSystem, pfn: number): boolean {
  const r = pageLocks(sys);
  const b = r.get(pfn);
  const reports = sys.locks.reports.length;
  try {
    return b.lock.trylock(sys.current);
  } finally {
    r.settle(b, reports);
  }
}

/** unlock_page() — mm/filemap.c, as `sys.current`. */
export function unlockPage(sys: MmSystem, pfn: number): void {
  const r = pageLocks(sys);
  const b = r.get(pfn);
  const reports = sys.locks.reports.length;
  try {
    b.lock.unlock(sys.current);
  } catch (e) {
    b.escaped = true;
    throw e;
  } finally {
    r.settle(b, reports);
  }
}
