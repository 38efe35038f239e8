/**
 * The two interval-tree instances of mm/interval_tree.c: `vma_interval_tree` (a file's i_mmap,
 * keyed by the VMA's page offsets) and `anon_vma_interval_tree` (an anon_vma's AVCs, keyed by the
 * page offsets of the AVC's VMA). Keys come from the VMA, so any change of vm_start, vm_end or
 * vm_pgoff must take the node out first and put it back afterwards.
 */
import type { IntervalTree } from '@rmaplab/interval-tree';
import type { AnonVmaChain, VmArea } from './types.js';

/** vma_start_pgoff() — mm/interval_tree.c */
export function vmaStartPgoff(vma: VmArea): number {
  return vma.vmPgoff;
}
/** vma_last_pgoff() — mm/interval_tree.c */
export function vmaLastPgoff(vma: VmArea): number {
  return vma.vmPgoff + vma.pages - 1;
}

/** vma_interval_tree_insert() — mm/interval_tree.c */
export function vmaIntervalTreeInsert(vma: VmArea, root: IntervalTree<VmArea>): void {
  vma.shared = root.insert(vmaStartPgoff(vma), vmaLastPgoff(vma), vma);
}

/** vma_interval_tree_insert_after() — mm/interval_tree.c: `node` becomes the in-order successor of `prev` (fork). */
export function vmaIntervalTreeInsertAfter(node: VmArea, prev: VmArea, root: IntervalTree<VmArea>): void {
  if (!prev.shared) throw new Error(`${prev.name} is not in i_mmap`);
  if (vmaStartPgoff(node) !== vmaStartPgoff(prev)) throw new Error('insert_after needs equal start pgoffs');
  node.shared = root.insertAfter(prev.shared, vmaLastPgoff(node), node);
}

/** vma_interval_tree_remove() — mm/interval_tree.c */
export function vmaIntervalTreeRemove(vma: VmArea, root: IntervalTree<VmArea>): void {
  if (!vma.shared) throw new Error(`${vma.name} is not in i_mmap`);
  root.remove(vma.shared);
  vma.shared = null;
}

/** anon_vma_interval_tree_insert() — mm/interval_tree.c */
export function anonVmaIntervalTreeInsert(avc: AnonVmaChain, root: IntervalTree<AnonVmaChain>): void {
  avc.rb = root.insert(vmaStartPgoff(avc.vma), vmaLastPgoff(avc.vma), avc);
}

/** anon_vma_interval_tree_remove() — mm/interval_tree.c */
export function anonVmaIntervalTreeRemove(avc: AnonVmaChain, root: IntervalTree<AnonVmaChain>): void {
  if (!avc.rb) throw new Error(`AVC ${avc.id} is not in ${avc.anonVma.name}'s tree`);
  root.remove(avc.rb);
  avc.rb = null;
}

/** anon_vma_interval_tree_pre_update_vma() — mm/mmap.c: take every AVC of `vma` out before its key changes. */
export function anonVmaIntervalTreePreUpdateVma(vma: VmArea): void {
  for (const avc of vma.anonVmaChain) anonVmaIntervalTreeRemove(avc, avc.anonVma.rbRoot);
}

/** anon_vma_interval_tree_post_update_vma() — mm/mmap.c: put them back under the new key. */
export function anonVmaIntervalTreePostUpdateVma(vma: VmArea): void {
  for (const avc of vma.anonVmaChain) anonVmaIntervalTreeInsert(avc, avc.anonVma.rbRoot);
}
