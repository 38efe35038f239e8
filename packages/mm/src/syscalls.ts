/**
 * The user-visible entry points: each runs as the process's own task (the kernel's `current`),
 * as the system call or the faulting access would.
 */

import { exitMm, forkMm } from './fork.js';
import { doMadvise, type MadviseAdvice } from './madvise.js';
import { handleMmFault } from './memory.js';
import { doMlock, doMunlock } from './mlock.js';
import { doMmap, doMunmap, type MmapRequest } from './mmap.js';
import { doMprotect } from './mprotect.js';
import { doMremap, MREMAP_FIXED, MREMAP_MAYMOVE } from './mremap.js';
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

/** mprotect(2): `prot` is PROT_NONE or a combination of PROT_READ, PROT_WRITE, PROT_EXEC. */
export function sysMprotect(sys: MmSystem, mm: Mm, addr: number, len: number, prot: number): void {
  sys.as(mm.owner, () => doMprotect(sys, mm, addr, len, prot));
}

/**
 * mremap(2) with MREMAP_MAYMOVE, and MREMAP_FIXED when `fixedNewAddr` is given: the mapping's
 * address afterwards.
 */
export function sysMremap(
  sys: MmSystem,
  mm: Mm,
  oldAddr: number,
  oldLen: number,
  newLen: number,
  fixedNewAddr?: number,
): number {
  const flags = MREMAP_MAYMOVE | (fixedNewAddr === undefined ? 0 : MREMAP_FIXED);
  return sys.as(mm.owner, () => doMremap(sys, mm, oldAddr, oldLen, newLen, flags, fixedNewAddr));
}

/** mlock(2) */
export function sysMlock(sys: MmSystem, mm: Mm, addr: number, len: number): void {
  sys.as(mm.owner, () => doMlock(sys, mm, addr, len));
}

/** munlock(2) */
export function sysMunlock(sys: MmSystem, mm: Mm, addr: number, len: number): void {
  sys.as(mm.owner, () => doMunlock(sys, mm, addr, len));
}

/** madvise(2) */
export function sysMadvise(sys: MmSystem, mm: Mm, addr: number, len: number, advice: MadviseAdvice): void {
  sys.as(mm.owner, () => doMadvise(sys, mm, addr, len, advice));
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
