/**
 * fork and copy-on-write, seen through the rmap structures (kernel-rmap.md §7.1–7.3).
 * Run it: `pnpm tsx examples/fork-cow.ts` from packages/mm.
 */
import {
  checkInvariants,
  MAP_PRIVATE,
  MmSystem,
  PAGE_SIZE,
  PROT_READ,
  PROT_WRITE,
  pageAnonVma,
  readPte,
  sysExit,
  sysFork,
  sysMmap,
  userAccess,
} from '@rmaplab/mm';

const sys = new MmSystem({ kernel: '4.9' });
const parent = sys.newMm('P');
const heap = sysMmap(sys, parent, { len: 4 * PAGE_SIZE, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE });
const addr = heap.vmStart;

/** One line about the page mapped at `addr` in `mm`. */
function show(label: string, mm = parent): void {
  const { pfn } = readPte(mm, addr);
  const av = pageAnonVma(sys.mem, pfn);
  console.log(`${label}: pfn ${pfn}, mapcount ${sys.mem.mapcount[pfn] + 1}, anon_vma ${av?.name ?? '-'}`);
}

userAccess(sys, parent, addr, true); // write fault: a new anon_vma and an exclusive page
show('P wrote');

const child = sysFork(sys, parent, 'C'); // both PTEs now read-only, the page is shared
show('after fork');
const avP = heap.anonVma!;
const avC = child.mmap!.anonVma!;
console.log(
  `C's anon_vma ${avC.name}: parent ${avC.parent.name}, root ${avC.root.name}; ${avP.name} degree ${avP.degree}`,
);

userAccess(sys, child, addr, true); // COW: C gets a copy in its own anon_vma
show('C wrote (copy)', child);
show('P still has');

userAccess(sys, parent, addr, true); // mapcount 1: P reuses its page in place
show('P wrote (reuse)');

checkInvariants(sys); // every rmap structure agrees with the page tables
sysExit(sys, child);
sysExit(sys, parent);
checkInvariants(sys);
console.log(`after both exits: ${sys.anonVmas.size} anon_vmas, ${sys.mem.allocated} pages`);
