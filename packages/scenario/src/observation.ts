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
import { observedKsm, observedVmas } from './observation-v2.js';
import type { ProcState } from './state.js';

/**
 * The page flags of contract v1, in the order they are listed: KPF_ANON, KPF_KSM, KPF_ZERO_PAGE,
 * KPF_MLOCKED, KPF_UNEVICTABLE, KPF_SWAPBACKED of /proc/kpageflags (stable_page_flags() —
 * fs/proc/page.c, Linux 4.9).
 */
export const OBSERVED_FLAGS = ['anon', 'ksm', 'zero', 'mlocked', 'unevictable', 'swapbacked'] as const;
export type ObservedFlag = (typeof OBSERVED_FLAGS)[number];

/**
 * Contract v2: the flags of a page of a large folio — KPF_THP (in 6.18 any large rmappable
 * folio, not only a PMD-sized one), KPF_COMPOUND_HEAD and KPF_COMPOUND_TAIL of /proc/kpageflags
 * (stable_page_flags() — fs/proc/page.c, Linux 6.18). The model does not report them yet.
 */
export type ObservedFolioFlag = 'thp' | 'head' | 'tail';

/**
 * `PROCESS:REGION:PAGE`: a page of a process's region, by the scenario's names and the page's
 * index in the region.
 * @pattern ^[A-Za-z][A-Za-z0-9_.-]*:[A-Za-z][A-Za-z0-9_.-]*:(0|[1-9][0-9]*)$
 */
export type PageName = string;

/**
 * One physical page that a live process maps: what /proc/kpagecount and /proc/kpageflags say of
 * the frame that /proc/PID/pagemap gives for each mapping.
 */
export interface ObservedPage {
  /**
   * page_mapcount(), as /proc/kpagecount reports it (0 for the zero page).
   * @asType integer
   * @minimum 0
   */
  mapcount: number;
  flags: (ObservedFlag | ObservedFolioFlag)[];
  /** Every PTE that maps the page. */
  mappings: PageName[];
  /**
   * Contract v2: shared by the pages of one large folio and by no other page of the observation
   * (struct folio — include/linux/mm_types.h, Linux 5.16+). Its value means nothing; which pages
   * share it does. Order-0 pages have none.
   * @asType integer
   */
  folio?: number;
  /**
   * Extra (ignored when comparing with the kernel): the model's page frame number.
   * @asType integer
   * @minimum 0
   */
  pfn: number;
  /** Extra: the anon_vma of an anonymous page (page->mapping), by its model name. */
  anonVma?: string;
  /**
   * Extra: page->index of a page that is not a KSM page.
   * @asType integer
   * @minimum 0
   */
  index?: number;
}

/**
 * Contract v2: a VMA's flags as /proc/PID/smaps VmFlags shows them (show_smap_vma_flags() —
 * fs/proc/task_mmu.c, Linux 3.8): `lo` VM_LOCKED, `mg` VM_MERGEABLE, `ac` VM_ACCOUNT,
 * `hg` VM_HUGEPAGE, `nh` VM_NOHUGEPAGE (include/linux/mm.h).
 */
export type ObservedVmaFlag = 'locked' | 'mergeable' | 'account' | 'hugepage' | 'nohugepage';

/** Contract v2: one vm_area_struct (include/linux/mm_types.h) that lies in a region. */
export interface ObservedVma {
  /** The scenario's name of the region the VMA lies in. */
  region: string;
  /**
   * The first page index of the region that the VMA covers.
   * @asType integer
   * @minimum 0
   */
  first: number;
  /**
   * The last page index of the region that the VMA covers.
   * @asType integer
   * @minimum 0
   */
  last: number;
  /** vm_flags' VM_READ and VM_WRITE, as the scenario names them. */
  prot: 'none' | 'r' | 'rw';
  flags: ObservedVmaFlag[];
}

/**
 * Contract v2: KSM's counters as /sys/kernel/mm/ksm/ shows them at this `observe`
 * (pages_shared_show() … stable_node_dups_show() — mm/ksm.c; the chain and dup counters since 4.13).
 */
export interface ObservedKsm {
  /**
   * KSM pages in the stable tree (ksm_pages_shared).
   * @asType integer
   * @minimum 0
   */
  pages_shared: number;
  /**
   * Further mappings of them that KSM saved (ksm_pages_sharing).
   * @asType integer
   * @minimum 0
   */
  pages_sharing: number;
  /**
   * Pages KSM scanned and found unique (ksm_pages_unshared).
   * @asType integer
   * @minimum 0
   */
  pages_unshared: number;
  /**
   * Stable nodes that are chains of dups (ksm_stable_node_chains).
   * @asType integer
   * @minimum 0
   */
  stable_node_chains: number;
  /**
   * Dups hanging off those chains (ksm_stable_node_dups).
   * @asType integer
   * @minimum 0
   */
  stable_node_dups: number;
}

/** What one `observe` reports: the contract's JSON, one line of it per `observe`. */
export interface Observation {
  /**
   * The 1-based number of the statement that emitted it.
   * @asType integer
   * @minimum 1
   */
  step: number;
  pages: ObservedPage[];
  /** Every page of a live process's regions that maps nothing now. */
  absent: PageName[];
  /** Extra: the absent pages whose PTE holds a swap entry. */
  swapped?: PageName[];
  /** Contract v2: for every live process, by name, its VMAs that lie in a region, in address order. */
  vmas?: Record<string, ObservedVma[]>;
  /** Contract v2: present once the scenario has run `ksm`. */
  ksm?: ObservedKsm;
}

/** A page of contract v1: no folio flags, no `folio`. */
export interface ObservedPageV1 extends Omit<ObservedPage, 'flags' | 'folio'> {
  flags: ObservedFlag[];
}

/** An observation of contract v1: its pages, and neither `vmas` nor `ksm`. */
export interface ObservationV1 extends Omit<Observation, 'pages' | 'vmas' | 'ksm'> {
  pages: ObservedPageV1[];
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

/**
 * Build the observation of `step` from the page tables of every live process, with (contract v2)
 * their VMAs and, once the scenario has run `ksm`, KSM's counters.
 */
export function observe(sys: MmSystem, procs: Iterable<ProcState>, step: number): Observation {
  const live = [...procs].filter((p) => p.alive); // read twice: for the pages and for the VMAs
  const byPfn = new Map<number, ObservedPage>();
  const absent: string[] = [];
  const swapped: string[] = [];
  const mem = sys.mem;
  for (const p of live) {
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
  obs.vmas = observedVmas(live);
  const ksm = observedKsm(sys);
  if (ksm) obs.ksm = ksm;
  return obs;
}

/** The observation as the contract prints it: one line of JSON. */
export function observationJson(obs: Observation): string {
  return JSON.stringify(obs);
}
