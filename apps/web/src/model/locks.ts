/**
 * The locks panel's model: who holds which simulated lock, in which mode, at a given trace event.
 * Derived by replaying the `lock` events that MmSystem forwards from the @rmaplab/locks validator
 * (lockdep's held-lock stacks, as `/proc/lockdep` would show them at that instant).
 */
import type { TraceEvent } from '@rmaplab/mm';

export type LockAction = 'acquire' | 'release' | 'contended' | 'trylock-failed';
export type HeldMode = 'read' | 'write' | 'exclusive';

export interface HeldLock {
  lock: string;
  mode: HeldMode;
  /** Index of the event that took it. */
  since: number;
}

export interface LockIncident {
  index: number;
  task: string;
  lock: string;
  action: 'contended' | 'trylock-failed';
  msg: string;
}

export interface LockState {
  /** Held locks by task, each list in acquisition order (the lockdep held stack). */
  held: Map<string, HeldLock[]>;
  incidents: LockIncident[];
}

/**
 * What a lock event did: a release by the kernel function it is named after (`up_read`,
 * `spin_unlock`, `folio_unlock`, ...); a failed trylock or contention by its message (a trylock
 * that succeeded — `down_read_trylock`, `trylock_page` — took the lock).
 */
export function lockAction(e: TraceEvent): LockAction {
  if (e.fn.startsWith('up_') || e.fn.includes('unlock')) return 'release';
  if (e.msg.startsWith('trylock-failed')) return 'trylock-failed';
  if (e.msg.startsWith('contended')) return 'contended';
  return 'acquire';
}

/** The mode of an rwsem operation; every other kind of lock is exclusive. */
export function lockMode(e: TraceEvent): HeldMode {
  if (e.fn.includes('read')) return 'read';
  if (e.fn.includes('write')) return 'write';
  return 'exclusive';
}

/** The lock state after events `0 .. upto` (inclusive) of one statement; `upto = -1` is before the first. */
export function replayLocks(events: readonly TraceEvent[], upto: number): LockState {
  const held = new Map<string, HeldLock[]>();
  const incidents: LockIncident[] = [];
  const last = Math.min(upto, events.length - 1);
  for (let i = 0; i <= last; i++) {
    const e = events[i];
    if (e.kind !== 'lock' || e.refs?.lock === undefined) continue;
    const lock = e.refs.lock;
    const action = lockAction(e);
    const stack = held.get(e.task) ?? [];
    if (action === 'acquire') {
      stack.push({ lock, mode: lockMode(e), since: i });
      held.set(e.task, stack);
    } else if (action === 'release') {
      // Locks need not be released in LIFO order (lockdep allows it): drop the newest hold of this lock.
      for (let j = stack.length - 1; j >= 0; j--) {
        if (stack[j].lock === lock) {
          stack.splice(j, 1);
          break;
        }
      }
      if (stack.length === 0) held.delete(e.task);
    } else {
      incidents.push({ index: i, task: e.task, lock, action, msg: e.msg });
    }
  }
  return { held, incidents };
}

/** One hold of a lock by a task across a statement's events, for the lock timeline. */
export interface LockSpan {
  task: string;
  lock: string;
  mode: HeldMode;
  /** Index of the event that took it. */
  from: number;
  /** Index of the event that released it; the last event's index when still held at the end. */
  to: number;
  /** Still held after the statement. */
  open: boolean;
}

/** Every hold of every lock in a statement, in the order they were taken (a Gantt chart's bars). */
export function lockSpans(events: readonly TraceEvent[]): LockSpan[] {
  const spans: LockSpan[] = [];
  const open = new Map<string, LockSpan[]>();
  events.forEach((e, i) => {
    if (e.kind !== 'lock' || e.refs?.lock === undefined) return;
    const key = `${e.task}\u0000${e.refs.lock}`;
    const action = lockAction(e);
    if (action === 'acquire') {
      const s: LockSpan = {
        task: e.task,
        lock: e.refs.lock,
        mode: lockMode(e),
        from: i,
        to: events.length - 1,
        open: true,
      };
      spans.push(s);
      (open.get(key) ?? open.set(key, []).get(key)!).push(s);
    } else if (action === 'release') {
      const s = open.get(key)?.pop();
      if (s) {
        s.to = i;
        s.open = false;
      }
    }
  });
  return spans;
}
