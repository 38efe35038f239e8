import { LockContendedError } from '@rmaplab/locks';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lockPage, MmSystem, PageLocked, pageLock, trylockPage, unlockPage } from '../src/index.js';

/** Page locks are pooled: these check that a pooled lock still behaves as one lock per frame. */
describe('page locks (lock_page / trylock_page / unlock_page)', () => {
  it('against a brute-force model of PG_locked: random lock/trylock/unlock by two tasks over a few frames', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.constantFrom('lock', 'trylock', 'unlock'),
            fc.integer({ min: 0, max: 1 }),
            fc.integer({ min: 1, max: 4 }),
          ),
          {
            maxLength: 60,
          },
        ),
        (ops) => {
          const sys = new MmSystem({ kernel: '4.9' });
          sys.locks.strict = false;
          for (let i = 0; i < 5; i++) sys.mem.allocPage(sys.newContent());
          const tasks = [sys.kswapd, sys.ksmd];
          const owner = new Map<number, number>();
          for (const [op, ti, pfn] of ops) {
            const t = tasks[ti];
            sys.as(t, () => {
              const mine = owner.get(pfn);
              if (op === 'unlock') {
                unlockPage(sys, pfn);
                if (mine === ti) owner.delete(pfn);
              } else if (op === 'trylock') {
                expect(trylockPage(sys, pfn)).toBe(mine === undefined);
                if (mine === undefined) owner.set(pfn, ti);
              } else if (mine === undefined) {
                lockPage(sys, pfn);
                owner.set(pfn, ti);
              } else if (mine !== ti) {
                expect(() => lockPage(sys, pfn)).toThrow(LockContendedError);
              }
            });
            for (let p = 1; p <= 4; p++) {
              const o = owner.get(p);
              expect(PageLocked(sys.mem, p)).toBe(o !== undefined);
              for (let k = 0; k < 2; k++) expect(sys.locks.isHeld(tasks[k], pageLock(sys, p))).toBe(o === k);
              expect(pageLock(sys, p).name).toBe(`page#${p}`);
            }
          }
        },
      ),
    );
  });

  it('a lock kept from a contended acquire keeps its frame name after the frame is unlocked and others locked', () => {
    const sys = new MmSystem({ kernel: '4.9' });
    for (let i = 0; i < 3; i++) sys.mem.allocPage(sys.newContent());
    sys.as(sys.kswapd, () => lockPage(sys, 1));
    let err: LockContendedError | null = null;
    try {
      sys.as(sys.ksmd, () => lockPage(sys, 1));
    } catch (e) {
      err = e as LockContendedError;
    }
    expect(err?.lock.name).toBe('page#1');
    sys.as(sys.kswapd, () => unlockPage(sys, 1));
    sys.as(sys.kswapd, () => {
      lockPage(sys, 2);
      unlockPage(sys, 2);
    });
    expect(err?.lock.name).toBe('page#1');
  });
});
