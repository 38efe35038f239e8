/**
 * One swap device — `struct swap_info_struct` (include/linux/swap.h) with its swap_map, plus the
 * swap cache (the swapper address_space of mm/swap_state.c) that maps a swap entry to the page
 * currently holding its data. Swap offsets start at 1 (offset 0 is the header page, as on disk).
 */
export class SwapInfo {
  /** swap_map: the number of users (PTEs plus the swap cache) of each slot in use. */
  readonly swapMap = new Map<number, number>();
  /** The swap cache: swap offset → pfn of the page in the cache. */
  readonly cache = new Map<number, number>();
  /** Content identity stored in each slot (what a swap-in reads back). */
  readonly data = new Map<number, number>();
  private nextOffset = 1;
  private readonly freeOffsets: number[] = [];

  constructor(
    /** Slots available (Infinity: unlimited; 0: no swap). */
    public size: number,
  ) {}

  /** inuse_pages */
  get inUse(): number {
    return this.swapMap.size;
  }

  /** No slot is free (or there is no swap at all): get_swap_page() would fail. */
  get full(): boolean {
    return this.swapMap.size >= this.size;
  }

  /** get_swap_page() — mm/swapfile.c: a free slot with one user, or 0 when swap is full. */
  getSwapPage(): number {
    if (this.full) return 0;
    const offset = this.freeOffsets.pop() ?? this.nextOffset++;
    this.swapMap.set(offset, 1);
    return offset;
  }

  /** swap_duplicate() — mm/swapfile.c: one more user of the slot. */
  swapDuplicate(offset: number): void {
    const n = this.swapMap.get(offset);
    if (n === undefined) throw new Error(`swap_duplicate of free swap slot ${offset}`);
    this.swapMap.set(offset, n + 1);
  }

  /** swap_free() — mm/swapfile.c: one user less; the slot is freed at 0. */
  swapFree(offset: number): void {
    const n = this.swapMap.get(offset);
    if (n === undefined) throw new Error(`swap_free of free swap slot ${offset}`);
    if (n > 1) this.swapMap.set(offset, n - 1);
    else {
      this.swapMap.delete(offset);
      this.data.delete(offset);
      this.freeOffsets.push(offset);
    }
  }

  /** vm_swap_full() — include/linux/swap.h: less than half of the swap space is free (never without swap). */
  vmSwapFull(): boolean {
    return this.size > 0 && (this.size - this.inUse) * 2 < this.size;
  }

  /** page_swapcount() / swp_swapcount(): users of the slot other than the swap cache. */
  swapCount(offset: number): number {
    const n = this.swapMap.get(offset) ?? 0;
    return this.cache.has(offset) ? n - 1 : n;
  }
}
