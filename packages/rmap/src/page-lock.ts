/**
 * PG_locked of a frame as a @rmaplab/locks bit lock: lock_page / trylock_page / unlock_page —
 * include/linux/pagemap.h. The bit itself stays in `sys.mem.flags[pfn]`.
 */
import { type LockBitHolder, lockPage, trylockPage, unlockPage } from '@rmaplab/locks';
import { type MmSystem, PG_locked } from '@rmaplab/mm';

const holders = new WeakMap<MmSystem, Map<number, LockBitHolder>>();

/** The LockBitHolder over frame `pfn`'s PG_locked bit (one per frame, so the lock system sees one lock). */
export function pageLockHolder(sys: MmSystem, pfn: number): LockBitHolder {
  let m = holders.get(sys);
  if (!m) holders.set(sys, (m = new Map()));
  let h = m.get(pfn);
  if (!h) {
    const mem = sys.mem;
    const bit = 1 << PG_locked;
    h = {
      lockName: `page#${pfn}`,
      testAndSetLocked() {
        const was = (mem.flags[pfn] & bit) !== 0;
        mem.flags[pfn] |= bit;
        return was;
      },
      clearLocked() {
        mem.flags[pfn] &= ~bit;
      },
    };
    m.set(pfn, h);
  }
  return h;
}

/** lock_page() — include/linux/pagemap.h, as `sys.current`. */
export function lockPageOf(sys: MmSystem, pfn: number): void {
  lockPage(sys.locks, sys.current, pageLockHolder(sys, pfn));
}

/** trylock_page() — include/linux/pagemap.h, as `sys.current`. */
export function trylockPageOf(sys: MmSystem, pfn: number): boolean {
  return trylockPage(sys.locks, sys.current, pageLockHolder(sys, pfn));
}

/** unlock_page() — mm/filemap.c, as `sys.current`. */
export function unlockPageOf(sys: MmSystem, pfn: number): void {
  unlockPage(sys.locks, sys.current, pageLockHolder(sys, pfn));
}
