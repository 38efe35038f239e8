import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  documentedPath,
  LOCK_CLASS,
  type LockMode,
  type LockOrder,
  type LockOrderNode,
  LockSystem,
  lockPage,
  Mutex,
  RMAP_LOCK_ORDER_4_9,
  RMAP_LOCK_ORDER_6_12,
  RwSemaphore,
  SpinLock,
  type Task,
  trylockPage,
  unlockPage,
} from '../src/index.js';
import { FakePage } from './helpers.js';

// ---------------------------------------------------------------------------------------------
// Brute-force oracle of the documented order: enumerate every root-to-leaf path and compare positions.

function allPaths(order: LockOrder): LockOrderNode[][] {
  const out: LockOrderNode[][] = [];
  const walk = (node: LockOrderNode, path: LockOrderNode[]) => {
    const p = [...path, node];
    if (!node.children || node.children.length === 0) out.push(p);
    for (const c of node.children ?? []) walk(c, p);
  };
  for (const r of order.chains) walk(r, []);
  return out;
}

function oracleOuterRaw(order: LockOrder, a: string, b: string): boolean {
  for (const path of allPaths(order)) {
    const i = path.findIndex((n) => n.classes.includes(a));
    if (i < 0) continue;
    for (let j = i + 1; j < path.length; j++) if (path[j].classes.includes(b) && a !== b) return true;
    // a may appear more than once on a path? not in these orders; check later occurrences anyway
    for (let k = i + 1; k < path.length; k++) {
      if (!path[k].classes.includes(a)) continue;
      for (let j = k + 1; j < path.length; j++) if (path[j].classes.includes(b) && a !== b) return true;
    }
  }
  return false;
}

function oracleOuter(order: LockOrder, a: string, b: string): boolean {
  return oracleOuterRaw(order, a, b) && !oracleOuterRaw(order, b, a);
}

function classesOf(order: LockOrder): string[] {
  const s = new Set<string>();
  for (const p of allPaths(order)) for (const n of p) for (const c of n.classes) s.add(c);
  return [...s];
}

describe('documented relation equals the brute-force reading of the tree', () => {
  for (const order of [RMAP_LOCK_ORDER_4_9, RMAP_LOCK_ORDER_6_12]) {
    it(order.name, () => {
      const cls = classesOf(order);
      for (const a of cls)
        for (const b of cls) {
          expect(documentedPath(order, a, b) !== null, `${a} before ${b}`).toBe(oracleOuter(order, a, b));
        }
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Generic lock slots so one generator drives every lock kind.

interface Slot {
  name: string;
  cls: string;
  rw: boolean;
  acquire(t: Task, mode: LockMode): void;
  trylock(t: Task, mode: LockMode): boolean;
  release(t: Task, mode: LockMode): void;
}

function makeSlots(sys: LockSystem, classes: readonly string[], perClass: number): Slot[] {
  const slots: Slot[] = [];
  for (const cls of classes) {
    for (let k = 0; k < perClass; k++) {
      const name = `${cls}#${k}`;
      if (cls === LOCK_CLASS.pageLock) {
        const page = new FakePage(name);
        slots.push({
          name,
          cls,
          rw: false,
          acquire: (t) => lockPage(sys, t, page),
          trylock: (t) => trylockPage(sys, t, page),
          release: (t) => unlockPage(sys, t, page),
        });
      } else if (/rwsem|mmap_sem|_key$/.test(cls)) {
        const l = new RwSemaphore(sys, cls, name);
        slots.push({
          name,
          cls,
          rw: true,
          acquire: (t, m) => (m === 'read' ? l.downRead(t) : l.downWrite(t)),
          trylock: (t, m) => (m === 'read' ? l.downReadTrylock(t) : l.downWriteTrylock(t)),
          release: (t, m) => (m === 'read' ? l.upRead(t) : l.upWrite(t)),
        });
      } else {
        const l = /mutex/.test(cls) ? new Mutex(sys, cls, name) : new SpinLock(sys, cls, name);
        slots.push({
          name,
          cls,
          rw: false,
          acquire: (t) => l.lock(t),
          trylock: (t) => l.trylock(t),
          release: (t) => l.unlock(t),
        });
      }
    }
  }
  return slots;
}

const TASKS: Task[] = [0, 1, 2].map((id) => ({ id, name: `task${id}` }));

const opArb = fc.record({
  task: fc.nat(TASKS.length - 1),
  slot: fc.nat(1000),
  action: fc.constantFrom('acquire', 'acquire', 'trylock', 'release', 'release'),
  write: fc.boolean(),
});

/** Oracle state: who holds what, to predict contention. */
class Model {
  held = new Map<number, { slot: number; mode: LockMode }[]>();
  holders = new Map<number, { task: number; mode: LockMode }[]>();
  heldBy(t: number) {
    let h = this.held.get(t);
    if (!h) this.held.set(t, (h = []));
    return h;
  }
  holdersOf(s: number) {
    let h = this.holders.get(s);
    if (!h) this.holders.set(s, (h = []));
    return h;
  }
  blocked(t: number, s: number, mode: LockMode): boolean {
    return this.holdersOf(s).some((h) => h.task !== t && (h.mode === 'write' || mode === 'write'));
  }
  take(t: number, s: number, mode: LockMode) {
    this.heldBy(t).push({ slot: s, mode });
    this.holdersOf(s).push({ task: t, mode });
  }
  drop(t: number, i: number) {
    const [e] = this.heldBy(t).splice(i, 1);
    const hs = this.holdersOf(e.slot);
    hs.splice(
      hs.findIndex((h) => h.task === t),
      1,
    );
    return e;
  }
}

describe('property: obeying the documented order never reports', () => {
  const order = RMAP_LOCK_ORDER_4_9;
  const classes = classesOf(order);
  it('random multi-task sequences that only nest documented-inner locks', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 80 }), (ops) => {
        const sys = new LockSystem({ order, strict: true });
        const slots = makeSlots(sys, classes, 2);
        const m = new Model();
        for (const op of ops) {
          const held = m.heldBy(op.task);
          const t = TASKS[op.task];
          if (op.action === 'release') {
            if (held.length === 0) continue;
            const i = op.slot % held.length;
            const e = m.drop(op.task, i);
            slots[e.slot].release(t, e.mode);
            continue;
          }
          const s = op.slot % slots.length;
          const slot = slots[s];
          const mode: LockMode = slot.rw && !op.write ? 'read' : 'write';
          const ok = held.every((h) => oracleOuter(order, slots[h.slot].cls, slot.cls));
          if (!ok) continue;
          const blocked = m.blocked(op.task, s, mode);
          if (op.action === 'trylock') {
            expect(slot.trylock(t, mode)).toBe(!blocked);
          } else if (blocked) {
            expect(() => slot.acquire(t, mode)).toThrow(/would block/);
            continue;
          } else {
            slot.acquire(t, mode);
          }
          if (!blocked) m.take(op.task, s, mode);
        }
        for (const [task, held] of m.held) {
          for (let i = held.length - 1; i >= 0; i--) slots[held[i].slot].release(TASKS[task], held[i].mode);
        }
        sys.assertNoLocksHeld();
        expect(sys.reports).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});

describe('property: violating the documented order always reports', () => {
  const order = RMAP_LOCK_ORDER_4_9;
  // One root-to-leaf path of the 4.9 tree: every pair of these classes is documented one way.
  const spine = [
    LOCK_CLASS.iMutex,
    LOCK_CLASS.mmapSem,
    LOCK_CLASS.pageLock,
    LOCK_CLASS.hugetlbfsIMmapRwsem,
    LOCK_CLASS.iMmapRwsem,
    LOCK_CLASS.anonVmaRwsem,
    LOCK_CLASS.pteLock,
    LOCK_CLASS.swapLock,
    LOCK_CLASS.privateLock,
    LOCK_CLASS.memcgMoveLock,
    LOCK_CLASS.treeLock,
  ];

  it('the spine is totally ordered by the documentation', () => {
    for (let i = 0; i < spine.length; i++)
      for (let j = i + 1; j < spine.length; j++) expect(oracleOuter(order, spine[i], spine[j])).toBe(true);
  });

  it('any two spine classes taken inside-out give an inversion', () => {
    fc.assert(
      fc.property(fc.nat(spine.length - 1), fc.nat(spine.length - 1), (i, j) => {
        fc.pre(i !== j);
        const [outer, inner] = i < j ? [spine[i], spine[j]] : [spine[j], spine[i]];
        const sys = new LockSystem({ order, strict: false });
        const [a, b] = makeSlots(sys, [inner, outer], 1);
        a.acquire(TASKS[0], 'write');
        b.acquire(TASKS[0], 'write');
        expect(sys.reports.map((r) => r.kind)).toEqual(['inversion']);
        expect(sys.reports[0].message).toContain(`documents ${outer} as outer to ${inner}`);
      }),
    );
  });

  it('random sequences: a report happens exactly when the brute-force check finds a violation', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
        const sys = new LockSystem({ order, strict: false });
        const slots = makeSlots(sys, spine, 2);
        const m = new Model();
        let expected: string | null = null;
        for (const op of ops) {
          const held = m.heldBy(op.task);
          const t = TASKS[op.task];
          if (op.action === 'release') {
            if (held.length === 0) continue;
            const e = m.drop(op.task, op.slot % held.length);
            slots[e.slot].release(t, e.mode);
            continue;
          }
          const s = op.slot % slots.length;
          const slot = slots[s];
          const mode: LockMode = slot.rw && !op.write ? 'read' : 'write';
          const blocked = m.blocked(op.task, s, mode);
          if (held.some((h) => h.slot === s)) {
            // same instance again: double-acquire, never acquired
            expected ??= 'double-acquire';
            if (op.action === 'trylock') expect(slot.trylock(t, mode)).toBe(false);
            else slot.acquire(t, mode);
            continue;
          }
          if (op.action === 'trylock') {
            expect(slot.trylock(t, mode)).toBe(!blocked);
          } else {
            const bad = held.find((h) => !oracleOuter(order, slots[h.slot].cls, slot.cls));
            if (bad) expected ??= slots[bad.slot].cls === slot.cls ? 'recursive' : 'inversion';
            if (blocked) expect(() => slot.acquire(t, mode)).toThrow(/would block/);
            else slot.acquire(t, mode);
          }
          if (!blocked) m.take(op.task, s, mode);
        }
        expect(sys.reports.length > 0).toBe(expected !== null);
        if (expected) expect(sys.reports[0].kind).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });
});
