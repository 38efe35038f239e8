/**
 * fork() and exit() of an address space — kernel/fork.c (dup_mmap, copy_process) and
 * kernel/exit.c → mmput → exit_mmap.
 */
import { VM_DONTCOPY, VM_LOCKED, VM_LOCKONFAULT, VM_SHARED } from './constants.js';
import { vmaIntervalTreeInsertAfter } from './interval-tree.js';
import { ksmExit, ksmFork } from './ksm.js';
import { copyPageRange } from './memory.js';
import { exitMmap, newVma, vmaLinkList } from './mmap.js';
import { anonVmaFork } from './rmap.js';
import type { MmSystem } from './system.js';
import type { Mm, VmArea } from './types.js';

/**
 * dup_mmap() — kernel/fork.c. The child gets a copy of every VMA: anon_vma_fork() links it into the
 * parent's anon_vma family, VM_LOCKED is not inherited, a file VMA goes right after its parent in
 * i_mmap, and copy_page_range() copies the PTEs of VMAs that have an anon_vma.
 */
export function dupMmap(sys: MmSystem, mm: Mm, oldmm: Mm): void {
  const t = sys.current;
  oldmm.mmapSem.downWrite(t);
  mm.mmapSem.downWriteNestLock(t, oldmm.mmapSem);
  ksmFork(sys, mm, oldmm);
  let prev: VmArea | null = null;
  for (let mpnt = oldmm.mmap; mpnt; mpnt = mpnt.vmNext) {
    if (mpnt.vmFlags & VM_DONTCOPY) continue;
    const tmp = newVma(sys, mm, mpnt.vmStart, mpnt.vmEnd, mpnt.vmPgoff, mpnt.vmFlags, mpnt.vmFile);
    anonVmaFork(sys, tmp, mpnt);
    tmp.vmFlags &= ~(VM_LOCKED | VM_LOCKONFAULT);
    const file = tmp.vmFile;
    if (file) {
      file.mapping.iMmapRwsem.downWrite(t);
      if (tmp.vmFlags & VM_SHARED) file.mapping.iMmapWritable++;
      vmaIntervalTreeInsertAfter(tmp, mpnt, file.mapping.iMmap);
      file.mapping.iMmapRwsem.upWrite(t);
    }
    // __vma_link_rb + list: the child's VMAs arrive in address order, each after the previous.
    vmaLinkList(mm, tmp, prev);
    prev = tmp;
    copyPageRange(sys, mm, oldmm, mpnt);
  }
  mm.mmapSem.upWrite(t);
  oldmm.mmapSem.upWrite(t);
}

/** fork(): a new process whose address space is a copy of `parent`'s (copy_process → copy_mm). */
export function forkMm(sys: MmSystem, parent: Mm, childName: string): Mm {
  if (parent.dead) throw new Error('fork of an exited process');
  const child = sys.newMm(childName);
  sys.as(parent.owner, () => {
    dupMmap(sys, child, parent);
    if (sys.tracing)
      sys.trace('dup_mmap', `mm${parent.id} forked mm${child.id} (${child.mapCount} VMAs)`, { mm: child.id });
  });
  return child;
}

/** do_exit() → exit_mm() → mmput() → ksm_exit() + exit_mmap(): the address space is torn down. */
export function exitMm(sys: MmSystem, mm: Mm): void {
  if (mm.dead) throw new Error('exit of an exited process');
  sys.as(mm.owner, () => {
    ksmExit(sys, mm);
    exitMmap(sys, mm);
  });
}
