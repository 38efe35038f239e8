import { hex, type Mm, PAGE_SIZE } from '@rmaplab/mm';

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

/**
 * `PROCESS:REGION:PAGE` of an address of `p`, or `PROCESS:0xADDRESS` when none of its regions holds
 * it: how reports and the state graph name the place a PTE maps.
 */
export function addressName(p: ProcState, address: number): string {
  for (const r of p.regions.values())
    if (address >= r.addr && address < r.addr + r.pages * PAGE_SIZE)
      return `${p.name}:${r.name}:${(address - r.addr) / PAGE_SIZE}`;
  return `${p.name}:${hex(address)}`;
}
