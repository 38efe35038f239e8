/**
 * rmap completeness by brute force, for tests: the (mm, address) pairs whose present PTE maps each
 * frame, read from every page table of every mm, against the PTEs that a page's rmap walk finds.
 * A walk must find each of them once and nothing else. Slow on purpose (it reads every PTE), so
 * that it shares nothing with the walk it checks.
 */
import { type MmSystem, PAGE_SIZE, PTE_PRESENT, PTE_SPECIAL, PTRS_PER_PTE } from '@rmaplab/mm';
import { walkAt } from './report.js';

/** A place where a PTE maps a page, as `MM_ID:ADDRESS` (decimal). */
export type PteKey = string;

/** Every place whose present PTE maps each frame (the zero page left out), by brute force. */
export function pteMappers(sys: MmSystem): Map<number, Set<PteKey>> {
  const out = new Map<number, Set<PteKey>>();
  for (const mm of sys.mms)
    for (const t of mm.pgd.allTables())
      for (let i = 0; i < PTRS_PER_PTE; i++) {
        const bits = t.bits[i];
        if (!(bits & PTE_PRESENT) || bits & PTE_SPECIAL) continue;
        const key = `${mm.id}:${(t.pmdNo * PTRS_PER_PTE + i) * PAGE_SIZE}`;
        let s = out.get(t.pfn[i]);
        if (!s) out.set(t.pfn[i], (s = new Set()));
        s.add(key);
      }
  return out;
}

/** How a page's walk differs from its PTEs: the places it missed, found without a PTE, or found twice. */
export interface WalkMismatch {
  missed: PteKey[];
  invented: PteKey[];
  twice: PteKey[];
}

/**
 * The walk of `walk` (the scenario's statement: rmap_walk with page_mapped_in_vma, as kswapd) from
 * `pfn`, which `mappers` map, against those places; null when it found exactly them, once each.
 */
export function walkMismatch(sys: MmSystem, _pfn: number, mappers: ReadonlySet<PteKey>): WalkMismatch | null {
  const [first] = mappers;
  const [mmId, address] = first.split(':').map(Number);
  const mm = [...sys.mms].find((m) => m.id === mmId)!;
  const found = walkAt(sys, mm, address)
    .walk.visits.filter((v) => v.pte === 'found')
    .map((v): PteKey => `${v.mm}:${v.address}`);
  const seen = new Set<PteKey>();
  const twice = found.filter((k) => seen.has(k) || !seen.add(k));
  const missed = [...mappers].filter((k) => !seen.has(k));
  const invented = [...seen].filter((k) => !mappers.has(k));
  return missed.length || invented.length || twice.length ? { missed, invented, twice } : null;
}
