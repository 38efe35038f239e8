import type { SpinLock } from '@rmaplab/locks';
import { PAGE_SIZE, PTRS_PER_PTE } from './constants.js';

/**
 * One page-table page: PTRS_PER_PTE entries, each a frame number (or swap offset) plus PTE bits.
 * Stored as two typed arrays (5 bytes an entry) so that millions of PTEs stay cheap.
 * `ptl` is the split page-table lock of this table (pte_lockptr() — include/linux/mm.h).
 */
export class PteTable {
  readonly pfn = new Int32Array(PTRS_PER_PTE);
  readonly bits = new Uint8Array(PTRS_PER_PTE);
  /** Number of non-none entries, so empty tables can be freed (free_pgtables). */
  used = 0;
  constructor(
    /** Index of this table: virtual address / PMD_SIZE. */
    readonly pmdNo: number,
    readonly ptl: SpinLock,
  ) {}
}

type Level<T> = (T | undefined)[];

/**
 * A 4-level x86-64 page table: pgd → pud → pmd → pte (arch/x86/include/asm/pgtable_64.h). The upper
 * levels are sparse arrays of 512 slots; the last level is a {@link PteTable}.
 */
export class PageTable {
  readonly pgd: Level<Level<Level<PteTable>>> = [];
  /** Number of PTE tables allocated. */
  tables = 0;
  private lastNo = -1;
  private last: PteTable | undefined;

  /** pte_offset_map() without allocation: the PTE table covering virtual page `vpn`, if any. */
  lookup(pmdNo: number): PteTable | undefined {
    if (pmdNo === this.lastNo) return this.last;
    const pud = this.pgd[pmdNo >>> 18];
    const pmd = pud?.[(pmdNo >>> 9) & 511];
    const t = pmd?.[pmdNo & 511];
    if (t) {
      this.lastNo = pmdNo;
      this.last = t;
    }
    return t;
  }

  /** pte_alloc(): the PTE table covering `pmdNo`, allocated (with `makeLock`) when missing. */
  alloc(pmdNo: number, makeLock: () => SpinLock): PteTable {
    const t = this.lookup(pmdNo);
    if (t) return t;
    const pudIdx = pmdNo >>> 18;
    const pmdIdx = (pmdNo >>> 9) & 511;
    let pud = this.pgd[pudIdx];
    if (!pud) {
      pud = [];
      this.pgd[pudIdx] = pud;
    }
    let pmd = pud[pmdIdx];
    if (!pmd) {
      pmd = [];
      pud[pmdIdx] = pmd;
    }
    const table = new PteTable(pmdNo, makeLock());
    pmd[pmdNo & 511] = table;
    this.tables++;
    this.lastNo = pmdNo;
    this.last = table;
    return table;
  }

  /** free_pte_range(): drop an empty PTE table. */
  free(table: PteTable): void {
    const pmd = this.pgd[table.pmdNo >>> 18]?.[(table.pmdNo >>> 9) & 511];
    if (!pmd || pmd[table.pmdNo & 511] !== table)
      throw new Error('freeing a PTE table that is not installed');
    pmd[table.pmdNo & 511] = undefined;
    this.tables--;
    if (this.lastNo === table.pmdNo) {
      this.lastNo = -1;
      this.last = undefined;
    }
  }

  /**
   * The pmd-level loop that zap_pmd_range(), change_pmd_range(), copy_pmd_range() and the madvise
   * walkers each write out in the kernel: `fn` gets every populated PTE table that covers part of
   * [start, end), with the slice [first, last) of its entries inside the range. `fn` may free the
   * table it is given.
   */
  forEachTable(start: number, end: number, fn: (t: PteTable, first: number, last: number) => void): void {
    for (let addr = start; addr < end; ) {
      const pmdNo = pmdIndex(addr);
      const tableEnd = Math.min(end, (pmdNo + 1) * PTRS_PER_PTE * PAGE_SIZE);
      const t = this.lookup(pmdNo);
      if (t && t.used > 0) {
        const first = pteIndex(addr);
        fn(t, first, first + (tableEnd - addr) / PAGE_SIZE);
      }
      addr = tableEnd;
    }
  }

  /** Every allocated PTE table, in address order. */
  *allTables(): IterableIterator<PteTable> {
    for (let g = 0; g < this.pgd.length; g++) {
      const pud = this.pgd[g];
      if (!pud) continue;
      for (let u = 0; u < pud.length; u++) {
        const pmd = pud[u];
        if (!pmd) continue;
        for (let m = 0; m < pmd.length; m++) {
          const t = pmd[m];
          if (t) yield t;
        }
      }
    }
  }
}

/** Index of the PTE table (the 2 MiB page-table page) that covers `addr`: pmd_index() over all levels. */
export function pmdIndex(addr: number): number {
  return Math.floor(addr / (PAGE_SIZE * PTRS_PER_PTE));
}

/**
 * pte_index() — arch/x86/include/asm/pgtable.h: `addr`'s entry in its PTE table. Addresses exceed
 * 32 bits, so `%` would be a floating-point remainder (a libm call on hot paths); dividing and
 * multiplying by powers of two is exact for every address below 2^53.
 */
export function pteIndex(addr: number): number {
  const vpn = addr / PAGE_SIZE;
  return vpn - Math.floor(vpn / PTRS_PER_PTE) * PTRS_PER_PTE;
}
