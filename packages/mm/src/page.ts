import {
  PAGE_FLAG_NAMES,
  PAGE_MAPPING_ANON,
  PAGE_MAPPING_FLAGS,
  PAGE_MAPPING_KSM,
  PG_locked,
  PG_reserved,
  PG_swapcache,
} from './constants.js';
import type { KsmStableNode } from './ksm.js';
import type { AddressSpace, AnonVma } from './types.js';

/** What page->mapping points to once its tag bits are stripped (page_rmapping()). */
export type PageRmapping = AnonVma | AddressSpace | KsmStableNode;

/** Content identity of a page whose bytes are all zero. */
export const CONTENT_ZERO = 0;

/**
 * Physical memory: every page frame's `struct page` — include/linux/mm_types.h — stored as
 * struct-of-arrays indexed by page frame number, so that millions of frames cost a few dozen bytes
 * each. `Page` (below) is the kernel-shaped view of one frame.
 *
 * Frame 0 is the shared zero page (ZERO_PAGE(0)): reserved, never freed, never rmapped.
 */
export class PhysMem {
  /** page->flags */
  flags: Uint32Array;
  /** page->_mapcount (starts at -1; page_mapcount() is this + 1) */
  mapcount: Int32Array;
  /** page->_refcount */
  refcount: Int32Array;
  /** page->index */
  index: Float64Array;
  /** page->private (the swap entry while PG_swapcache is set) */
  private: Float64Array;
  /** Content identity of the page's bytes (same value = identical bytes); not a kernel field. */
  content: Int32Array;
  /** The tag bits of page->mapping (PAGE_MAPPING_ANON, PAGE_MAPPING_KSM, or 0). */
  mappingTag: Uint8Array;
  /** The untagged part of page->mapping. */
  mapping: (PageRmapping | null)[];
  private freeList: Int32Array;
  private freeCount = 0;
  private top = 1;
  /** Frames currently allocated (the zero page excluded). */
  allocated = 0;

  constructor(initialFrames = 1024) {
    const n = Math.max(2, initialFrames);
    this.flags = new Uint32Array(n);
    this.mapcount = new Int32Array(n).fill(-1);
    this.refcount = new Int32Array(n);
    this.index = new Float64Array(n);
    this.private = new Float64Array(n);
    this.content = new Int32Array(n);
    this.mappingTag = new Uint8Array(n);
    this.mapping = new Array(n).fill(null);
    this.freeList = new Int32Array(n);
    this.flags[0] = 1 << PG_reserved;
    this.refcount[0] = 1;
  }

  /** Number of frame slots in use (allocated or free), the zero page included. */
  get frames(): number {
    return this.top;
  }

  private grow(): void {
    const n = this.flags.length * 2;
    const growInt32 = (a: Int32Array, fill = 0) => {
      const b = new Int32Array(n);
      b.set(a);
      if (fill !== 0) b.fill(fill, a.length);
      return b;
    };
    const f = new Uint32Array(n);
    f.set(this.flags);
    this.flags = f;
    this.mapcount = growInt32(this.mapcount, -1);
    this.refcount = growInt32(this.refcount);
    this.content = growInt32(this.content);
    this.freeList = growInt32(this.freeList);
    const idx = new Float64Array(n);
    idx.set(this.index);
    this.index = idx;
    const pv = new Float64Array(n);
    pv.set(this.private);
    this.private = pv;
    const tag = new Uint8Array(n);
    tag.set(this.mappingTag);
    this.mappingTag = tag;
    for (let i = this.mapping.length; i < n; i++) this.mapping.push(null);
  }

  /** alloc_page(): a fresh frame with _refcount 1, _mapcount -1, no mapping. */
  allocPage(content: number): number {
    let pfn: number;
    if (this.freeCount > 0) pfn = this.freeList[--this.freeCount];
    else {
      if (this.top === this.flags.length) this.grow();
      pfn = this.top++;
    }
    this.flags[pfn] = 0;
    this.mapcount[pfn] = -1;
    this.refcount[pfn] = 1;
    this.index[pfn] = 0;
    this.private[pfn] = 0;
    this.content[pfn] = content;
    this.mappingTag[pfn] = 0;
    this.mapping[pfn] = null;
    this.allocated++;
    return pfn;
  }

  /** Return a frame whose _refcount reached 0 to the allocator (free_hot_cold_page). */
  freePage(pfn: number): void {
    if (pfn === 0) throw new Error('the zero page is never freed');
    if (this.refcount[pfn] !== 0 || this.mapcount[pfn] !== -1)
      throw new Error(
        `freeing pfn ${pfn} with refcount ${this.refcount[pfn]}, mapcount ${this.mapcount[pfn] + 1}`,
      );
    this.flags[pfn] = 0;
    this.mapping[pfn] = null;
    this.mappingTag[pfn] = 0;
    this.refcount[pfn] = -1; // marks a free frame
    this.freeList[this.freeCount++] = pfn;
    this.allocated--;
  }

  /** Whether a frame is allocated (not on the free list). */
  isAllocated(pfn: number): boolean {
    return pfn > 0 && pfn < this.top && this.refcount[pfn] >= 0;
  }

  /** The kernel-shaped view of one frame. */
  page(pfn: number): Page {
    return new Page(this, pfn);
  }
}

/** `struct page` — include/linux/mm_types.h: a view of one frame of {@link PhysMem}. */
export class Page {
  constructor(
    readonly mem: PhysMem,
    readonly pfn: number,
  ) {}
  /** page->flags */
  get flags(): number {
    return this.mem.flags[this.pfn];
  }
  /** page_mapcount() — include/linux/mm.h: _mapcount + 1. */
  get mapcount(): number {
    return this.mem.mapcount[this.pfn] + 1;
  }
  /** page->_mapcount (−1 when unmapped). */
  get _mapcount(): number {
    return this.mem.mapcount[this.pfn];
  }
  /** page_ref_count() — include/linux/page_ref.h */
  get refcount(): number {
    return this.mem.refcount[this.pfn];
  }
  /** page->index */
  get index(): number {
    return this.mem.index[this.pfn];
  }
  /** page->private */
  get private(): number {
    return this.mem.private[this.pfn];
  }
  /** page_rmapping() — mm/util.c: page->mapping without its tag bits. */
  get mapping(): PageRmapping | null {
    return this.mem.mapping[this.pfn];
  }
  /** The tag bits of page->mapping. */
  get mappingTag(): number {
    return this.mem.mappingTag[this.pfn];
  }
  get content(): number {
    return this.mem.content[this.pfn];
  }
  /** Names of the set page flags, for display. */
  flagNames(): string[] {
    const f = this.flags;
    const out: string[] = [];
    for (const [bit, name] of Object.entries(PAGE_FLAG_NAMES)) if (f & (1 << Number(bit))) out.push(name);
    return out;
  }
}

/** PageAnon() — include/linux/page-flags.h: the ANON tag bit is set (true for KSM pages too). */
export function PageAnon(mem: PhysMem, pfn: number): boolean {
  return (mem.mappingTag[pfn] & PAGE_MAPPING_ANON) !== 0;
}
/** PageKsm() — include/linux/page-flags.h: both tag bits are set. */
export function PageKsm(mem: PhysMem, pfn: number): boolean {
  return (mem.mappingTag[pfn] & PAGE_MAPPING_FLAGS) === PAGE_MAPPING_KSM;
}
/** page_anon_vma() — mm/util.c: the anon_vma of an anonymous, non-KSM page. */
export function pageAnonVma(mem: PhysMem, pfn: number): AnonVma | null {
  if ((mem.mappingTag[pfn] & PAGE_MAPPING_FLAGS) !== PAGE_MAPPING_ANON) return null;
  return mem.mapping[pfn] as AnonVma;
}
/** page_mapped() — mm/util.c */
export function pageMapped(mem: PhysMem, pfn: number): boolean {
  return mem.mapcount[pfn] >= 0;
}
/** PageSwapCache() — include/linux/page-flags.h */
export function PageSwapCache(mem: PhysMem, pfn: number): boolean {
  return (mem.flags[pfn] & (1 << PG_swapcache)) !== 0;
}
/** PageLocked() — include/linux/page-flags.h */
export function PageLocked(mem: PhysMem, pfn: number): boolean {
  return (mem.flags[pfn] & (1 << PG_locked)) !== 0;
}
