import type { IntervalNode, IntervalTree } from '@rmaplab/interval-tree';
import type { RwSemaphore, SpinLock, Task } from '@rmaplab/locks';
import { PAGE_SIZE } from './constants.js';
import type { PageTable } from './pgtable.js';

/**
 * `struct anon_vma` — include/linux/rmap.h. All anonymous pages of a VMA family point here; its
 * interval tree holds one anon_vma_chain for every VMA that may map them.
 */
export class AnonVma {
  /** anon_vma->root: the oldest ancestor; its rwsem is the lock of the whole family. */
  root: AnonVma;
  /** anon_vma->parent: the anon_vma this one was forked from (itself for a root). */
  parent: AnonVma;
  /** anon_vma->refcount */
  refcount = 1;
  /** anon_vma->degree (4.x): child anon_vmas plus VMAs that point here. anon_vma_alloc() sets 1. */
  degree = 1;
  /** anon_vma->num_children (6.x): anon_vmas whose parent is this one, a root counting itself. */
  numChildren = 0;
  /** anon_vma->num_active_vmas (6.x): VMAs whose ->anon_vma is this one. */
  numActiveVmas = 0;
  /** anon_vma->rb_root: the interval tree of anon_vma_chains keyed by the VMA's page offsets. */
  readonly rbRoot: IntervalTree<AnonVmaChain>;
  /** anon_vma->rwsem (only the root's is ever taken: anon_vma_lock_write/read lock root->rwsem). */
  readonly rwsem: RwSemaphore;
  /** Set by anon_vma_free(); a freed anon_vma must never be reached again. */
  freed = false;
  constructor(
    readonly id: number,
    rbRoot: IntervalTree<AnonVmaChain>,
    rwsem: RwSemaphore,
  ) {
    this.root = this;
    this.parent = this;
    this.rbRoot = rbRoot;
    this.rwsem = rwsem;
  }
  get name(): string {
    return `AV${this.id}`;
  }
}

/** `struct anon_vma_chain` — include/linux/rmap.h: links one VMA with one anon_vma. */
export class AnonVmaChain {
  /** The node of this AVC in anon_vma->rb_root (null while it is out of the tree). */
  rb: IntervalNode<AnonVmaChain> | null = null;
  constructor(
    readonly id: number,
    readonly vma: VmArea,
    readonly anonVma: AnonVma,
  ) {}
}

/** `struct file` + `struct inode` reduced to what rmap needs: a named file and its page cache. */
export class File {
  constructor(
    readonly name: string,
    /** file->f_mapping */
    readonly mapping: AddressSpace,
    /** i_size in pages */
    public sizePages: number,
    /** Shared anonymous memory lives in a shmem file of its own (shmem_zero_setup). */
    readonly shmem: boolean,
  ) {}
}

/** `struct address_space` — include/linux/fs.h: a file's page cache and the VMAs that map it. */
export class AddressSpace {
  /** mapping->page_tree (the page cache): file page index → pfn. */
  readonly pageTree = new Map<number, number>();
  /** mapping->i_mmap_writable: number of VM_SHARED mappings. */
  iMmapWritable = 0;
  /**
   * The file's data on disk for pages that reclaim wrote back and dropped from the page cache:
   * page index → content. A later fault reads the page back from here.
   */
  readonly disk = new Map<number, number>();
  constructor(
    readonly id: number,
    readonly name: string,
    /** mapping->i_mmap: every VMA that maps this file, keyed [vm_pgoff, vm_pgoff + pages - 1]. */
    readonly iMmap: IntervalTree<VmArea>,
    /** mapping->i_mmap_rwsem */
    readonly iMmapRwsem: RwSemaphore,
  ) {}
}

/** `struct vm_area_struct` — include/linux/mm_types.h */
export class VmArea {
  /** vma->vm_next / vm_prev: the per-mm list in address order. */
  vmNext: VmArea | null = null;
  vmPrev: VmArea | null = null;
  /** vma->vm_rb: this VMA's node in the mm's tree of VMAs, keyed [vm_start, vm_end - 1]. */
  vmRb: IntervalNode<VmArea> | null = null;
  /** vma->shared.rb: this VMA's node in vm_file->f_mapping->i_mmap. */
  shared: IntervalNode<VmArea> | null = null;
  /** vma->anon_vma: where new anonymous pages of this VMA go (null until the first anonymous fault). */
  anonVma: AnonVma | null = null;
  /** vma->anon_vma_chain, newest first (list_add at the head, as in the kernel). */
  anonVmaChain: AnonVmaChain[] = [];
  constructor(
    readonly id: number,
    /** vma->vm_mm */
    readonly vmMm: Mm,
    /** vma->vm_start */
    public vmStart: number,
    /** vma->vm_end (exclusive) */
    public vmEnd: number,
    /** vma->vm_pgoff, in pages */
    public vmPgoff: number,
    /** vma->vm_flags */
    public vmFlags: number,
    /** vma->vm_file */
    public vmFile: File | null,
  ) {}
  /** vma_pages() — include/linux/mm.h */
  get pages(): number {
    return (this.vmEnd - this.vmStart) / PAGE_SIZE;
  }
  get name(): string {
    return `vma${this.id}`;
  }
}

/** `struct mm_struct` — include/linux/mm_types.h */
export class Mm {
  /** mm->mmap: the first VMA in address order. */
  mmap: VmArea | null = null;
  /** mm->map_count */
  mapCount = 0;
  /** rss counters: MM_FILEPAGES, MM_ANONPAGES, MM_SWAPENTS, MM_SHMEMPAGES */
  rss = { file: 0, anon: 0, swap: 0, shmem: 0 };
  /** Set once exit_mmap() has torn the address space down. */
  dead = false;
  constructor(
    readonly id: number,
    /** The task that owns this mm (its pid and name). */
    readonly owner: Task,
    /** mm->mm_rb: VMAs keyed [vm_start, vm_end - 1], for find_vma() in O(log n). */
    readonly mmRb: IntervalTree<VmArea>,
    /** mm->pgd */
    readonly pgd: PageTable,
    /** mm->mmap_sem */
    readonly mmapSem: RwSemaphore,
    /** mm->page_table_lock */
    readonly pageTableLock: SpinLock,
  ) {}
  /** The VMAs in address order. */
  *vmas(): IterableIterator<VmArea> {
    for (let v = this.mmap; v; v = v.vmNext) yield v;
  }
}
