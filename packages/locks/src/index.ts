/**
 * @rmaplab/locks — simulated kernel locks (rwsem, mutex, spinlock, the PG_locked bit lock) and a
 * lockdep-style validator checking them against the lock order documented at the top of mm/rmap.c.
 */
export {
  BitLock,
  type LockBitHolder,
  lockPage,
  Mutex,
  pageLockOf,
  RwSemaphore,
  SpinLock,
  trylockPage,
  unlockPage,
} from './locks.js';
export {
  documentedPath,
  formatLockOrder,
  indexLockOrder,
  LOCK_CLASS,
  type LockOrder,
  type LockOrderIndex,
  type LockOrderNode,
  RMAP_LOCK_ORDER_4_9,
  RMAP_LOCK_ORDER_6_12,
} from './order.js';
export { Lock, LockSystem, type LockSystemOptions, sameTask, UNKNOWN_TASK } from './system.js';
export {
  type HeldLock,
  LockContendedError,
  type LockEvent,
  type LockKind,
  type LockMode,
  LockOrderError,
  type LockReport,
  type Task,
} from './types.js';
