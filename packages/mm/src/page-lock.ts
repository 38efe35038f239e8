/**
 * PG_locked of a frame as a @rmaplab/locks bit lock: lock_page / trylock_page / unlock_page —
 * include/linux/pagemap.h. The bit itself stays in `sys.mem.flags[pfn]`; the one registry here is
 * what every layer (KSM, rmap, reclaim, migration) goes through, so the lock validator sees one lock
 * per page.
 */
import { BitLock, type LockBitHolder } from '@rmaplab/locks';
import { PG_locked } from './constants.js';
import type { PhysMem } from './page.js';
import type { MmSystem } from './system.js';

const LOCKED = 1 << PG_locked;

/**
 * The holder of one frame's PG_locked bit — a model addition (the kernel needs no object to name a
 * bit): one per frame and system, carrying the BitLock that stands for it.
 */
class PageLockBit implements LockBitHolder {
  readonly lockName: string;
  readonly lock: BitLock;
  constructor(
    private readonly mem: PhysMem,
    private readonly pfn: number,
    sys: MmSystem,
  ) {
    this.lockName = `page#${pfn}`;
    // Made here rather than through pageLockOf(): this registry is the only way to the bit.
    this.lock = new BitLock(sys.locks, this);
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

const registries = new WeakMap<MmSystem, (PageLockBit | null)[]>();
/** The registry last used: page locks come in runs on one system. */
let lastSys: MmSystem | null = null;
let lastBits: (PageLockBit | null)[] = [];

function pageLockBit(sys: MmSystem, pfn: number): PageLockBit {
  let bits = lastBits;
  if (sys !== lastSys) {
    let r = registries.get(sys);
    if (!r) registries.set(sys, (r = []));
    lastSys = sys;
    lastBits = bits = r;
  }
  // Grown densely: frames are locked in no particular order, and an array with holes that far
  // apart falls back to a hash table.
  while (bits.length <= pfn) bits.push(null);
  let b = bits[pfn];
  if (b === null) bits[pfn] = b = new PageLockBit(sys.mem, pfn, sys);
  return b;
}

/** The lock that stands for frame `pfn`'s PG_locked bit (for `sys.locks.isHeld`). */
export function pageLock(sys: MmSystem, pfn: number): BitLock {
  return pageLockBit(sys, pfn).lock;
}

/** lock_page() — include/linux/pagemap.h, as `sys.current`. */
export function lockPage(sys: MmSystem, pfn: number): void {
  pageLockBit(sys, pfn).lock.lock(sys.current);
}

/** trylock_page() — include/linux/pagemap.h, as `sys.current`. */
export function trylockPage(sys: MmSystem, pfn: number): boolean {
  return pageLockBit(sys, pfn).lock.trylock(sys.current);
}

/** unlock_page() — mm/filemap.c, as `sys.current`. */
export function unlockPage(sys: MmSystem, pfn: number): void {
  pageLockBit(sys, pfn).lock.unlock(sys.current);
}
