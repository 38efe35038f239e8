import { describe, expect, it } from 'vitest';
import {
  documentedPath,
  formatLockOrder,
  indexLockOrder,
  LOCK_CLASS,
  RMAP_LOCK_ORDER_4_9,
  RMAP_LOCK_ORDER_6_12,
} from '../src/index.js';

describe('formatLockOrder', () => {
  it('prints the 4.9 order as the documented indented tree (golden)', async () => {
    await expect(formatLockOrder(RMAP_LOCK_ORDER_4_9)).toMatchFileSnapshot(
      './golden/rmap-lock-order-4.9.txt',
    );
  });

  it('prints the 6.12 order (golden)', async () => {
    await expect(formatLockOrder(RMAP_LOCK_ORDER_6_12)).toMatchFileSnapshot(
      './golden/rmap-lock-order-6.12.txt',
    );
  });

  it('indents two spaces per nesting level', () => {
    const lines = formatLockOrder(RMAP_LOCK_ORDER_4_9).split('\n');
    const at = (s: string) => lines.find((l) => l.trimStart().startsWith(s))!;
    const indent = (s: string) => at(s).length - at(s).trimStart().length;
    expect(indent('mapping->i_mmap_rwsem')).toBe(8);
    expect(indent('anon_vma->rwsem')).toBe(10);
    expect(at('mm->page_table_lock or pte_lock')).toBeDefined();
    expect(indent('swap_lock')).toBe(14);
  });
});

describe('documented relation', () => {
  it('4.9: the rmap locks nest as documented', () => {
    const o = RMAP_LOCK_ORDER_4_9;
    expect(documentedPath(o, LOCK_CLASS.iMmapRwsem, LOCK_CLASS.anonVmaRwsem)).toEqual([
      'mapping->i_mmap_rwsem',
      'anon_vma->rwsem',
    ]);
    expect(documentedPath(o, LOCK_CLASS.anonVmaRwsem, LOCK_CLASS.iMmapRwsem)).toBeNull();
    expect(documentedPath(o, LOCK_CLASS.mmapSem, LOCK_CLASS.treeLock)).not.toBeNull();
    expect(documentedPath(o, LOCK_CLASS.anonVmaRwsem, LOCK_CLASS.tasklistLock)).not.toBeNull();
    // same level, siblings: unordered
    expect(documentedPath(o, LOCK_CLASS.pageTableLock, LOCK_CLASS.pteLock)).toBeNull();
    expect(documentedPath(o, LOCK_CLASS.pteLock, LOCK_CLASS.pageTableLock)).toBeNull();
    expect(documentedPath(o, LOCK_CLASS.lruLock, LOCK_CLASS.swapLock)).toBeNull();
    expect(documentedPath(o, LOCK_CLASS.mmlistLock, LOCK_CLASS.iLock)).toBeNull();
    // aliases
    expect(documentedPath(o, LOCK_CLASS.mmapLock, LOCK_CLASS.folioLock)).not.toBeNull();
    expect(indexLockOrder(o).conflicts.size).toBe(0);
  });

  it('6.12: renames, additions, and the hugetlb chain conflict', () => {
    const o = RMAP_LOCK_ORDER_6_12;
    expect(documentedPath(o, LOCK_CLASS.mmapLock, LOCK_CLASS.invalidateLock)).not.toBeNull();
    expect(documentedPath(o, LOCK_CLASS.invalidateLock, LOCK_CLASS.folioLock)).not.toBeNull();
    expect(documentedPath(o, LOCK_CLASS.hugetlbfsIMmapRwsem, LOCK_CLASS.vmaLock)).not.toBeNull();
    expect(documentedPath(o, LOCK_CLASS.vmaLock, LOCK_CLASS.iMmapRwsem)).not.toBeNull();
    expect(documentedPath(o, LOCK_CLASS.iPagesLock, LOCK_CLASS.lruvecLock)).not.toBeNull();
    expect(documentedPath(o, LOCK_CLASS.pteLock, LOCK_CLASS.lruvecLock)).not.toBeNull();
    expect(documentedPath(o, LOCK_CLASS.hugetlbFaultMutex, LOCK_CLASS.iMmapRwsem)).not.toBeNull();
    // old names resolve to the new ones
    expect(documentedPath(o, LOCK_CLASS.mmapSem, LOCK_CLASS.treeLock)).not.toBeNull();
    expect([...indexLockOrder(o).conflicts]).toEqual([`${LOCK_CLASS.folioLock}|${LOCK_CLASS.iMmapRwsem}`]);
  });
});
