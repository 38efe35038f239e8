import type { Lock } from './system.js';

/** A simulated task (process or kernel thread), e.g. `{ id: 1, name: 'kswapd0' }`. Identified by `id`. */
export interface Task {
  readonly id: number;
  readonly name: string;
}

/** rwsem modes; mutexes, spinlocks and bit locks are always taken in 'write' mode. */
export type LockMode = 'read' | 'write';

export type LockKind = 'rwsem' | 'mutex' | 'spinlock' | 'bitlock';

/** A trace event; only built when a listener is installed. */
export interface LockEvent {
  type: 'acquire' | 'release' | 'contended' | 'trylock-failed';
  task: Task;
  lock: Lock;
  lockClass: string;
  mode: LockMode;
  /** An acquire by a trylock (down_read_trylock(), trylock_page(), ...), which did not wait. */
  trylock?: true;
}

/** A lockdep-style report. */
export interface LockReport {
  kind: 'inversion' | 'recursive' | 'double-acquire' | 'release-unheld' | 'held-at-end';
  /** Multi-line, readable, in the spirit of a lockdep splat. */
  message: string;
  task: Task;
  /** The lock being acquired (or released, or still held at the end). */
  lock: Lock;
  /** Names of the locks `task` held at the moment of the report, in acquisition order. */
  held: readonly string[];
  /**
   * For an inversion: names of the locks held when the opposite dependency was first recorded
   * (the earlier acquisition path), when one was observed. For 'recursive': the same as `held`.
   */
  previous?: readonly string[];
}

/** Thrown (in strict mode) for every report; the report is recorded first. */
export class LockOrderError extends Error {
  readonly report: LockReport;
  constructor(report: LockReport) {
    super(report.message);
    this.name = 'LockOrderError';
    this.report = report;
  }
}

/**
 * A blocking acquire of a lock another task holds incompatibly. A deterministic single-threaded
 * simulator cannot sleep, so the attempt is reported to the caller instead; no state changed.
 */
export class LockContendedError extends Error {
  readonly lock: Lock;
  readonly task: Task;
  readonly owner: Task;
  constructor(lock: Lock, task: Task, owner: Task) {
    super(
      `${task.name}/${task.id} would block on ${lock.name} (${lock.lockClass}), held by ${owner.name}/${owner.id}`,
    );
    this.name = 'LockContendedError';
    this.lock = lock;
    this.task = task;
    this.owner = owner;
  }
}

/** One entry of a task's held-lock stack. */
export interface HeldLock {
  lock: Lock;
  mode: LockMode;
}
