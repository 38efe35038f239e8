/**
 * The user-visible entry points: each runs as the process's own task (the kernel's `current`),
 * as the system call or the faulting access would.
 */

import { exitMm, forkMm } from './fork.js';
import { handleMmFault } from './memory.js';
import { doMmap, doMunmap, type MmapRequest } from './mmap.js';
import type { MmSystem } from './system.js';
import type { Mm, VmArea } from './types.js';

/** mmap(2) */
export function sysMmap(sys: MmSystem, mm: Mm, req: MmapRequest): VmArea {
  return sys.as(mm.owner, () => doMmap(sys, mm, req));
}

/** munmap(2) */
export function sysMunmap(sys: MmSystem, mm: Mm, addr: number, len: number): void {
  sys.as(mm.owner, () => {
    mm.mmapSem.downWrite(sys.current);
    try {
      doMunmap(sys, mm, addr, len);
    } finally {
      mm.mmapSem.upWrite(sys.current);
    }
  });
}

/** A load (write = false) or store by the process at `addr`: faults the page in when needed. */
export function userAccess(sys: MmSystem, mm: Mm, addr: number, write: boolean): void {
  sys.as(mm.owner, () => handleMmFault(sys, mm, addr, write));
}

/** fork(2): the child's mm. */
export function sysFork(sys: MmSystem, mm: Mm, childName: string): Mm {
  return forkMm(sys, mm, childName);
}

/** exit(2) */
export function sysExit(sys: MmSystem, mm: Mm): void {
  exitMm(sys, mm);
}
