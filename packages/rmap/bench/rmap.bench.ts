/**
 * try_to_unmap of a page mapped by 1,000 processes — an anonymous page shared by a parent and 1,000
 * forked children, and a file page mapped by 1,000 processes — in ns per visited VMA (target ≤ 200).
 * Between rounds every process faults the page back in (untimed). One full GC runs before the
 * rounds, none between them: the walk allocates nothing, and a forced collection between rounds
 * leaves the anon_vma tree and the VMAs (which the refault does not touch) cold in the CPU caches,
 * so the next walk measures cache misses (the first walk after a full GC costs about 1.5× more
 * per VMA on a 2-core VM, and a walk straight after the GC 2-4×).
 *
 * Then the pre-rmap way of the seed text beside the rmap walk, in the same run: 10,000 processes of
 * 100 VMAs each, one page mapped by a family of 10 of them; the old way scans every VMA of every
 * process and probes its PTEs, the rmap walk goes from the page to its anon_vma tree. Both must find
 * the same mappers; the ratio is printed (target ≥ 1,000×).
 *
 *   pnpm bench [--mappers 1000] [--rounds 25] [--procs 10000] [--vmas 100]
 */
import {
  addToSwap,
  lockPage,
  MAP_PRIVATE,
  MAP_SHARED,
  type Mm,
  MmSystem,
  openFile,
  PAGE_SIZE,
  PROT_READ,
  PROT_WRITE,
  PTE_PRESENT,
  PTRS_PER_PTE,
  readPte,
  sysFork,
  sysMmap,
  unlockPage,
  userAccess,
  type VmArea,
} from '@rmaplab/mm';
import {
  newWalkLog,
  pageCheckAddress,
  type RmapWalkControl,
  rmapWalk,
  SWAP_SUCCESS,
  swapName,
  TTU_BATCH_FLUSH,
  TTU_IGNORE_ACCESS,
  TTU_UNMAP,
  tryToUnmap,
} from '../src/index.js';

const now = (): bigint => process.hrtime.bigint();

function numArg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} needs a positive number`);
  return v;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

const mappers = numArg('mappers', 1000);
const rounds = numArg('rounds', 25);
/** Untimed rounds first, so that the figures are those of optimised code. */
const WARMUP = 20;
const procs = numArg('procs', 10_000);
const vmasPer = numArg('vmas', 100);
const ADDR = 0x10000000000;

/** Time try_to_unmap of the page at ADDR, as kswapd with the page locked; refault it in between. */
function timeUnmap(sys: MmSystem, mms: Mm[], flags: number): { ns: number; visits: number } {
  const times: number[] = [];
  let visits = 0;
  gc();
  for (let r = 0; r < WARMUP + rounds; r++) {
    const pfn = readPte(mms[0], ADDR).pfn;
    const log = r === 0 ? newWalkLog() : undefined;
    const ret = sys.as(sys.kswapd, () => {
      lockPage(sys, pfn);
      const t0 = now();
      const ret = tryToUnmap(sys, pfn, flags, log);
      const ns = Number(now() - t0);
      unlockPage(sys, pfn);
      if (r >= WARMUP) times.push(ns);
      return ret;
    });
    if (ret !== SWAP_SUCCESS) throw new Error(`try_to_unmap returned ${swapName(ret)}`);
    if (log) visits = log.visits.length;
    for (const mm of mms) userAccess(sys, mm, ADDR, false);
  }
  return { ns: median(times), visits };
}

function anonFamily(): { ns: number; visits: number } {
  const sys = new MmSystem();
  const parent = sys.newMm('parent');
  sysMmap(sys, parent, { addr: ADDR, len: PAGE_SIZE, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE });
  userAccess(sys, parent, ADDR, true);
  const mms = [parent];
  for (let i = 0; i < mappers; i++) mms.push(sysFork(sys, parent, `child${i}`));
  const pfn = readPte(parent, ADDR).pfn;
  if (!sys.as(sys.kswapd, () => addToSwap(sys, pfn))) throw new Error('no swap');
  return timeUnmap(sys, mms, TTU_UNMAP | TTU_BATCH_FLUSH | TTU_IGNORE_ACCESS);
}

function fileSharers(): { ns: number; visits: number } {
  const sys = new MmSystem({ faultAround: 1 });
  const file = openFile(sys, 'data', 1);
  const mms: Mm[] = [];
  for (let i = 0; i < mappers; i++) {
    const mm = sys.newMm(`p${i}`);
    sysMmap(sys, mm, { addr: ADDR, len: PAGE_SIZE, prot: PROT_READ, flags: MAP_SHARED, file });
    userAccess(sys, mm, ADDR, false);
    mms.push(mm);
  }
  return timeUnmap(sys, mms, TTU_UNMAP | TTU_BATCH_FLUSH | TTU_IGNORE_ACCESS);
}

/** page_mapped_in_vma() as a counting rmap_one. */
function countMapped(sys: MmSystem, pfn: number, vma: VmArea, address: number, found: { n: number }): number {
  const t = pageCheckAddress(sys, pfn, vma, address, true);
  if (t) {
    found.n++;
    t.ptl.unlock(sys.current);
  }
  return 1;
}

/** The pre-rmap way: every VMA of every process, every PTE of it, compared with the page. */
function scanEveryVma(sys: MmSystem, pfn: number): number {
  let n = 0;
  for (const mm of sys.mms)
    for (let v = mm.mmap; v; v = v.vmNext)
      for (let a = v.vmStart; a < v.vmEnd; a += PAGE_SIZE) {
        const vpn = a / PAGE_SIZE;
        const t = mm.pgd.lookup(Math.floor(vpn / PTRS_PER_PTE));
        if (!t) continue;
        const i = vpn % PTRS_PER_PTE;
        if (t.bits[i] & PTE_PRESENT && t.pfn[i] === pfn) n++;
      }
  return n;
}

function preRmapComparison(): { scan: number; walk: number; found: number; vmas: number } {
  const sys = new MmSystem();
  const family = 10;
  const region = (mm: Mm) => {
    // One-page VMAs a page apart, so that none merges with its neighbour.
    for (let k = 0; k < vmasPer; k++)
      sysMmap(sys, mm, {
        addr: ADDR + 2 * k * PAGE_SIZE,
        len: PAGE_SIZE,
        prot: PROT_READ | PROT_WRITE,
        flags: MAP_PRIVATE,
      });
  };
  const parent = sys.newMm('parent');
  region(parent);
  userAccess(sys, parent, ADDR, true);
  for (let i = 1; i < family; i++) sysFork(sys, parent, `child${i}`);
  for (let i = family; i < procs; i++) region(sys.newMm(`p${i}`));
  const pfn = readPte(parent, ADDR).pfn;
  let vmas = 0;
  for (const mm of sys.mms) vmas += mm.mapCount;
  const scans: number[] = [];
  const walks: number[] = [];
  let found = 0;
  for (let r = 0; r < WARMUP + rounds; r++) {
    gc();
    let t0 = now();
    const scanned = scanEveryVma(sys, pfn);
    const scan = Number(now() - t0);
    const hits = { n: 0 };
    const rwc: RmapWalkControl<{ n: number }> = {
      arg: hits,
      name: 'page_mapped_in_vma',
      rmapOne: countMapped,
      done: null,
      anonLock: null,
      invalidVma: null,
    };
    t0 = now();
    sys.as(sys.kswapd, () => rmapWalk(sys, pfn, rwc));
    const walk = Number(now() - t0);
    if (scanned !== hits.n || hits.n !== family) throw new Error(`scan found ${scanned}, walk ${hits.n}`);
    found = hits.n;
    if (r >= WARMUP) {
      scans.push(scan);
      walks.push(walk);
    }
  }
  return { scan: median(scans), walk: median(walks), found, vmas };
}

const anon = anonFamily();
console.log(
  `try_to_unmap, anon page of a parent + ${mappers} forked children: ${anon.visits} VMAs visited, ` +
    `${(anon.ns / 1e3).toFixed(1)} µs, ${(anon.ns / anon.visits).toFixed(1)} ns per visited VMA (target ≤ 200)`,
);
const file = fileSharers();
console.log(
  `try_to_unmap, file page mapped by ${mappers} processes: ${file.visits} VMAs visited, ` +
    `${(file.ns / 1e3).toFixed(1)} µs, ${(file.ns / file.visits).toFixed(1)} ns per visited VMA (target ≤ 200)`,
);
const cmp = preRmapComparison();
console.log(
  `find the ${cmp.found} mappers of one page among ${procs} processes (${cmp.vmas} VMAs): ` +
    `scan of every VMA ${(cmp.scan / 1e6).toFixed(2)} ms, rmap walk ${(cmp.walk / 1e3).toFixed(2)} µs, ` +
    `ratio ${Math.round(cmp.scan / cmp.walk)}× (target ≥ 1,000×)`,
);
