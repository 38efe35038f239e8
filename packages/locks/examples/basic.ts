/**
 * A kswapd-like task walks a file page's mappings in the documented order, then a buggy path takes
 * mapping->i_mmap_rwsem while holding anon_vma->rwsem. The validator reports the inversion.
 *
 * Run: pnpm tsx examples/basic.ts
 */
import { pathToFileURL } from 'node:url';
import {
  LOCK_CLASS,
  type LockBitHolder,
  LockSystem,
  lockPage,
  RwSemaphore,
  SpinLock,
  type Task,
  unlockPage,
} from '../src/index.js';

export function main(log: (line: string) => void = console.log): LockSystem {
  // strict: false records reports instead of throwing LockOrderError.
  const sys = new LockSystem({ strict: false });
  const kswapd: Task = { id: 1, name: 'kswapd0' };
  const buggy: Task = { id: 2, name: 'buggy' };

  const iMmap = new RwSemaphore(sys, LOCK_CLASS.iMmapRwsem, 'file1->i_mmap_rwsem');
  const anonVma = new RwSemaphore(sys, LOCK_CLASS.anonVmaRwsem, 'anon_vma#1->rwsem');
  const ptl = new SpinLock(sys, LOCK_CLASS.pteLock, 'mm1->pte[0]');
  let locked = false;
  const page: LockBitHolder = {
    lockName: 'page#7',
    testAndSetLocked: () => {
      const was = locked;
      locked = true;
      return was;
    },
    clearLocked: () => {
      locked = false;
    },
  };

  // rmap_walk_file: PG_locked → i_mmap_rwsem (read) → pte lock. Documented order: no report.
  lockPage(sys, kswapd, page);
  iMmap.downRead(kswapd);
  anonVma.downRead(kswapd); // e.g. a walk that also needs the anon_vma: still in order
  ptl.lock(kswapd);
  ptl.unlock(kswapd);
  anonVma.upRead(kswapd);
  iMmap.upRead(kswapd);
  unlockPage(sys, kswapd, page);
  log(`after the walk: ${sys.reports.length} reports`);

  // The bug: i_mmap_rwsem nests outside anon_vma->rwsem, but this path takes it inside.
  anonVma.downWrite(buggy);
  iMmap.downWrite(buggy);
  iMmap.upWrite(buggy);
  anonVma.upWrite(buggy);

  for (const r of sys.reports) log(`[${r.kind}]\n${r.message}`);
  sys.assertNoLocksHeld();
  return sys;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
