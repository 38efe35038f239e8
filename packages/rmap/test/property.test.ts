/**
 * Random states from sequences of mm operations (spawn, mmap of every kind, access, fork, exit,
 * munmap, mprotect, mlock) mixed with the rmap clients (try_to_unmap with random flags, migration,
 * reclaim, page_referenced, page_mkclean), under releases on either side of the rules that change
 * them. After every step: the invariant checker, and for every mapped page, the PTEs an rmap walk
 * finds equal the PTEs that map it found by brute force over every process's page table (none
 * missed, none invented). When try_to_unmap says the page is unmapped (SWAP_SUCCESS, true, or
 * page_mapped() false, as the release says it), no PTE maps the page, and it says so exactly then.
 */
import {
  KernelError,
  MAP_PRIVATE,
  MAP_SHARED,
  type Mm,
  openFile,
  PAGE_SIZE,
  PageKsm,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  sysExit,
  sysFork,
  sysMlock,
  sysMmap,
  sysMprotect,
  sysMunmap,
  userAccess,
} from '@rmaplab/mm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  KernelAssertion,
  migrateAt,
  mkcleanAt,
  pteMappers,
  RmapError,
  reclaimAt,
  referencedAt,
  TTU_BATCH_FLUSH,
  TTU_IGNORE_ACCESS,
  TTU_IGNORE_MLOCK,
  TTU_LZFREE,
  TTU_MIGRATION,
  TTU_MUNLOCK,
  TTU_RMAP_LOCKED,
  TTU_SPLIT_FREEZE,
  TTU_SPLIT_HUGE_PMD,
  TTU_SYNC,
  ttuFlagsMissing,
  unmapAt,
  walkMismatch,
} from '../src/index.js';
import { World } from './helpers.js';

const BASE = 0x10000000000;
const WINDOW = 16;
const MAX_PROCS = 4;
const FILES = ['f0', 'f1'];

type Kind = 'anon-private' | 'anon-shared' | 'file-private' | 'file-shared';
type RmapOp = 'unmap' | 'migrate' | 'reclaim' | 'referenced' | 'mkclean';
type Cmd =
  | { op: 'spawn' }
  | { op: 'mmap'; p: number; page: number; pages: number; kind: Kind; file: number; pgoff: number }
  | { op: 'access'; p: number; vma: number; page: number; write: boolean }
  | { op: 'fork' | 'exit' | 'mlock'; p: number }
  | { op: 'munmap' | 'mprotect'; p: number; page: number; pages: number }
  | { op: 'rmap'; what: RmapOp; p: number; vma: number; page: number; flags: number };

const proc = fc.nat(MAX_PROCS - 1);
const page = fc.nat(WINDOW - 1);
const FLAG_CHOICES = [
  TTU_IGNORE_ACCESS,
  TTU_IGNORE_MLOCK,
  TTU_MIGRATION,
  TTU_MUNLOCK,
  TTU_LZFREE,
  TTU_BATCH_FLUSH,
  TTU_RMAP_LOCKED,
  TTU_SPLIT_HUGE_PMD,
  TTU_SPLIT_FREEZE,
  TTU_SYNC,
];

/** try_to_unmap says nothing maps the page any more, in any release's words (codes.ts). */
const SAYS_UNMAPPED = /^(SWAP_SUCCESS|SWAP_LZFREE|true|void; (page|folio)_mapped\(\) = false)$/;
const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 1, arbitrary: fc.constant({ op: 'spawn' as const }) },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('mmap' as const),
      p: proc,
      page,
      pages: fc.integer({ min: 1, max: 6 }),
      kind: fc.constantFrom<Kind>('anon-private', 'anon-shared', 'file-private', 'file-shared'),
      file: fc.nat(FILES.length - 1),
      pgoff: fc.nat(8),
    }),
  },
  {
    weight: 12,
    arbitrary: fc.record({
      op: fc.constant('access' as const),
      p: proc,
      vma: fc.nat(5),
      page,
      write: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constantFrom('fork' as const, 'exit' as const, 'mlock' as const),
      p: proc,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constantFrom('munmap' as const, 'mprotect' as const),
      p: proc,
      page,
      pages: fc.integer({ min: 1, max: 4 }),
    }),
  },
  {
    weight: 8,
    arbitrary: fc.record({
      op: fc.constant('rmap' as const),
      what: fc.constantFrom<RmapOp>('unmap', 'unmap', 'migrate', 'reclaim', 'referenced', 'mkclean'),
      p: proc,
      vma: fc.nat(5),
      page,
      flags: fc.subarray(FLAG_CHOICES).map((fs) => fs.reduce((a, b) => a | b, 0)),
    }),
  },
);

function checkWalks(w: World): void {
  const sys = w.sys;
  for (const [pfn, mappers] of pteMappers(sys)) {
    if (PageKsm(sys.mem, pfn)) continue;
    expect(walkMismatch(sys, pfn, mappers), `walk of pfn ${pfn}`).toBeNull();
  }
  w.check();
}

/** A page of the `vma`-th VMA of `mm` (both taken modulo what exists), so shrunk sequences still hit pages. */
function addressIn(mm: Mm, vma: number, page: number): number {
  const vmas = [...mm.vmas()];
  if (vmas.length === 0) return BASE;
  const v = vmas[vma % vmas.length];
  return v.vmStart + (page % v.pages) * PAGE_SIZE;
}

function run(kernel: string, cmds: Cmd[], swapPages: number): void {
  const w = new World({ kernel, swapPages });
  const sys = w.sys;
  const procs: Mm[] = [sys.newMm('P0'), sys.newMm('P1')];
  const pick = (p: number): Mm | undefined => procs[p % Math.max(1, procs.length)];
  let names = 2;
  for (const c of cmds) {
    try {
      switch (c.op) {
        case 'spawn':
          if (procs.length < MAX_PROCS) procs.push(sys.newMm(`P${names++}`));
          break;
        case 'mmap': {
          const mm = pick(c.p);
          if (!mm) break;
          const file = c.kind.startsWith('file') ? openFile(sys, FILES[c.file], 16) : null;
          sysMmap(sys, mm, {
            addr: BASE + c.page * PAGE_SIZE,
            len: Math.min(c.pages, WINDOW - c.page) * PAGE_SIZE,
            prot: PROT_READ | PROT_WRITE,
            flags: c.kind.endsWith('shared') ? MAP_SHARED : MAP_PRIVATE,
            file,
            pgoff: file ? c.pgoff : 0,
          });
          break;
        }
        case 'access': {
          const mm = pick(c.p);
          if (mm) userAccess(sys, mm, addressIn(mm, c.vma, c.page), c.write);
          break;
        }
        case 'fork': {
          const mm = pick(c.p);
          if (mm && procs.length < MAX_PROCS) procs.push(sysFork(sys, mm, `P${names++}`));
          break;
        }
        case 'exit': {
          const mm = pick(c.p);
          if (mm) {
            sysExit(sys, mm);
            procs.splice(procs.indexOf(mm), 1);
          }
          break;
        }
        case 'mlock': {
          const mm = pick(c.p);
          if (mm?.mmap) sysMlock(sys, mm, mm.mmap.vmStart, mm.mmap.vmEnd - mm.mmap.vmStart);
          break;
        }
        case 'munmap':
        case 'mprotect': {
          const mm = pick(c.p);
          if (!mm) break;
          const addr = BASE + c.page * PAGE_SIZE;
          if (c.op === 'munmap') sysMunmap(sys, mm, addr, c.pages * PAGE_SIZE);
          else sysMprotect(sys, mm, addr, c.pages * PAGE_SIZE, c.pages % 2 ? PROT_READ : PROT_NONE);
          break;
        }
        case 'rmap':
          rmapOp(w, pick(c.p), c);
          break;
      }
    } catch (e) {
      if (!(e instanceof KernelError) && !(e instanceof RmapError)) throw e;
    }
    checkWalks(w);
  }
}

function rmapOp(w: World, mm: Mm | undefined, c: Extract<Cmd, { op: 'rmap' }>): void {
  if (!mm) return;
  const sys = w.sys;
  const addr = addressIn(mm, c.vma, c.page);
  switch (c.what) {
    case 'unmap': {
      const flags = c.flags & ~ttuFlagsMissing(sys.rules);
      let r: ReturnType<typeof unmapAt>;
      try {
        r = unmapAt(sys, mm, addr, flags);
      } catch (e) {
        // An anonymous page that found no swap slot: 4.9's try_to_unmap_one would BUG, so the
        // statement is refused before it changes anything.
        if (e instanceof KernelAssertion) return;
        throw e;
      }
      if (SAYS_UNMAPPED.test(r.result) && !(flags & (TTU_MIGRATION | TTU_SPLIT_FREEZE)))
        expect(pteMappers(sys).get(r.pfn), `pfn ${r.pfn} still mapped after ${r.result}`).toBeUndefined();
      expect(SAYS_UNMAPPED.test(r.result), r.result).toBe(r.mapcountAfter === 0);
      w.check();
      return;
    }
    case 'migrate':
      migrateAt(sys, mm, addr);
      return;
    case 'reclaim':
      reclaimAt(sys, mm, addr);
      return;
    case 'referenced':
      referencedAt(sys, mm, addr);
      return;
    case 'mkclean':
      mkcleanAt(sys, mm, addr);
      return;
  }
}

describe('rmap walks against brute force on random states', () => {
  for (const kernel of ['4.9', '4.12', '5.9', '5.14', '5.18', '6.12', '6.18']) {
    it(`walks find exactly the PTEs that map each page; try_to_unmap success leaves none (${kernel})`, () => {
      fc.assert(
        fc.property(
          fc.array(cmd, { minLength: 5, maxLength: 60, size: 'medium' }),
          fc.constantFrom(0, 4, Infinity),
          (cmds, swap) => run(kernel, cmds, swap),
        ),
        { numRuns: 120 },
      );
    });
  }
});
