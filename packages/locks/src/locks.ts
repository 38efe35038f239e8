import { LOCK_CLASS } from './order.js';
import { ACQ_BLOCKING, ACQ_TRYLOCK, Lock, type LockSystem, sameTask, UNKNOWN_TASK } from './system.js';
import type { LockKind, LockMode, Task } from './types.js';

/**
 * A read-write semaphore: many readers or one writer — `struct rw_semaphore`, kernel/locking/rwsem.c.
 * Used for mm->mmap_sem, mapping->i_mmap_rwsem and anon_vma->rwsem.
 */
export class RwSemaphore extends Lock {
  readonly kind: LockKind = 'rwsem';
  private writerTask: Task | null = null;
  private readonly readerTasks: Task[] = [];

  /** init_rwsem(): `lockClass` plays the part of the lockdep key of the init site. */
  constructor(sys: LockSystem, lockClass: string, name: string) {
    super(sys, lockClass, name);
  }

  /** Number of tasks holding it for read. */
  get readers(): number {
    return this.readerTasks.length;
  }

  /** The task holding it for write, or null. */
  get writer(): Task | null {
    return this.writerTask;
  }

  /** down_read() — kernel/locking/rwsem.c. Contended (a writer holds it) → LockContendedError. */
  downRead(t: Task): void {
    this.sys.acquire(this, t, 'read', ACQ_BLOCKING, this.lockClass, null);
  }

  /** down_write() — kernel/locking/rwsem.c. Contended (anyone holds it) → LockContendedError. */
  downWrite(t: Task): void {
    this.sys.acquire(this, t, 'write', ACQ_BLOCKING, this.lockClass, null);
  }

  /** down_read_trylock() — kernel/locking/rwsem.c. No order check (as lockdep); held on success. */
  downReadTrylock(t: Task): boolean {
    return this.sys.acquire(this, t, 'read', ACQ_TRYLOCK, this.lockClass, null);
  }

  /** down_write_trylock() — kernel/locking/rwsem.c. No order check (as lockdep); held on success. */
  downWriteTrylock(t: Task): boolean {
    return this.sys.acquire(this, t, 'write', ACQ_TRYLOCK, this.lockClass, null);
  }

  /**
   * down_write_nest_lock() — kernel/locking/rwsem.c: holding several instances of one class is
   * allowed while `nest` is held (mm_take_all_locks nests every anon_vma root under mm->mmap_sem).
   * Without `nest` held it is an ordinary down_write().
   */
  downWriteNestLock(t: Task, nest: Lock): void {
    this.sys.acquire(this, t, 'write', ACQ_BLOCKING, this.lockClass, nest);
  }

  /** up_read() — kernel/locking/rwsem.c. */
  upRead(t: Task): void {
    this.sys.release(this, t, 'read');
  }

  /** up_write() — kernel/locking/rwsem.c. */
  upWrite(t: Task): void {
    this.sys.release(this, t, 'write');
  }

  /** @internal */
  conflict(_t: Task, mode: LockMode): Task | null {
    if (this.writerTask !== null) return this.writerTask;
    if (mode === 'write' && this.readerTasks.length > 0) return this.readerTasks[0];
    return null;
  }

  /** @internal */
  grant(t: Task, mode: LockMode): void {
    if (mode === 'write') this.writerTask = t;
    else this.readerTasks.push(t);
  }

  /** @internal */
  revoke(t: Task, mode: LockMode): void {
    if (mode === 'write') {
      this.writerTask = null;
      return;
    }
    const r = this.readerTasks;
    for (let i = 0; i < r.length; i++) {
      if (sameTask(r[i], t)) {
        for (let j = i; j < r.length - 1; j++) r[j] = r[j + 1];
        r.pop();
        return;
      }
    }
  }

  /** @internal */
  holderList(): { task: Task; mode: LockMode }[] {
    if (this.writerTask) return [{ task: this.writerTask, mode: 'write' }];
    return this.readerTasks.map((task) => ({ task, mode: 'read' as const }));
  }
}

/** An exclusive lock with an owner; shared by Mutex, SpinLock and BitLock. */
abstract class ExclusiveLock extends Lock {
  protected ownerTask: Task | null = null;

  /** The holder, or null. */
  get owner(): Task | null {
    return this.ownerTask;
  }

  /** @internal */
  conflict(_t: Task, _mode: LockMode): Task | null {
    return this.ownerTask;
  }

  /** @internal */
  grant(t: Task, _mode: LockMode): void {
    this.ownerTask = t;
  }

  /** @internal */
  revoke(_t: Task, _mode: LockMode): void {
    this.ownerTask = null;
  }

  /** @internal */
  holderList(): { task: Task; mode: LockMode }[] {
    return this.ownerTask ? [{ task: this.ownerTask, mode: 'write' }] : [];
  }

  /** A blocking acquire: the lock system's shortcut when the lock is free, else its full path. */
  protected lockBlocking(t: Task): void {
    if (this.ownerTask === null && this.sys.pushUncontended(this, t)) this.ownerTask = t;
    else this.sys.acquire(this, t, 'write', ACQ_BLOCKING, this.lockClass, null);
  }

  /** A release: the lock system's shortcut when this lock tops the stack, else its full path. */
  protected unlockHeld(t: Task): void {
    if (this.sys.popTop(this, t)) this.ownerTask = null;
    else this.sys.release(this, t, 'write');
  }
}

/** A sleeping mutex — `struct mutex`, kernel/locking/mutex.c (e.g. inode->i_mutex in 4.9). */
export class Mutex extends ExclusiveLock {
  readonly kind: LockKind = 'mutex';

  /** mutex_init(). */
  constructor(sys: LockSystem, lockClass: string, name: string) {
    super(sys, lockClass, name);
  }

  /** mutex_lock() — kernel/locking/mutex.c. Contended → LockContendedError. */
  lock(t: Task): void {
    this.lockBlocking(t);
  }

  /** mutex_trylock() — kernel/locking/mutex.c. */
  trylock(t: Task): boolean {
    return this.sys.acquire(this, t, 'write', ACQ_TRYLOCK, this.lockClass, null);
  }

  /** mutex_unlock() — kernel/locking/mutex.c. */
  unlock(t: Task): void {
    this.unlockHeld(t);
  }
}

/**
 * A spinlock — `spinlock_t`, kernel/locking/spinlock.c (mm->page_table_lock, the split pte lock,
 * swap_lock, mmlist_lock...). A contended spin_lock() would spin; the simulator reports it instead.
 */
export class SpinLock extends ExclusiveLock {
  readonly kind: LockKind = 'spinlock';
  private nestedClasses: string[] | undefined;

  /** spin_lock_init(). */
  constructor(sys: LockSystem, lockClass: string, name: string) {
    super(sys, lockClass, name);
  }

  /** spin_lock() — include/linux/spinlock.h. Contended → LockContendedError. */
  lock(t: Task): void {
    this.lockBlocking(t);
  }

  /**
   * spin_lock_nested() — include/linux/spinlock.h: take it as lockdep subclass `subclass` (1 =
   * SINGLE_DEPTH_NESTING), a class of its own ('pte_lock/1'), so a second instance of the same class
   * may be held (mremap's move_ptes takes the old then the new pte lock). Subclass 0 is lock().
   */
  lockNested(t: Task, subclass: number): void {
    this.sys.acquire(this, t, 'write', ACQ_BLOCKING, this.subclassName(subclass), null);
  }

  /** spin_trylock() — include/linux/spinlock.h. */
  trylock(t: Task): boolean {
    return this.sys.acquire(this, t, 'write', ACQ_TRYLOCK, this.lockClass, null);
  }

  /** spin_unlock() — include/linux/spinlock.h. */
  unlock(t: Task): void {
    this.unlockHeld(t);
  }

  private subclassName(subclass: number): string {
    if (subclass === 0) return this.lockClass;
    const cache = (this.nestedClasses ??= []);
    return (cache[subclass] ??= `${this.lockClass}/${subclass}`);
  }
}

/**
 * The PG_locked page-flag bit lock: lock_page / trylock_page / unlock_page — include/linux/pagemap.h.
 * The page itself lives elsewhere, so the bit is reached through this holder.
 */
export interface LockBitHolder {
  /** Sets PG_locked; returns its previous value. */
  testAndSetLocked(): boolean;
  clearLocked(): void;
  /** Instance name for reports, e.g. 'page#42'. */
  readonly lockName: string;
}

/**
 * The Lock object that stands for one page's PG_locked bit (class LOCK_CLASS.pageLock). Created once
 * per holder by the lock system; the bit itself stays in the holder.
 */
export class BitLock extends ExclusiveLock {
  readonly kind: LockKind = 'bitlock';
  readonly holder: LockBitHolder;

  constructor(sys: LockSystem, holder: LockBitHolder) {
    super(sys, LOCK_CLASS.pageLock, '');
    this.holder = holder;
  }

  /**
   * The holder's name, asked when needed: a holder may stand for one page after another while no
   * task holds it (a pool of page locks), and a name is only read for reports and events.
   */
  override get name(): string {
    return this.holder.lockName;
  }

  /** lock_page() — include/linux/pagemap.h. Blocking; the bit already set → LockContendedError. */
  lock(t: Task): void {
    this.sys.acquire(this, t, 'write', ACQ_BLOCKING, this.lockClass, null);
  }

  /** trylock_page() — include/linux/pagemap.h. */
  trylock(t: Task): boolean {
    return this.sys.acquire(this, t, 'write', ACQ_TRYLOCK, this.lockClass, null);
  }

  /** unlock_page() — mm/filemap.c. Not held by `t` → 'release-unheld' report. */
  unlock(t: Task): void {
    this.sys.release(this, t, 'write');
  }

  /** @internal test_and_set_bit_lock(PG_locked): claims the bit when it was clear. */
  override conflict(_t: Task, _mode: LockMode): Task | null {
    if (this.holder.testAndSetLocked()) return this.ownerTask ?? UNKNOWN_TASK;
    return null;
  }

  /** @internal clear_bit_unlock(PG_locked). */
  override revoke(_t: Task, _mode: LockMode): void {
    this.ownerTask = null;
    this.holder.clearLocked();
  }
}

const bitLocks = new WeakMap<LockSystem, WeakMap<LockBitHolder, BitLock>>();

/** The BitLock standing for `page`'s PG_locked bit in `sys` (created on first use). */
export function pageLockOf(sys: LockSystem, page: LockBitHolder): BitLock {
  let m = bitLocks.get(sys);
  if (!m) bitLocks.set(sys, (m = new WeakMap()));
  let l = m.get(page);
  if (!l) m.set(page, (l = new BitLock(sys, page)));
  return l;
}

/** lock_page() — include/linux/pagemap.h. Blocking; the bit already set → LockContendedError. */
export function lockPage(sys: LockSystem, t: Task, page: LockBitHolder): void {
  pageLockOf(sys, page).lock(t);
}

/** trylock_page() — include/linux/pagemap.h. */
export function trylockPage(sys: LockSystem, t: Task, page: LockBitHolder): boolean {
  return pageLockOf(sys, page).trylock(t);
}

/** unlock_page() — mm/filemap.c. Not held by `t` → 'release-unheld' report. */
export function unlockPage(sys: LockSystem, t: Task, page: LockBitHolder): void {
  pageLockOf(sys, page).unlock(t);
}
