/**
 * Constants of the modelled kernel: page geometry, vm_flags, page flags, mapping tag bits and the PTE
 * bits that the model keeps. Values follow Linux 4.9 (include/linux/mm.h, include/linux/page-flags.h,
 * include/linux/rmap.h) so that a reader can compare them with the kernel's.
 */

/** PAGE_SHIFT / PAGE_SIZE — arch/x86/include/asm/page_types.h */
export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 4096;
/** PTRS_PER_PTE (also PTRS_PER_PMD/PUD/PGD on x86-64 4-level paging) — arch/x86/include/asm/pgtable_64_types.h */
export const PTRS_PER_PTE = 512;
/** PMD_SIZE: the span of one page-table page (2 MiB). */
export const PMD_SIZE = PAGE_SIZE * PTRS_PER_PTE;
/** TASK_SIZE on x86-64 with 4-level paging (47 bits of user address space). */
export const TASK_SIZE = 2 ** 47 - PAGE_SIZE;

/** vm_flags bits — include/linux/mm.h (4.9). */
export const VM_READ = 0x1;
export const VM_WRITE = 0x2;
export const VM_EXEC = 0x4;
export const VM_SHARED = 0x8;
export const VM_MAYREAD = 0x10;
export const VM_MAYWRITE = 0x20;
export const VM_MAYEXEC = 0x40;
export const VM_MAYSHARE = 0x80;
export const VM_GROWSDOWN = 0x100;
export const VM_PFNMAP = 0x400;
export const VM_LOCKED = 0x2000;
export const VM_IO = 0x4000;
export const VM_SEQ_READ = 0x8000;
export const VM_RAND_READ = 0x10000;
export const VM_DONTCOPY = 0x20000;
export const VM_DONTEXPAND = 0x40000;
export const VM_LOCKONFAULT = 0x80000;
export const VM_ACCOUNT = 0x100000;
export const VM_NORESERVE = 0x200000;
export const VM_HUGETLB = 0x400000;
export const VM_MIXEDMAP = 0x10000000;
/** MADV_HUGEPAGE / MADV_NOHUGEPAGE marked the VMA (hugepage_madvise(), 2.6.38). */
export const VM_HUGEPAGE = 0x20000000;
export const VM_NOHUGEPAGE = 0x40000000;
export const VM_MERGEABLE = 0x80000000;
/** VM_STACK_INCOMPLETE_SETUP: exec's temporary stack while it is being moved (VM_RAND_READ|VM_SEQ_READ). */
export const VM_STACK_INCOMPLETE_SETUP = VM_RAND_READ | VM_SEQ_READ;
/** Flags that may differ between two VMAs that are still merged (VM_SOFTDIRTY is not modelled). */
export const VM_MERGE_IGNORED = VM_READ | VM_WRITE | VM_EXEC;

/** Page flag bits in 4.9 enum order — include/linux/page-flags.h (the ones the model uses). */
export const PG_locked = 0;
export const PG_referenced = 2;
export const PG_uptodate = 3;
export const PG_dirty = 4;
export const PG_lru = 5;
export const PG_active = 6;
export const PG_reserved = 10;
export const PG_writeback = 13;
export const PG_swapcache = 15;
/** PG_mappedtodisk — include/linux/page-flags.h: a page-cache page "has blocks on disk" (not modelled). */
export const PG_mappedtodisk = 16;
/**
 * PG_anon_exclusive — include/linux/page-flags.h (5.19): PG_mappedtodisk's bit on an anonymous page,
 * set while the page is known to be mapped by exactly one PTE of one process, which may then write
 * it without copying. /proc/kpageflags shows the bit as 34 (KPF_MAPPEDTODISK; named KPF_OWNER_2 by 6.12).
 */
export const PG_anon_exclusive = PG_mappedtodisk;
export const PG_reclaim = 17;
/**
 * PG_readahead shares PG_reclaim's bit — include/linux/page-flags.h: on a page under readahead it
 * marks where the next window starts; reclaim sets the bit on a dirty file page it leaves for
 * writeback, so fault-around skips that page too until a real fault clears the bit.
 */
export const PG_readahead = PG_reclaim;
export const PG_swapbacked = 18;
export const PG_unevictable = 19;
export const PG_mlocked = 20;

/** Names of the page flag bits, for display. */
export const PAGE_FLAG_NAMES: Readonly<Record<number, string>> = {
  [PG_locked]: 'locked',
  [PG_referenced]: 'referenced',
  [PG_uptodate]: 'uptodate',
  [PG_dirty]: 'dirty',
  [PG_lru]: 'lru',
  [PG_active]: 'active',
  [PG_reserved]: 'reserved',
  [PG_writeback]: 'writeback',
  [PG_swapcache]: 'swapcache',
  [PG_anon_exclusive]: 'anon_exclusive',
  [PG_reclaim]: 'reclaim',
  [PG_swapbacked]: 'swapbacked',
  [PG_unevictable]: 'unevictable',
  [PG_mlocked]: 'mlocked',
};

/** Tag bits in the low bits of page->mapping — include/linux/page-flags.h (4.9). */
export const PAGE_MAPPING_ANON = 0x1;
export const PAGE_MAPPING_MOVABLE = 0x2;
export const PAGE_MAPPING_KSM = PAGE_MAPPING_ANON | PAGE_MAPPING_MOVABLE;
export const PAGE_MAPPING_FLAGS = 0x3;

/**
 * PTE bits kept by the model (arch/x86/include/asm/pgtable_types.h in spirit). A PTE is a pfn (or a
 * swap offset) plus these bits; `0` bits means pte_none.
 */
export const PTE_PRESENT = 0x1;
export const PTE_WRITE = 0x2;
export const PTE_YOUNG = 0x4;
export const PTE_DIRTY = 0x8;
/** pte_special: maps the shared zero page, no struct page refcount or rmap (vm_normal_page() is NULL). */
export const PTE_SPECIAL = 0x10;
/** A non-present swap entry: the pfn field holds the swap offset. */
export const PTE_SWAP = 0x20;
/** A non-present migration entry: the pfn field holds the old page; PTE_WRITE marks a write entry. */
export const PTE_MIGRATION = 0x40;
/** PROT_NONE on a present PTE (pte_protnone): still mapped, but every access faults. */
export const PTE_PROTNONE = 0x80;
/**
 * pte_swp_exclusive() — include/linux/pgtable.h (5.19; x86's _PAGE_SWP_EXCLUSIVE): on a swap entry,
 * the page was PageAnonExclusive when it was unmapped; on a migration entry without PTE_WRITE, the
 * entry is readable-exclusive (make_readable_exclusive_migration_entry). It reuses PTE_SPECIAL's
 * bit, which only a present PTE has.
 */
export const PTE_SWP_EXCLUSIVE = PTE_SPECIAL;

/**
 * RMAP_EXCLUSIVE — include/linux/rmap.h (4.9): the page is known to be exclusive to this VMA, so a
 * first mapping takes vma->anon_vma rather than its root; from 5.19 it also sets PG_anon_exclusive.
 */
export const RMAP_EXCLUSIVE = 0x1;

/** PROT_* of mmap/mprotect — include/uapi/asm-generic/mman-common.h */
export const PROT_NONE = 0x0;
export const PROT_READ = 0x1;
export const PROT_WRITE = 0x2;
export const PROT_EXEC = 0x4;

/** MAP_* of mmap — include/uapi/asm-generic/mman-common.h */
export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
