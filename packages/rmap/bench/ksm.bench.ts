/**
 * try_to_unmap of a KSM page with 256 sharers (6.12, max_page_sharing 256): ns per visited VMA.
 * Each round merges 256 one-page processes into one KSM page, puts it in the swap cache and times
 * the locked try_to_unmap that turns its 256 PTEs into swap entries.
 *
 *   npx tsx --expose-gc bench/ksm.bench.ts [--rounds 20]
 */
import {
  addToSwap,
  ksmRunToFixedPoint,
  lockPage,
  MAP_PRIVATE,
  MmSystem,
  PAGE_SIZE,
  PROT_READ,
  PROT_WRITE,
  readPte,
  sysMadvise,
  sysMmap,
  unlockPage,
  userAccess,
} from '@rmaplab/mm';
import { newWalkLog, tryToUnmap } from '../src/index.js';

const i = process.argv.indexOf('--rounds');
const rounds = i >= 0 ? Number(process.argv[i + 1]) : 20;
const SHARERS = 256;
const ADDR = 0x10000000000;

function round(): number {
  const sys = new MmSystem({ kernel: '6.12', ksmMaxSharing: SHARERS });
  for (let p = 0; p < SHARERS; p++) {
    const mm = sys.newMm(`P${p}`);
    sysMmap(sys, mm, { addr: ADDR, len: PAGE_SIZE, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE });
    userAccess(sys, mm, ADDR, true);
    sys.mem.content[readPte(mm, ADDR).pfn] = sys.contentFor('same');
    sysMadvise(sys, mm, ADDR, PAGE_SIZE, 'mergeable');
  }
  ksmRunToFixedPoint(sys);
  const kpfn = readPte([...sys.mms][0], ADDR).pfn;
  if (sys.mem.mapcount[kpfn] + 1 !== SHARERS) throw new Error('the KSM page does not have 256 sharers');
  const log = newWalkLog();
  return sys.as(sys.kswapd, () => {
    addToSwap(sys, kpfn);
    lockPage(sys, kpfn);
    const t0 = process.hrtime.bigint();
    tryToUnmap(sys, kpfn, 0, log);
    const ns = Number(process.hrtime.bigint() - t0);
    unlockPage(sys, kpfn);
    if (log.visits.length !== SHARERS || sys.mem.mapcount[kpfn] !== -1)
      throw new Error('not every PTE was unmapped');
    return ns / log.visits.length;
  });
}

round();
const xs = Array.from({ length: rounds }, round).sort((a, b) => a - b);
console.log(
  `try_to_unmap of a KSM page with ${SHARERS} sharers: ${xs[xs.length >> 1].toFixed(0)} ns per visited VMA (median of ${rounds})`,
);
