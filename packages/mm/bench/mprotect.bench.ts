/**
 * mprotect fragmentation and the reverse merge, in ns per VMA operation (one mprotect call):
 * a private anonymous region of every page written, then PROT_READ on every other page (each
 * call splits a VMA in three, re-keying its AVCs in the anon_vma trees), then PROT_READ|PROT_WRITE
 * on the same pages (each call merges three VMAs into one). Run in the parent (1 AVC per VMA) and
 * in a forked child (2 AVCs per VMA), at several sizes, so that a cost growing faster than
 * O(log n) in the VMAs shows as a growing figure. Last, vma_address() for every page through
 * find_vma (no rmap walk).
 *
 * Each size runs --mprotect-rounds times (default 3); the table shows the medians.
 *
 *   pnpm bench [--mprotect-pages 65536] [--mprotect-rounds 3]
 */
import {
  findVma,
  type Mm,
  MmSystem,
  PAGE_SIZE,
  PROT_READ,
  PROT_WRITE,
  readPte,
  sysFork,
  sysMprotect,
  vmaAddress,
} from '../src/index.js';
import { gc, mapAndWrite, median, now, nsPer, numArg, table } from './util.js';

const maxPages = numArg('mprotect-pages', 65_536);
const rounds = numArg('mprotect-rounds', 3);

interface Figures {
  vmas: number;
  split: number;
  merge: number;
  vmaAddress: number;
}

function fragmentAndMerge(sys: MmSystem, mm: Mm, start: number, pages: number): Figures {
  const calls = pages / 2;
  gc();
  let t0 = now();
  for (let i = 1; i < pages; i += 2) sysMprotect(sys, mm, start + i * PAGE_SIZE, PAGE_SIZE, PROT_READ);
  const split = nsPer(t0, calls);
  const vmas = mm.mapCount;
  gc();
  t0 = now();
  let sum = 0;
  for (let i = 0; i < pages; i++) {
    const addr = start + i * PAGE_SIZE;
    const pfn = readPte(mm, addr).pfn;
    sum += vmaAddress(findVma(mm, addr)!, sys.mem.index[pfn]);
  }
  const addrNs = nsPer(t0, pages);
  if (sum === 0) throw new Error('no page found');
  gc();
  t0 = now();
  for (let i = 1; i < pages; i += 2)
    sysMprotect(sys, mm, start + i * PAGE_SIZE, PAGE_SIZE, PROT_READ | PROT_WRITE);
  const merge = nsPer(t0, calls);
  if (mm.mapCount !== 1) throw new Error(`reverse merge left ${mm.mapCount} VMAs`);
  return { vmas, split, merge, vmaAddress: addrNs };
}

function run(pages: number): [Figures, Figures] {
  const sys = new MmSystem();
  const parent = sys.newMm('parent');
  const start = mapAndWrite(sys, parent, pages);
  const inParent = fragmentAndMerge(sys, parent, start, pages);
  const child = sysFork(sys, parent, 'child');
  const inChild = fragmentAndMerge(sys, child, start, pages);
  return [inParent, inChild];
}

run(1024); // warm-up
const rows: (string | number)[][] = [
  ['pages', 'AVCs/VMA', 'VMAs', 'split ns/call', 'merge ns/call', 'vma_address ns/page'],
];
for (let pages = maxPages / 16; pages <= maxPages; pages *= 4) {
  const runs = Array.from({ length: rounds }, () => run(pages));
  for (const k of [0, 1]) {
    const col = (f: (x: Figures) => number) => median(runs.map((r) => f(r[k])));
    rows.push([
      String(pages),
      String(k + 1),
      String(runs[0][k].vmas),
      col((x) => x.split),
      col((x) => x.merge),
      col((x) => x.vmaAddress),
    ]);
  }
}
console.log(table(rows));
