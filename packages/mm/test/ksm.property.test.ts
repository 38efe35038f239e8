/**
 * Random sequences that mix KSM (madvise, single scan steps, full scans, the fixed point) with every
 * other operation — faults with a few shared contents, fork, exit, munmap, mprotect, mremap, mlock,
 * MADV_DONTNEED — under both kernels, with the invariant checker (KSM's included) after every step:
 * from a `ksm` on until ksmd runs again, rmap_walk_ksm must reach every PTE of a KSM page in a
 * mergeable VMA (checkKsmWalkReach). After a final `ksm`, (4.9, no sharing limit) identical
 * anonymous pages of mergeable VMAs must all share one frame.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkInvariants,
  KernelError,
  ksmDoScan,
  ksmExternalRefs,
  ksmRunToFixedPoint,
  ksmScanOnce,
  MAP_PRIVATE,
  type Mm,
  MmSystem,
  PAGE_MAPPING_ANON,
  PAGE_SIZE,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  PTE_PRESENT,
  PTE_SPECIAL,
  readPte,
  sysExit,
  sysFork,
  sysMadvise,
  sysMlock,
  sysMmap,
  sysMprotect,
  sysMremap,
  sysMunlock,
  sysMunmap,
  userAccess,
  VM_MERGEABLE,
  vmaAt,
} from '../src/index.js';

const BASE = 0x10000000000;
const WINDOW = 12;
const MAX_PROCS = 4;
const VALUES = ['a', 'b', 'c'];

type Cmd =
  | { op: 'spawn' }
  | { op: 'mmap'; p: number; page: number; pages: number }
  | { op: 'write'; p: number; page: number; value: number }
  | { op: 'read'; p: number; page: number }
  | { op: 'fork'; p: number }
  | { op: 'exit'; p: number }
  | { op: 'munmap'; p: number; page: number; pages: number }
  | { op: 'mprotect'; p: number; page: number; pages: number; prot: number }
  | { op: 'mremap'; p: number; page: number; pages: number }
  | {
      op: 'mlock' | 'munlock' | 'mergeable' | 'unmergeable' | 'dontneed';
      p: number;
      page: number;
      pages: number;
    }
  | { op: 'scan'; pages: number }
  | { op: 'fullscan' }
  | { op: 'ksm' };

const proc = fc.nat(MAX_PROCS - 1);
const page = fc.nat(WINDOW - 1);
const pages = fc.integer({ min: 1, max: 4 });
const range = { p: proc, page, pages };
const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 1, arbitrary: fc.constant({ op: 'spawn' as const }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('mmap' as const), ...range }) },
  {
    weight: 8,
    arbitrary: fc.record({ op: fc.constant('write' as const), p: proc, page, value: fc.nat(VALUES.length) }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('read' as const), p: proc, page }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('fork' as const), p: proc }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('exit' as const), p: proc }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('munmap' as const), ...range }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('mprotect' as const),
      ...range,
      prot: fc.constantFrom(PROT_NONE, PROT_READ, PROT_READ | PROT_WRITE),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('mremap' as const), ...range }) },
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constantFrom(
        'mlock' as const,
        'munlock' as const,
        'mergeable' as const,
        'unmergeable' as const,
        'dontneed' as const,
      ),
      ...range,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ op: fc.constant('scan' as const), pages: fc.integer({ min: 1, max: 6 }) }),
  },
  { weight: 2, arbitrary: fc.constant({ op: 'fullscan' as const }) },
  { weight: 2, arbitrary: fc.constant({ op: 'ksm' as const }) },
);

class Run {
  readonly sys: MmSystem;
  readonly procs: Mm[] = [];
  private names = 0;
  constructor(kernel: string) {
    this.sys = new MmSystem({
      kernel,
      ksmMaxSharing: kernel === '6.12' ? 3 : Number.POSITIVE_INFINITY,
      swapPages: 0,
    });
    // Two processes with a mergeable window to start from, so that short sequences merge too.
    for (let i = 0; i < 2; i++) {
      this.apply({ op: 'spawn' });
      this.apply({ op: 'mmap', p: i, page: 0, pages: WINDOW });
      this.apply({ op: 'mergeable', p: i, page: 0, pages: WINDOW });
    }
  }
  addr(p: number): number {
    return BASE + p * PAGE_SIZE;
  }
  apply(c: Cmd): void {
    const sys = this.sys;
    if (c.op === 'spawn') {
      if (this.procs.length < MAX_PROCS) this.procs.push(sys.newMm(`P${this.names++}`));
      return;
    }
    if (c.op === 'scan') return void ksmDoScan(sys, c.pages);
    if (c.op === 'fullscan') return void ksmScanOnce(sys);
    if (c.op === 'ksm') return void ksmRunToFixedPoint(sys);
    if (this.procs.length === 0) return;
    const mm = this.procs[c.p % this.procs.length];
    const len = 'pages' in c ? c.pages * PAGE_SIZE : PAGE_SIZE;
    const at = this.addr('page' in c ? c.page : 0);
    try {
      switch (c.op) {
        case 'mmap':
          sysMmap(sys, mm, { addr: at, len, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE });
          break;
        case 'write': {
          userAccess(sys, mm, at, true);
          const pfn = readPte(mm, at).pfn;
          sys.mem.content[pfn] =
            c.value === VALUES.length ? sys.newContent() : sys.contentFor(VALUES[c.value]);
          break;
        }
        case 'read':
          userAccess(sys, mm, at, false);
          break;
        case 'fork':
          if (this.procs.length < MAX_PROCS) this.procs.push(sysFork(sys, mm, `P${this.names++}`));
          break;
        case 'exit':
          sysExit(sys, mm);
          this.procs.splice(this.procs.indexOf(mm), 1);
          break;
        case 'munmap':
          sysMunmap(sys, mm, at, len);
          break;
        case 'mprotect':
          sysMprotect(sys, mm, at, len, c.prot);
          break;
        case 'mremap':
          sysMremap(sys, mm, at, len, len + PAGE_SIZE);
          break;
        case 'mlock':
          sysMlock(sys, mm, at, len);
          break;
        case 'munlock':
          sysMunlock(sys, mm, at, len);
          break;
        default:
          sysMadvise(sys, mm, at, len, c.op);
      }
    } catch (e) {
      // Refused accesses and ranges are part of the game (the process gets SIGSEGV, the call an errno).
      if (!(e instanceof KernelError)) throw e;
    }
  }
  check(): void {
    checkInvariants(this.sys, ksmExternalRefs(this.sys));
  }
}

/** After the fixed point, identical anonymous pages of mergeable VMAs all share one frame (no sharing limit). */
function expectAllMerged(run: Run): void {
  const sys = run.sys;
  const byContent = new Map<number, Set<number>>();
  for (const mm of sys.mms)
    for (let a = BASE; a < BASE + (WINDOW + 8) * PAGE_SIZE; a += PAGE_SIZE) {
      const vma = vmaAt(mm, a);
      const pte = readPte(mm, a);
      if (!vma || !(vma.vmFlags & VM_MERGEABLE) || !(pte.bits & PTE_PRESENT) || pte.bits & PTE_SPECIAL)
        continue;
      if (!(sys.mem.mappingTag[pte.pfn] & PAGE_MAPPING_ANON)) continue;
      const c = sys.mem.content[pte.pfn];
      if (!byContent.has(c)) byContent.set(c, new Set());
      byContent.get(c)!.add(pte.pfn);
    }
  for (const [content, frames] of byContent) expect(frames.size, `content ${content}`).toBe(1);
}

describe('KSM mixed with every operation (property)', () => {
  for (const kernel of ['4.9', '6.12'] as const)
    it(`keeps every invariant after every step (${kernel})`, () => {
      fc.assert(
        fc.property(fc.array(cmd, { minLength: 10, maxLength: 80 }), (cmds) => {
          const run = new Run(kernel);
          for (const c of cmds) {
            run.apply(c);
            run.check();
          }
          ksmRunToFixedPoint(run.sys);
          checkInvariants(run.sys, ksmExternalRefs(run.sys));
          if (kernel === '4.9') expectAllMerged(run);
        }),
        {
          numRuns: 120,
          // Issue 14 §5: the merging parent forks and exits; its rmap_items must outlive it.
          examples: [
            [
              [
                { op: 'write', p: 0, page: 0, value: 0 },
                { op: 'write', p: 1, page: 0, value: 0 },
                { op: 'ksm' },
                { op: 'fork', p: 0 },
                { op: 'exit', p: 0 },
              ],
            ],
          ],
        },
      );
    });
});
