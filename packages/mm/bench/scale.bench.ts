/**
 * Memory at scale: 10,000 processes with 1,000 mapped PTEs each (10 million PTEs), built two ways:
 *  - independent: every process maps and writes 1,000 pages of its own (10 million frames too);
 *  - fork storm: one process writes 1,000 pages and is forked 9,999 times (1,000 frames, each
 *    mapped 10,000 times, one anon_vma family of 10,000 VMAs).
 * Reports heapUsed + arrayBuffers (after a full GC) per PTE and in total, against the target of
 * 10 million PTEs in under 2 GiB.
 *
 *   pnpm bench [--procs 10000] [--ptes 1000]
 */
import { MmSystem, sysFork } from '../src/index.js';
import { gc, mapAndWrite, now, nsPer, numArg, table } from './util.js';

const procs = numArg('procs', 10_000);
const ptesPerProc = numArg('ptes', 1_000);
const GiB = 2 ** 30;
const ADDR = 0x10000000000;

/** heapUsed + arrayBuffers once garbage, and the backing stores of dead typed arrays, are gone. */
async function heapBytes(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 50));
  }
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

function independent(sys: MmSystem): void {
  for (let p = 0; p < procs; p++) mapAndWrite(sys, sys.newMm(`p${p}`), ptesPerProc, ADDR);
}

function forkStorm(sys: MmSystem): void {
  const parent = sys.newMm('parent');
  mapAndWrite(sys, parent, ptesPerProc, ADDR);
  for (let p = 1; p < procs; p++) sysFork(sys, parent, `c${p}`);
}

function mappedPtes(sys: MmSystem): number {
  let n = 0;
  for (const mm of sys.mms) n += mm.rss.anon;
  return n;
}

const rows: (string | number)[][] = [
  ['build', 'PTEs', 'frames', 'heap+arrayBuffers', 'bytes/PTE', 'ns/PTE to build', 'target < 2 GiB'],
];
for (const [name, build] of [
  ['fork storm', forkStorm],
  ['independent', independent],
] as const) {
  const before = await heapBytes();
  const t = now();
  let sys: MmSystem | null = new MmSystem();
  build(sys);
  const total = procs * ptesPerProc;
  const ns = nsPer(t, total);
  const bytes = (await heapBytes()) - before;
  const ptes = mappedPtes(sys);
  if (ptes !== total) throw new Error(`${name}: ${ptes} PTEs mapped, expected ${total}`);
  rows.push([
    name,
    ptes.toLocaleString('en-US'),
    sys.mem.allocated.toLocaleString('en-US'),
    `${(bytes / GiB).toFixed(2)} GiB`,
    bytes / ptes,
    ns,
    bytes < 2 * GiB ? 'met' : 'MISSED',
  ]);
  sys = null;
}
console.log(
  `${procs.toLocaleString('en-US')} processes × ${ptesPerProc.toLocaleString('en-US')} mapped PTEs`,
);
console.log(table(rows));
