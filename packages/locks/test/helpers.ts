import type { LockBitHolder, LockEvent, Task } from '../src/index.js';

export const T1: Task = { id: 1, name: 'kswapd0' };
export const T2: Task = { id: 2, name: 'bash' };
export const T3: Task = { id: 3, name: 'ksmd' };

/** A page whose PG_locked bit lives in a plain boolean. */
export class FakePage implements LockBitHolder {
  locked = false;
  constructor(readonly lockName: string) {}
  testAndSetLocked(): boolean {
    const was = this.locked;
    this.locked = true;
    return was;
  }
  clearLocked(): void {
    this.locked = false;
  }
}

/** Compact event strings: 'acquire kswapd0 L write'. */
export function recorder(): { events: string[]; onEvent: (e: LockEvent) => void } {
  const events: string[] = [];
  return { events, onEvent: (e) => events.push(`${e.type} ${e.task.name} ${e.lock.name} ${e.mode}`) };
}
