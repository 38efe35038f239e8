/**
 * ksmd scanning and merging 100,000 mergeable pages in 100 processes: pages scanned per second for
 * each full scan (1: checksums only, 2: the merging scan, 3: the settled scan) and for the whole run
 * to the fixed point. Page i of every process holds value i mod 500, so the merging scan builds 500
 * KSM pages of 100 sharers each (under 6.12 with max_page_sharing 256, the same).
 *
 *   pnpm bench [--procs 100] [--pages 1000] [--rounds 3]
 */
import {
  ksmCounters,
  ksmRunToFixedPoint,
  ksmScanOnce,
  MmSystem,
  PAGE_SIZE,
  readPte,
  sysMadvise,
} from '../src/index.js';
import { gc, mapAndWrite, median, now, numArg, table } from './util.js';

const procs = numArg('procs', 100);
const pages = numArg('pages', 1000);
const rounds = numArg('rounds', 3);
const VALUES = 500;

function setup(kernel: '4.9' | '6.12'): MmSystem {
  const sys = new MmSystem({ kernel, ksmMaxSharing: kernel === '6.12' ? 256 : Number.POSITIVE_INFINITY });
  for (let p = 0; p < procs; p++) {
    const mm = sys.newMm(`P${p}`);
    const start = mapAndWrite(sys, mm, pages);
    for (let i = 0; i < pages; i++)
      sys.mem.content[readPte(mm, start + i * PAGE_SIZE).pfn] = sys.contentFor(`v${i % VALUES}`);
    sysMadvise(sys, mm, start, pages * PAGE_SIZE, 'mergeable');
  }
  return sys;
}

/** Pages per second of each of the first three full scans, and of a whole run to the fixed point. */
function round(kernel: '4.9' | '6.12'): number[] {
  const sys = setup(kernel);
  const rates: number[] = [];
  for (let s = 0; s < 3; s++) {
    gc();
    const t0 = now();
    const n = ksmScanOnce(sys);
    rates.push(n / (Number(now() - t0) / 1e9));
  }
  const fresh = setup(kernel);
  gc();
  const before = ksmCounters(fresh).pagesScanned;
  const t0 = now();
  ksmRunToFixedPoint(fresh);
  const n = ksmCounters(fresh).pagesScanned - before;
  rates.push(n / (Number(now() - t0) / 1e9));
  const c = ksmCounters(fresh);
  if (c.pagesShared !== VALUES || c.pagesSharing !== procs * pages - VALUES)
    throw new Error(`unexpected merge result: ${JSON.stringify(c)}`);
  return rates;
}

const rows: (string | number)[][] = [
  ['kernel', 'scan 1 (pages/s)', 'scan 2 (merging)', 'scan 3 (settled)', 'to fixed point'],
];
for (const kernel of ['4.9', '6.12'] as const) {
  round(kernel);
  const all = Array.from({ length: rounds }, () => round(kernel));
  rows.push([
    kernel,
    ...[0, 1, 2, 3].map((i) => Math.round(median(all.map((r) => r[i]))).toLocaleString('en')),
  ]);
}
console.log(
  `ksmd over ${(procs * pages).toLocaleString('en')} mergeable pages in ${procs} processes (median of ${rounds}; target ≥ 1,000,000 pages/s)`,
);
console.log(table(rows));
