/**
 * Observations — the contract's JSON (scenario-language.md, "Observations"): every physical page a
 * live process maps, with the mapcount and flags /proc/kpagecount and /proc/kpageflags report, and
 * every page of every region that maps nothing.
 */
import {
  type MmSystem,
  PAGE_MAPPING_FLAGS,
  PAGE_MAPPING_KSM,
  PAGE_SIZE,
  PG_mlocked,
  PG_swapbacked,
  PG_unevictable,
  PTE_PRESENT,
  PTE_PROTNONE,
  PTE_SWAP,
  readPte,
} from '@rmaplab/mm';
import type { ProcState } from './state.js';

/** The page flags an observation can report, in the order they are listed. */
export const OBSERVED_FLAGS = ['anon', 'ksm', 'zero', 'mlocked', 'unevictable', 'swapbacked'] as const;
export type ObservedFlag = (typeof OBSERVED_FLAGS)[number];

export interface ObservedPage {
  /** page_mapcount(), as /proc/kpagecount reports it (0 for the zero page). */
  mapcount: number;
  flags: ObservedFlag[];
  /** `PROCESS:REGION:PAGE` of every PTE that maps the page. */
  mappings: string[];
  /** Extra fields (ignored when comparing with the kernel). */
  pfn: number;
  anonVma?: string;
  index?: number;
}

export interface Observation {
  step: number;
  pages: ObservedPage[];
  absent: string[];
  /** Extra: `PROCESS:REGION:PAGE` whose PTE holds a swap entry. */
  swapped?: string[];
}

/** The kpageflags-visible flags of a frame. */
export function observedFlags(sys: MmSystem, pfn: number): ObservedFlag[] {
  if (pfn === 0) return ['zero'];
  const mem = sys.mem;
  const f = mem.flags[pfn];
  const tag = mem.mappingTag[pfn] & PAGE_MAPPING_FLAGS;
  const out: ObservedFlag[] = [];
  if (tag & 1) out.push('anon');
  if (tag === PAGE_MAPPING_KSM) out.push('ksm');
  if (f & (1 << PG_mlocked)) out.push('mlocked');
  if (f & (1 << PG_unevictable)) out.push('unevictable');
  if (f & (1 << PG_swapbacked)) out.push('swapbacked');
  return out;
}

/** Build the observation of `step` from the page tables of every live process. */
export function observe(sys: MmSystem, procs: Iterable<ProcState>, step: number): Observation {
  const byPfn = new Map<number, ObservedPage>();
  const absent: string[] = [];
  const swapped: string[] = [];
  const mem = sys.mem;
  for (const p of procs) {
    if (!p.alive) continue;
    for (const r of p.regions.values()) {
      for (let page = 0; page < r.pages; page++) {
        const where = `${p.name}:${r.name}:${page}`;
        const pte = readPte(p.mm, r.addr + page * PAGE_SIZE);
        if (!(pte.bits & (PTE_PRESENT | PTE_PROTNONE))) {
          absent.push(where);
          if (pte.bits & PTE_SWAP) swapped.push(where);
          continue;
        }
        let entry = byPfn.get(pte.pfn);
        if (!entry) {
          const pfn = pte.pfn;
          entry = {
            mapcount: pfn === 0 ? 0 : mem.mapcount[pfn] + 1,
            flags: observedFlags(sys, pfn),
            mappings: [],
            pfn,
          };
          const m = mem.mapping[pfn];
          if (pfn !== 0 && (mem.mappingTag[pfn] & PAGE_MAPPING_FLAGS) === 1 && m && 'root' in m)
            entry.anonVma = m.name;
          if (pfn !== 0 && (mem.mappingTag[pfn] & PAGE_MAPPING_FLAGS) !== PAGE_MAPPING_KSM)
            entry.index = mem.index[pfn];
          byPfn.set(pfn, entry);
        }
        entry.mappings.push(where);
      }
    }
  }
  const obs: Observation = { step, pages: [...byPfn.values()], absent };
  if (swapped.length) obs.swapped = swapped;
  return obs;
}

/** The observation as the contract prints it: one line of JSON. */
export function observationJson(obs: Observation): string {
  return JSON.stringify(obs);
}
