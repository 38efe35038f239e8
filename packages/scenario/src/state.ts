import type { Mm } from '@rmaplab/mm';

/** A region as the scenario names it: page 0 is at `addr`, `pages` is its latest size. */
export interface RegionState {
  name: string;
  /** Address of the region's page 0 (moves with `mremap ... move`). */
  addr: number;
  /** End of the address slot the region may grow into in place (its 2 MiB-aligned room to grow). */
  slotEnd: number;
  /** Latest size from mmap or mremap. */
  pages: number;
  /** The file it maps, if any. */
  file?: string;
  shared: boolean;
}

/** A scenario process: a name, its mm, and the regions it knows (a child inherits its parent's). */
export interface ProcState {
  name: string;
  mm: Mm;
  regions: Map<string, RegionState>;
  alive: boolean;
}
