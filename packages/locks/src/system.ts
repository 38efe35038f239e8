import { indexLockOrder, type LockOrder, type LockOrderIndex, RMAP_LOCK_ORDER_4_9 } from './order.js';
import {
  type HeldLock,
  LockContendedError,
  type LockEvent,
  type LockKind,
  type LockMode,
  LockOrderError,
  type LockReport,
  type Task,
} from './types.js';

export interface LockSystemOptions {
  /** The documented order checked by the validator; default RMAP_LOCK_ORDER_4_9. */
  order?: LockOrder;
  /** Default true: every report throws LockOrderError after being recorded; false: only recorded. */
  strict?: boolean;
  onEvent?: (e: LockEvent) => void;
  /**
   * Validate PG_locked bit locks (default true). The kernel's lockdep does not track them, but the
   * documented order places lock_page above i_mmap_rwsem, so the simulator checks it.
   */
  validateBitLocks?: boolean;
}

/** Placeholder owner of a bit lock whose bit was set outside the lock system. */
export const UNKNOWN_TASK: Task = Object.freeze({ id: -1, name: '<unknown>' });

/** Same simulated task: the same object, or the same id and name. */
export function sameTask(a: Task, b: Task): boolean {
  return a === b || (a.id === b.id && a.name === b.name);
}

const ACQ_BLOCKING = 0;
const ACQ_TRYLOCK = 1;

/**
 * A node of the validator's memo: one held-lock stack, as the sequence of (class, documented class)
 * pairs of its entries. Stacks that read the same share a node, so an acquisition already validated
 * on top of that stack is found with two Map lookups.
 */
class StackShape {
  private readonly next = new Map<number, StackShape>();
  /** The last push, as a lock is mostly taken on top of the same stack again and again. */
  private lastPair = -1;
  private lastNext: StackShape | undefined;
  /** Acquisitions (pair id × 2 + nested) that validate() passed on top of this stack. */
  private readonly passed = new Set<number>();
  /** The last acquisition passed here: the same lock class is mostly taken again and again. */
  private lastPassed = -1;

  /** Whether validate() passed `key` on top of this stack. */
  hasPassed(key: number): boolean {
    if (key === this.lastPassed) return true;
    if (!this.passed.has(key)) return false;
    this.lastPassed = key;
    return true;
  }

  /** Remember that validate() passed `key` on top of this stack. */
  pass(key: number): void {
    this.passed.add(key);
    this.lastPassed = key;
  }

  /** The stack one entry higher. */
  push(pair: number): StackShape {
    if (pair === this.lastPair) return this.lastNext as StackShape;
    let c = this.next.get(pair);
    if (c === undefined) this.next.set(pair, (c = new StackShape()));
    this.lastPair = pair;
    this.lastNext = c;
    return c;
  }
}

/** A task's held-lock stack, kept in parallel arrays whose slots are reused (no allocation per acquire). */
class TaskState {
  depth = 0;
  readonly locks: Lock[] = [];
  readonly modes: LockMode[] = [];
  readonly classes: string[] = [];
  /** The (class, documented class) pair id of each entry. */
  readonly pairs: number[] = [];
  /** shapes[d]: the shape of the bottom d entries. */
  readonly shapes: StackShape[];
  constructor(
    readonly task: Task,
    empty: StackShape,
  ) {
    this.shapes = [empty];
  }

  indexOf(lock: Lock): number {
    for (let i = this.depth - 1; i >= 0; i--) if (this.locks[i] === lock) return i;
    return -1;
  }

  push(lock: Lock, mode: LockMode, cls: string, pair: number): void {
    const d = this.depth++;
    this.locks[d] = lock;
    this.modes[d] = mode;
    this.classes[d] = cls;
    this.pairs[d] = pair;
    this.shapes[d + 1] = this.shapes[d].push(pair);
  }

  removeAt(i: number): void {
    const last = --this.depth;
    for (let j = i; j < last; j++) {
      this.locks[j] = this.locks[j + 1];
      this.modes[j] = this.modes[j + 1];
      this.classes[j] = this.classes[j + 1];
      this.pairs[j] = this.pairs[j + 1];
      this.shapes[j + 1] = this.shapes[j].push(this.pairs[j]);
    }
    this.locks[last] = undefined as unknown as Lock; // drop the reference
  }

  names(): string[] {
    return this.locks.slice(0, this.depth).map((l) => l.name);
  }

  lines(): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.depth; i++)
      out.push(`#${i}: ${describe(this.locks[i], this.modes[i], this.classes[i])}`);
    return out;
  }
}

/** A learned dependency edge `from → to` (class names), with the acquisition path that created it. */
interface Dependency {
  readonly from: string;
  readonly to: string;
  readonly task: Task;
  /** Names of the locks held at that moment. */
  readonly held: readonly string[];
  /** Human-readable held stack, then the lock being acquired. */
  readonly lines: readonly string[];
}

function describe(lock: Lock, mode: LockMode, cls: string): string {
  return `${lock.name} (${cls}){${mode}}`;
}

function taskName(t: Task): string {
  return `${t.name}/${t.id}`;
}

/**
 * Base of every simulated lock. `name` is the instance ('anon_vma#3->rwsem'), `lockClass` the lockdep
 * class shared by all instances initialised at one site ('anon_vma->rwsem').
 */
export abstract class Lock {
  readonly lockClass: string;
  abstract readonly kind: LockKind;
  /** @internal */
  readonly sys: LockSystem;
  /** @internal the class as named in the documented order (aliases resolved). */
  readonly docClass: string;
  /** @internal the validator's id of (lockClass, docClass). */
  readonly pair: number;

  constructor(sys: LockSystem, lockClass: string, name: string) {
    this.sys = sys;
    this.lockClass = lockClass;
    this.instanceName = name;
    const known = sys.classOf(lockClass);
    this.docClass = known.docClass;
    this.pair = known.pair;
  }

  private readonly instanceName: string;

  /** The instance name, e.g. 'anon_vma#3->rwsem'. */
  get name(): string {
    return this.instanceName;
  }

  /** @internal the holder that prevents `t` from taking the lock in `mode`, or null. May claim the lock. */
  abstract conflict(t: Task, mode: LockMode): Task | null;
  /** @internal record `t` as holder. */
  abstract grant(t: Task, mode: LockMode): void;
  /** @internal drop `t` as holder. */
  abstract revoke(t: Task, mode: LockMode): void;
  /** @internal current holders. */
  abstract holderList(): { task: Task; mode: LockMode }[];

  toString(): string {
    return this.name;
  }
}

/**
 * The lock world: per-task held stacks, the lockdep-style validator (documented order, learned
 * dependencies, same-class recursion) and the event stream. Deterministic and single-threaded.
 */
export class LockSystem {
  readonly order: LockOrder;
  /** @internal */
  readonly orderIndex: LockOrderIndex;
  strict: boolean;
  onEvent: ((e: LockEvent) => void) | undefined;
  readonly validateBitLocks: boolean;
  private readonly reportList: LockReport[] = [];
  private readonly reported = new Set<string>();
  private readonly tasks = new Map<Task, TaskState>();
  private readonly states: TaskState[] = [];
  /** Learned dependencies: from-class → to-class → first occurrence. */
  private readonly deps = new Map<string, Map<string, Dependency>>();
  /** Ids of the (class, documented class) pairs seen: class → documented class → id. */
  private readonly pairIds = new Map<string, Map<string, number>>();
  private pairCount = 0;
  /** classOf()'s answers. */
  private readonly classes = new Map<string, { readonly docClass: string; readonly pair: number }>();
  /** The empty held stack, root of the validator's memo. */
  private readonly emptyShape = new StackShape();
  /** findState()'s last answer: tasks take locks in runs. */
  private lastTask: Task | null = null;
  private lastState: TaskState | undefined;

  constructor(opts: LockSystemOptions = {}) {
    this.order = opts.order ?? RMAP_LOCK_ORDER_4_9;
    this.orderIndex = indexLockOrder(this.order);
    this.strict = opts.strict ?? true;
    this.onEvent = opts.onEvent;
    this.validateBitLocks = opts.validateBitLocks ?? true;
  }

  /** Every report so far, oldest first. Repeats of an inversion or recursion for the same class pair are recorded once. */
  get reports(): readonly LockReport[] {
    return this.reportList;
  }

  /** The locks `task` holds, in acquisition order. */
  heldBy(task: Task): readonly HeldLock[] {
    const s = this.findState(task);
    const out: HeldLock[] = [];
    if (s) for (let i = 0; i < s.depth; i++) out.push({ lock: s.locks[i], mode: s.modes[i] });
    return out;
  }

  /** Who holds `lock`, and how. */
  holders(lock: Lock): readonly { task: Task; mode: LockMode }[] {
    return lock.holderList();
  }

  /** Whether `task` holds `lock` (in `mode`, if given). `lockdep_assert_held()` in spirit. */
  isHeld(task: Task, lock: Lock, mode?: LockMode): boolean {
    const s = this.findState(task);
    if (!s) return false;
    const i = s.indexOf(lock);
    return i >= 0 && (mode === undefined || s.modes[i] === mode);
  }

  /** Tasks that hold at least one lock. */
  tasksHoldingLocks(): readonly Task[] {
    return this.states.filter((s) => s.depth > 0).map((s) => s.task);
  }

  /** Learned dependencies (class pairs) observed so far, as `from → to` strings. */
  dependencies(): readonly string[] {
    const out: string[] = [];
    for (const [from, m] of this.deps) for (const to of m.keys()) out.push(`${from} → ${to}`);
    return out;
  }

  /**
   * Throws LockOrderError, after recording one 'held-at-end' report per task, if any task holds a
   * lock. The check `debug_check_no_locks_held()` does at task exit.
   */
  assertNoLocksHeld(): void {
    let first: LockReport | null = null;
    for (const s of this.states) {
      if (s.depth === 0) continue;
      const report: LockReport = {
        kind: 'held-at-end',
        message: [
          '=====================================',
          'lock held when none should be',
          '-------------------------------------',
          `${taskName(s.task)} still holds ${s.depth} lock${s.depth === 1 ? '' : 's'}:`,
          ...s.lines().map((l) => `  ${l}`),
        ].join('\n'),
        task: s.task,
        lock: s.locks[s.depth - 1],
        held: s.names(),
      };
      this.reportList.push(report);
      first ??= report;
    }
    if (first) throw new LockOrderError(first);
  }

  // ---------------------------------------------------------------------------------------------
  // internal, used by the lock classes

  /** @internal A lock class's documented name and pair id, worked out once per class (locks are made by the thousand). */
  classOf(lockClass: string): { readonly docClass: string; readonly pair: number } {
    let c = this.classes.get(lockClass);
    if (c === undefined) {
      const docClass = this.orderIndex.canonical(lockClass);
      c = { docClass, pair: this.pairOf(lockClass, docClass) };
      this.classes.set(lockClass, c);
    }
    return c;
  }

  /** @internal A small integer naming the pair (class, documented class), the same for every lock of it. */
  pairOf(cls: string, docClass: string): number {
    let m = this.pairIds.get(cls);
    if (!m) this.pairIds.set(cls, (m = new Map()));
    let id = m.get(docClass);
    if (id === undefined) {
      id = this.pairCount++;
      m.set(docClass, id);
    }
    return id;
  }

  /** @internal */
  stateOf(task: Task): TaskState {
    const s = this.findState(task);
    if (s) return s;
    const created = new TaskState(task, this.emptyShape);
    this.tasks.set(task, created);
    this.states.push(created);
    this.lastTask = task;
    this.lastState = created;
    return created;
  }

  private findState(task: Task): TaskState | undefined {
    if (task === this.lastTask) return this.lastState;
    let s = this.tasks.get(task);
    if (!s) {
      for (const st of this.states) {
        if (sameTask(st.task, task)) {
          this.tasks.set(task, st);
          s = st;
          break;
        }
      }
      if (!s) return undefined;
    }
    this.lastTask = task;
    this.lastState = s;
    return s;
  }

  /** @internal */
  emit(type: LockEvent['type'], task: Task, lock: Lock, cls: string, mode: LockMode, trylock = false): void {
    const fn = this.onEvent;
    if (fn)
      fn(
        trylock
          ? { type, task, lock, lockClass: cls, mode, trylock }
          : { type, task, lock, lockClass: cls, mode },
      );
  }

  /**
   * @internal The acquire path shared by every lock kind. Returns true when acquired, false when a
   * trylock failed (or, non-strict, the acquire was refused as a double acquire).
   * `cls` is the effective lockdep class (differs from lock.lockClass for a nested subclass).
   */
  acquire(lock: Lock, t: Task, mode: LockMode, how: number, cls: string, nest: Lock | null): boolean {
    const s = this.stateOf(t);
    if (s.depth > 0 && s.indexOf(lock) >= 0) {
      this.reportDoubleAcquire(s, lock, mode, cls);
      if (how === ACQ_TRYLOCK) this.emit('trylock-failed', t, lock, cls, mode);
      return false;
    }
    const pair = cls === lock.lockClass ? lock.pair : this.pairOf(cls, lock.docClass);
    if (how !== ACQ_TRYLOCK && s.depth > 0 && (lock.kind !== 'bitlock' || this.validateBitLocks)) {
      const nested = nest !== null && s.indexOf(nest) >= 0;
      // validate() reads only the held (class, documented class) pairs, the new one and `nested`,
      // and the learned dependencies only grow: an acquisition it passed on this stack shape (and
      // whose new edges it then recorded) passes again with nothing to record.
      const key = pair * 2 + (nested ? 1 : 0);
      const shape = s.shapes[s.depth];
      if (!shape.hasPassed(key) && this.validate(s, lock, mode, cls, nested)) shape.pass(key);
    }
    const owner = lock.conflict(t, mode);
    if (owner !== null) {
      if (how === ACQ_TRYLOCK) {
        this.emit('trylock-failed', t, lock, cls, mode);
        return false;
      }
      this.emit('contended', t, lock, cls, mode);
      throw new LockContendedError(lock, t, owner);
    }
    lock.grant(t, mode);
    s.push(lock, mode, cls, pair);
    if (this.onEvent) this.emit('acquire', t, lock, cls, mode, how === ACQ_TRYLOCK);
    return true;
  }

  /**
   * @internal acquire()'s outcome for a blocking write acquire of a lock nobody holds (the caller
   * checked), when that outcome is already known: no listener to tell, `t` the last task seen, and
   * the validator's verdict for this class on `t`'s stack shape memoised. A lock nobody holds is not
   * on `t`'s stack, so there is no double acquire to report. Pushes it and returns true; returns
   * false, having done nothing, when acquire() must decide. The page-table lock is taken once per
   * VMA an rmap walk visits, always on the same stack: this spares it acquire()'s generic steps.
   */
  pushUncontended(lock: Lock, t: Task): boolean {
    if (t !== this.lastTask || this.onEvent !== undefined) return false;
    const s = this.lastState as TaskState;
    const d = s.depth;
    if (d > 0 && (lock.kind !== 'bitlock' || this.validateBitLocks) && !s.shapes[d].hasPassed(lock.pair * 2))
      return false;
    s.push(lock, 'write', lock.lockClass, lock.pair);
    return true;
  }

  /**
   * @internal release()'s outcome when `lock` is the top of the last task's stack, held for write,
   * and no listener is told: pops it and returns true (the caller drops the holder). Returns false,
   * having done nothing, when release() must decide.
   */
  popTop(lock: Lock, t: Task): boolean {
    if (t !== this.lastTask || this.onEvent !== undefined) return false;
    const s = this.lastState as TaskState;
    const d = s.depth - 1;
    if (d < 0 || s.locks[d] !== lock || s.modes[d] !== 'write') return false;
    s.removeAt(d);
    return true;
  }

  /** @internal Returns false (after reporting) when `t` does not hold `lock` in `mode`. */
  release(lock: Lock, t: Task, mode: LockMode): boolean {
    const s = this.findState(t);
    const i = s ? s.indexOf(lock) : -1;
    if (!s || i < 0 || s.modes[i] !== mode) {
      const heldMode = s && i >= 0 ? s.modes[i] : null;
      const holders = lock.holderList();
      this.report({
        kind: 'release-unheld',
        message: [
          '=====================================',
          'bad unlock balance detected',
          '-------------------------------------',
          `${taskName(t)} is trying to release ${describe(lock, mode, lock.lockClass)}`,
          heldMode ? `but holds it for ${heldMode}, not ${mode}.` : 'but it does not hold it.',
          holders.length > 0
            ? `It is held by: ${holders.map((h) => `${taskName(h.task)}{${h.mode}}`).join(', ')}`
            : 'Nobody holds it.',
          `${taskName(t)} holds:`,
          ...(s && s.depth > 0 ? s.lines().map((l) => `  ${l}`) : ['  (no locks)']),
        ].join('\n'),
        task: t,
        lock,
        held: s ? s.names() : [],
      });
      return false;
    }
    const cls = s.classes[i];
    lock.revoke(t, mode);
    s.removeAt(i);
    if (this.onEvent) this.emit('release', t, lock, cls, mode);
    return true;
  }

  private report(r: LockReport, dedupeKey?: string): void {
    if (dedupeKey === undefined || !this.reported.has(dedupeKey)) {
      if (dedupeKey !== undefined) this.reported.add(dedupeKey);
      this.reportList.push(r);
    }
    if (this.strict) throw new LockOrderError(r);
  }

  private reportDoubleAcquire(s: TaskState, lock: Lock, mode: LockMode, cls: string): void {
    const i = s.indexOf(lock);
    this.report({
      kind: 'double-acquire',
      message: [
        '=====================================',
        'double acquire: the task already holds this lock (self-deadlock)',
        '-------------------------------------',
        `${taskName(s.task)} is trying to acquire:`,
        `  ${describe(lock, mode, cls)}`,
        `but already holds it{${s.modes[i]}} as entry #${i} of:`,
        ...s.lines().map((l) => `  ${l}`),
      ].join('\n'),
      task: s.task,
      lock,
      held: s.names(),
    });
  }

  /**
   * The validator: same-class recursion, documented order, then learned dependencies. Returns
   * false when it reported (non-strict mode; strict mode throws).
   */
  private validate(s: TaskState, lock: Lock, mode: LockMode, cls: string, nested: boolean): boolean {
    const depth = s.depth;
    const idx = this.orderIndex;
    const docInner = idx.outer.get(lock.docClass);
    let fresh = false;
    for (let i = 0; i < depth; i++) {
      const hc = s.classes[i];
      if (hc === cls) {
        if (nested) continue;
        this.reportRecursive(s, i, lock, mode, cls);
        return false;
      }
      const held = s.locks[i];
      if (docInner !== undefined && held.docClass !== lock.docClass) {
        const rule = docInner.get(held.docClass);
        if (rule !== undefined) {
          this.reportDocumented(s, i, lock, mode, cls, rule);
          return false;
        }
      }
      if (!fresh && this.deps.get(hc)?.get(cls) === undefined) fresh = true;
    }
    if (!fresh) return true; // every dependency already known and checked
    for (let i = 0; i < depth; i++) {
      const hc = s.classes[i];
      if (hc === cls || this.deps.get(hc)?.get(cls) !== undefined) continue;
      const path = this.findPath(cls, hc);
      if (path !== null) {
        this.reportLearned(s, i, lock, mode, cls, path);
        return false;
      }
    }
    // No report: record the new edges with the current acquisition path.
    const held = s.names();
    const lines = [...s.lines(), `-> ${describe(lock, mode, cls)}`];
    for (let i = 0; i < depth; i++) {
      const hc = s.classes[i];
      if (hc === cls) continue;
      let m = this.deps.get(hc);
      if (!m) this.deps.set(hc, (m = new Map()));
      if (!m.has(cls)) m.set(cls, { from: hc, to: cls, task: s.task, held, lines });
    }
    return true;
  }

  /** Breadth-first search for a learned path from → … → to; the edges, or null. */
  private findPath(from: string, to: string): Dependency[] | null {
    const prev = new Map<string, Dependency | null>([[from, null]]);
    const queue = [from];
    for (let q = 0; q < queue.length; q++) {
      const c = queue[q];
      const m = this.deps.get(c);
      if (!m) continue;
      for (const [next, dep] of m) {
        if (prev.has(next)) continue;
        prev.set(next, dep);
        if (next === to) {
          const path: Dependency[] = [];
          for (let d: Dependency | null | undefined = dep; d; d = prev.get(d.from)) path.unshift(d);
          return path;
        }
        queue.push(next);
      }
    }
    return null;
  }

  private header(
    title: string,
    s: TaskState,
    lock: Lock,
    mode: LockMode,
    cls: string,
    heldAt: number,
  ): string[] {
    return [
      '======================================================',
      title,
      '------------------------------------------------------',
      `${taskName(s.task)} is trying to acquire lock:`,
      `  ${describe(lock, mode, cls)}`,
      '',
      'but task is already holding lock:',
      `  ${describe(s.locks[heldAt], s.modes[heldAt], s.classes[heldAt])}`,
      '',
    ];
  }

  private currentPath(s: TaskState, lock: Lock, mode: LockMode, cls: string): string[] {
    return [
      `current acquisition path (${taskName(s.task)}):`,
      ...s.lines().map((l) => `  ${l}`),
      `  -> ${describe(lock, mode, cls)}`,
    ];
  }

  private reportRecursive(s: TaskState, i: number, lock: Lock, mode: LockMode, cls: string): void {
    const held = s.names();
    this.report(
      {
        kind: 'recursive',
        message: [
          ...this.header('WARNING: possible recursive locking detected', s, lock, mode, cls, i),
          `Both are instances of class ${cls}; two tasks taking two instances in opposite orders would`,
          'deadlock. Take them under a nest lock (down_write_nest_lock) or in a subclass.',
          '',
          ...this.currentPath(s, lock, mode, cls),
        ].join('\n'),
        task: s.task,
        lock,
        held,
        previous: held,
      },
      `recursive:${cls}`,
    );
  }

  private reportDocumented(
    s: TaskState,
    i: number,
    lock: Lock,
    mode: LockMode,
    cls: string,
    rule: readonly string[],
  ): void {
    const hc = s.classes[i];
    const earlier = this.deps.get(cls)?.get(hc);
    const message = [
      ...this.header('WARNING: lock order inversion against the documented order', s, lock, mode, cls, i),
      `${this.order.source} documents ${lock.docClass} as outer to ${s.locks[i].docClass}:`,
      ...rule.map((label, k) => `  ${'  '.repeat(k)}${label}`),
      '',
      ...this.currentPath(s, lock, mode, cls),
    ];
    if (earlier) {
      message.push(
        '',
        `earlier acquisition path, documented direction (${taskName(earlier.task)}):`,
        ...earlier.lines.map((l) => `  ${l}`),
      );
    } else {
      message.push('', 'earlier acquisition path, documented direction: (not observed yet)');
    }
    const report: LockReport = {
      kind: 'inversion',
      message: message.join('\n'),
      task: s.task,
      lock,
      held: s.names(),
    };
    if (earlier) report.previous = earlier.held;
    this.report(report, `inversion:${hc}->${cls}`);
  }

  private reportLearned(
    s: TaskState,
    i: number,
    lock: Lock,
    mode: LockMode,
    cls: string,
    path: Dependency[],
  ): void {
    const hc = s.classes[i];
    const message = [
      ...this.header('WARNING: possible circular locking dependency detected', s, lock, mode, cls, i),
      `which lock already depends on the new lock: ${[cls, ...path.map((d) => d.to)].join(' -> ')}`,
      '',
      ...this.currentPath(s, lock, mode, cls),
    ];
    path.forEach((d, k) => {
      message.push(
        '',
        `earlier acquisition path #${k + 1}: ${d.from} -> ${d.to} (${taskName(d.task)}):`,
        ...d.lines.map((l) => `  ${l}`),
      );
    });
    this.report(
      {
        kind: 'inversion',
        message: message.join('\n'),
        task: s.task,
        lock,
        held: s.names(),
        previous: path[0].held,
      },
      `inversion:${hc}->${cls}`,
    );
  }
}

export { ACQ_BLOCKING, ACQ_TRYLOCK };
