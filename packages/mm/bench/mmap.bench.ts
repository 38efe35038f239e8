/**
 * mmap at scale, in ns per mmap call: N one-page private anonymous mappings in one process at
 * ascending fixed addresses, a page apart so that none merges. Each new VMA is the highest one,
 * so find_vma_prev() takes the mm's last VMA: a cost growing with the VMAs already mapped (a walk
 * of the mm->mmap list) shows as a figure growing with N.
 *
 *   pnpm bench [--mmap-count 50000]
 */
import { MAP_PRIVATE, MmSystem, PAGE_SIZE, PROT_READ, PROT_WRITE, sysMmap } from '../src/index.js';
import { gc, now, nsPer, numArg, table } from './util.js';

const maxCount = numArg('mmap-count', 50_000);

function run(count: number): number {
  const sys = new MmSystem();
  const mm = sys.newMm('p');
  gc();
  const t0 = now();
  for (let i = 0; i < count; i++)
    sysMmap(sys, mm, {
      addr: (1 + 2 * i) * PAGE_SIZE,
      len: PAGE_SIZE,
      prot: PROT_READ | PROT_WRITE,
      flags: MAP_PRIVATE,
    });
  const ns = nsPer(t0, count);
  if (mm.mapCount !== count) throw new Error(`${mm.mapCount} VMAs for ${count} mmaps`);
  return ns;
}

run(1000); // warm-up
const rows: (string | number)[][] = [['mmaps', 'ns/mmap']];
for (let count = maxCount / 4; count <= maxCount; count *= 2) rows.push([String(count), run(count)]);
console.log(table(rows));
