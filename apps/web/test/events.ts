/**
 * A hand-written trace of `A: unmap heap 0` on a page shared by A and its child B, in the shape the
 * brief gives for @rmaplab/rmap's walk events and @rmaplab/mm's lock events.
 */
import type { TraceEvent } from '@rmaplab/mm';

const ev = (kind: TraceEvent['kind'], fn: string, msg: string, refs?: TraceEvent['refs']): TraceEvent => ({
  kind,
  fn,
  task: '1:A',
  msg,
  ...(refs ? { refs } : {}),
});

export const UNMAP_TRACE: TraceEvent[] = [
  ev('call', 'try_to_unmap', 'try_to_unmap(pfn 5, TTU_UNMAP)', { pfn: 5 }),
  ev('walk', 'rmap_walk_anon', 'walk page 5 of anon_vma 3', { pfn: 5, anonVma: 3 }),
  ev('lock', 'down_read', 'took anon_vma#3->rwsem (read)', { lock: 'anon_vma#3->rwsem' }),
  ev('walk', 'anon_vma_interval_tree_foreach', 'avc 4 → vma 2', { avc: 4, vma: 2, addr: 0x10000000000 }),
  ev('walk', 'page_check_address', 'pte found', { vma: 2, result: 'found' }),
  ev('lock', 'spin_lock', 'took pte#1', { lock: 'pte#1' }),
  ev('call', 'page_remove_rmap', 'mapcount 2 → 1', { pfn: 5 }),
  ev('lock', 'spin_unlock', 'released pte#1', { lock: 'pte#1' }),
  ev('walk', 'try_to_unmap_one', 'SWAP_AGAIN', { vma: 2, result: 'SWAP_AGAIN' }),
  ev('walk', 'anon_vma_interval_tree_foreach', 'avc 9 → vma 8', { avc: 9, vma: 8, addr: 0x10000000000 }),
  ev('walk', 'page_check_address', 'pte found', { vma: 8, result: 'found' }),
  ev('lock', 'spin_lock', 'took pte#2', { lock: 'pte#2' }),
  ev('lock', 'spin_unlock', 'released pte#2', { lock: 'pte#2' }),
  ev('walk', 'try_to_unmap_one', 'SWAP_AGAIN', { vma: 8, result: 'SWAP_AGAIN' }),
  ev('walk', 'done', 'page_mapcount_is_zero', { pfn: 5 }),
  ev('lock', 'up_read', 'released anon_vma#3->rwsem (read)', { lock: 'anon_vma#3->rwsem' }),
  ev('walk', 'rmap_walk_anon', 'SWAP_AGAIN', { result: 'SWAP_AGAIN' }),
  ev('call', 'try_to_unmap', 'SWAP_SUCCESS', { result: 'SWAP_SUCCESS' }),
];
