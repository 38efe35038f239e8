/**
 * The anonymous folio sizes transparent huge pages come in, each with its order (log2 of its
 * pages): the directories /sys/kernel/mm/transparent_hugepage/hugepages-NkB/ of mm/huge_memory.c
 * (6.8 on, anon-mthp), one per order from 2 (16 KiB) to HPAGE_PMD_ORDER (2 MiB, the PMD-mapped
 * THP, the only size before 6.8). Order 1 is left out as the kernel leaves it out for anonymous
 * memory (THP_ORDERS_ALL_ANON, a large folio needs a third page for its deferred-split list).
 */
export const THP_ORDERS = {
  '16K': 2,
  '32K': 3,
  '64K': 4,
  '128K': 5,
  '256K': 6,
  '512K': 7,
  '1M': 8,
  '2M': 9,
} as const;

/** A size `set thp` names. */
export type ThpSize = keyof typeof THP_ORDERS;

/** HPAGE_PMD_ORDER — include/linux/huge_mm.h: a PMD maps 512 pages (x86-64, 4 KiB pages). */
export const HPAGE_PMD_ORDER = 9;
