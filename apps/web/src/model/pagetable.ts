/**
 * The per-process view of the address space: each process's VMAs as ranges and, under each, the
 * non-empty PTEs of its pages — present (young, dirty, write), swap entry or migration entry — and
 * the frame they point at. Read from the model's 4-level page tables (`readPte`, mm/memory.c's
 * walk as `/proc/PID/pagemap` sees it), captured with the state graph at every step the graph keeps.
 */
import {
  hex,
  PAGE_SIZE,
  PTE_DIRTY,
  PTE_MIGRATION,
  PTE_PRESENT,
  PTE_PROTNONE,
  PTE_SPECIAL,
  PTE_SWAP,
  PTE_WRITE,
  PTE_YOUNG,
  readPte,
} from '@rmaplab/mm';
import type { ProcState } from '@rmaplab/scenario';

/** One non-empty PTE: its page index in the VMA, its bits (PTE_*) and its pfn (swap offset for a swap entry). */
export interface PteView {
  index: number;
  bits: number;
  pfn: number;
}

export interface VmaTable {
  /** `vma:<id>`, as in the state graph. */
  vma: string;
  /** The region name the scenario gave it, when it maps one. */
  region: string;
  start: string;
  end: string;
  pages: number;
  ptes: PteView[];
}

export interface ProcessTables {
  /** `mm:<id>`. */
  mm: string;
  name: string;
  vmas: VmaTable[];
}

/** PTE_* bits by the name the page-table view shows them under. */
const PTE_BITS: readonly (readonly [number, string])[] = [
  [PTE_PRESENT, 'present'],
  [PTE_WRITE, 'write'],
  [PTE_YOUNG, 'young'],
  [PTE_DIRTY, 'dirty'],
  [PTE_SPECIAL, 'special'],
  [PTE_SWAP, 'swap'],
  [PTE_MIGRATION, 'migration'],
  [PTE_PROTNONE, 'protnone'],
];

/** The names of a PTE's bits. */
export function pteFlags(bits: number): string[] {
  return PTE_BITS.filter(([b]) => bits & b).map(([, n]) => n);
}

/** Whether the PTE maps a page (and so has a PTE edge in the graph) rather than holding an entry. */
export function pteMapsPage(bits: number): boolean {
  return (bits & (PTE_PRESENT | PTE_PROTNONE | PTE_MIGRATION)) !== 0 && (bits & PTE_SWAP) === 0;
}

/** The page tables of every live process, VMA by VMA. */
export function pageTablesOf(procs: Iterable<ProcState>): ProcessTables[] {
  const out: ProcessTables[] = [];
  for (const p of procs) {
    if (!p.alive) continue;
    const vmas: VmaTable[] = [];
    for (const vma of p.mm.vmas()) {
      const ptes: PteView[] = [];
      const pages = (vma.vmEnd - vma.vmStart) / PAGE_SIZE;
      for (let i = 0; i < pages; i++) {
        const pte = readPte(p.mm, vma.vmStart + i * PAGE_SIZE);
        if (pte.bits !== 0) ptes.push({ index: i, bits: pte.bits, pfn: pte.pfn });
      }
      let region = '';
      for (const r of p.regions.values())
        if (vma.vmStart < r.addr + r.pages * PAGE_SIZE && r.addr < vma.vmEnd) region = r.name;
      vmas.push({
        vma: `vma:${vma.id}`,
        region,
        start: hex(vma.vmStart),
        end: hex(vma.vmEnd),
        pages,
        ptes,
      });
    }
    out.push({ mm: `mm:${p.mm.id}`, name: p.name, vmas });
  }
  return out;
}
