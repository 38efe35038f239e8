/**
 * The fields that contract v2 adds to an observation besides the folio ones (scenario-language.md,
 * "Observations, contract v2"): each live process's VMAs as /proc/PID/smaps shows them, and KSM's
 * counters as /sys/kernel/mm/ksm shows them.
 */
import {
  findVma,
  ksmCounters,
  ksmState,
  type MmSystem,
  PAGE_SIZE,
  VM_ACCOUNT,
  VM_HUGEPAGE,
  VM_LOCKED,
  VM_MERGEABLE,
  VM_NOHUGEPAGE,
  VM_READ,
  VM_WRITE,
  type VmArea,
} from '@rmaplab/mm';
import type { ObservedKsm, ObservedVma, ObservedVmaFlag } from './observation.js';
import type { ProcState } from './state.js';

/** The VmFlags of show_smap_vma_flags() — fs/proc/task_mmu.c — that the contract reports, in its order. */
const VMA_FLAGS: readonly (readonly [number, ObservedVmaFlag])[] = [
  [VM_LOCKED, 'locked'],
  [VM_MERGEABLE, 'mergeable'],
  [VM_ACCOUNT, 'account'],
  [VM_HUGEPAGE, 'hugepage'],
  [VM_NOHUGEPAGE, 'nohugepage'],
];

/** The `rd`/`wr` of a VMA's permissions, as the scenario names a protection. */
function prot(vma: VmArea): ObservedVma['prot'] {
  if (vma.vmFlags & VM_WRITE) return 'rw';
  return vma.vmFlags & VM_READ ? 'r' : 'none';
}

/**
 * Every live process's VMAs that lie in one of its regions, in address order, each cut to the
 * region's pages (`first`..`last`, the region's page indexes): what rmaplab-kcheck reads from
 * /proc/PID/smaps. A process without any such VMA has an empty list.
 */
export function observedVmas(procs: Iterable<ProcState>): Record<string, ObservedVma[]> {
  const out: Record<string, ObservedVma[]> = {};
  for (const p of procs) {
    if (!p.alive) continue;
    const found: { start: number; vma: ObservedVma }[] = [];
    for (const r of p.regions.values()) {
      const end = r.addr + r.pages * PAGE_SIZE;
      for (let vma = findVma(p.mm, r.addr); vma && vma.vmStart < end; vma = vma.vmNext) {
        const from = Math.max(vma.vmStart, r.addr);
        const to = Math.min(vma.vmEnd, end);
        found.push({
          start: from,
          vma: {
            region: r.name,
            first: (from - r.addr) / PAGE_SIZE,
            last: (to - r.addr) / PAGE_SIZE - 1,
            prot: prot(vma),
            flags: VMA_FLAGS.filter(([bit]) => vma.vmFlags & bit).map(([, name]) => name),
          },
        });
      }
    }
    out[p.name] = found.sort((a, b) => a.start - b.start).map((f) => f.vma);
  }
  return out;
}

/**
 * KSM's counters as /sys/kernel/mm/ksm shows them (ksmd does not run between `ksm` statements), or
 * undefined while no `ksm` statement has run.
 */
export function observedKsm(sys: MmSystem): ObservedKsm | undefined {
  if (ksmState(sys).fixedPointRuns === 0) return undefined;
  const c = ksmCounters(sys);
  return {
    pages_shared: c.pagesShared,
    pages_sharing: c.pagesSharing,
    pages_unshared: c.pagesUnshared,
    stable_node_chains: c.stableNodeChains,
    stable_node_dups: c.stableNodeDups,
  };
}
