import { IntervalTree } from '@rmaplab/interval-tree';

// A file's i_mmap: the VMAs mapping it, keyed by page range [vm_pgoff, vm_pgoff + pages - 1].
const iMmap = new IntervalTree<string>();
const parent = iMmap.insert(0, 15, 'P maps pages 0-15');
iMmap.insert(8, 11, 'Q maps pages 8-11');
iMmap.insert(0, 3, 'R maps pages 0-3'); // same start as P: goes after P
// fork(): the child's VMA goes right after its parent's (vma_interval_tree_insert_after).
const child = iMmap.insertAfter(parent, 15, 'C (child of P) maps pages 0-15');

// Who maps page 2? The rmap walk visits overlapping VMAs in tree order.
for (const vma of iMmap.overlapping(2, 2)) console.log(vma.value);

// The same walk in the kernel's style (vma_interval_tree_foreach), allocating nothing.
let hits = 0;
for (let n = iMmap.iterFirst(9, 9); n !== null; n = iMmap.iterNext(n, 9, 9)) hits++;
console.log(`${hits} VMAs map page 9`);

iMmap.remove(child); // the child unmaps
iMmap.validate(); // red-black rules, subtreeLast, order, size, cached leftmost
console.log([...iMmap].map((n) => `[${n.start}, ${n.last}]`).join(' '));
