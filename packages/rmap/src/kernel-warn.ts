/**
 * What the kernel's WARNs leave behind. A WARN prints a report and the kernel goes on, sometimes in
 * a state no other path makes: try_to_unmap_one()'s abort on an anonymous page outside the swap
 * cache (rule ttu-anon-not-swapcache-warn, 4.12 on) has already cleared the PTE, and restores
 * nothing — the page keeps counting that mapping (its mapcount, and the mapping's reference) for
 * the rest of its life. The model logs each warning, as dmesg would, and counts the mappings so
 * leaked, so that the invariant checker counts them too ({@link rmapExternalRefs}) instead of
 * calling the page's counts broken.
 */
import { type ExternalRefs, ksmExternalRefs, type MmSystem, type VmArea } from '@rmaplab/mm';
import { SWAP_FAIL } from './codes.js';

/** One kernel warning: the WARN that fired, and what it left. */
export interface KernelWarning {
  /** The function whose WARN fired (`try_to_unmap_one`). */
  fn: string;
  /** The warning, as the source spells it (`WARN_ON_ONCE(PageSwapBacked(page) != PageSwapCache(page))`). */
  warn: string;
  /** The source file. */
  file: string;
  /** What happened, naming the page and the place. */
  detail: string;
  /** WARN_ON_ONCE prints the first time only: later ones are silent (false). */
  printed: boolean;
}

interface WarnState {
  log: KernelWarning[];
  /** Mappings leaked per page: counted in its mapcount and refcount, held by no PTE. */
  leaked: Map<number, number>;
}

const states = new WeakMap<MmSystem, WarnState>();

function state(sys: MmSystem): WarnState {
  let s = states.get(sys);
  if (!s) states.set(sys, (s = { log: [], leaked: new Map() }));
  return s;
}

/** Every warning since the system booted, oldest first. */
export function kernelWarnings(sys: MmSystem): readonly KernelWarning[] {
  return states.get(sys)?.log ?? [];
}

/** The mappings of `pfn` that a WARN abort left counted with no PTE. */
export function leakedMappings(sys: MmSystem, pfn: number): number {
  return states.get(sys)?.leaked.get(pfn) ?? 0;
}

/**
 * The references the invariant checker must know of, as the scenario runner sees the system:
 * KSM's (ksmExternalRefs) and the leaked mappings.
 */
export function rmapExternalRefs(sys: MmSystem): ExternalRefs {
  const leaked = states.get(sys)?.leaked;
  return { ...ksmExternalRefs(sys), mapcount: (pfn) => leaked?.get(pfn) ?? 0 };
}

/**
 * try_to_unmap_one() — mm/rmap.c (4.12 to 6.18): an anonymous page outside the swap cache, with
 * its PTE at `address` in `vma` already cleared (the caller cleared it and moved the dirty bit):
 * WARN_ON_ONCE(PageSwapBacked != PageSwapCache), and the walk aborts (rmap_one returns false,
 * SWAP_FAIL in the model's codes) without restoring the PTE, freeing a swap slot or dropping the
 * mapcount, reference or RSS. Before 4.12 this is VM_BUG_ON_PAGE, which the statements' checks
 * (preconditions.ts) refuse before anything runs: reaching it there is a model error.
 */
export function ttuAnonNotInSwapCache(sys: MmSystem, pfn: number, vma: VmArea, address: number): number {
  if (!sys.rules['ttu-anon-not-swapcache-warn'])
    throw new Error(
      `try_to_unmap_one: anonymous pfn ${pfn} is not in the swap cache (VM_BUG_ON_PAGE; the statement should have been refused)`,
    );
  const s = state(sys);
  const warn = 'WARN_ON_ONCE(PageSwapBacked(page) != PageSwapCache(page))';
  const w: KernelWarning = {
    fn: 'try_to_unmap_one',
    warn,
    file: 'mm/rmap.c',
    detail: `pfn ${pfn} is anonymous and not in the swap cache: its PTE at 0x${address.toString(16)} in ${vma.vmMm.owner.name} is cleared and not restored, the walk aborts, and the page still counts the mapping (leaked)`,
    printed: !s.log.some((x) => x.fn === 'try_to_unmap_one' && x.warn === warn),
  };
  s.log.push(w);
  s.leaked.set(pfn, (s.leaked.get(pfn) ?? 0) + 1);
  if (sys.tracing)
    sys.trace('WARN_ON_ONCE', `try_to_unmap_one: ${w.detail}`, { pfn, vma: vma.id, addr: address });
  return SWAP_FAIL;
}
