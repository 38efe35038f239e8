/**
 * Random sequences that mix every VMA change of part 2 (mprotect, mremap resize and move, mlock,
 * munlock, madvise) with mmap, access, fork, exit and munmap over several processes, under both
 * kernels and a small swap device: the invariant checker and the rss counters after every step, a
 * refused call changes nothing, every PG_mlocked page is mapped by a VM_LOCKED VMA, and nothing is
 * left once every process has exited.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkInvariants,
  KernelError,
  MAP_PRIVATE,
  MAP_SHARED,
  type MadviseAdvice,
  type Mm,
  MmSystem,
  openFile,
  PAGE_SIZE,
  PG_mlocked,
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
  VM_LOCKED,
} from '../src/index.js';
import { expectOnlyPageCacheLeft, rssFromPtes } from './helpers.js';
import { installTestReclaim } from './ops.js';

const BASE = 0x10000000000;
const WINDOW = 24;
const FILE_PAGES = 20;
const FILES = ['f0', 'f1'];
const MAX_PROCS = 4;
const PROTS = [PROT_NONE, PROT_READ, PROT_READ | PROT_WRITE];
const ADVICES: MadviseAdvice[] = ['dontneed', 'cold', 'pageout', 'hugepage', 'nohugepage'];

type Kind = 'anon-private' | 'anon-shared' | 'file-private' | 'file-shared';
type Cmd =
  | { op: 'spawn' }
  | { op: 'mmap'; p: number; page: number; pages: number; kind: Kind; file: number }
  | { op: 'access'; p: number; vma: number; page: number; write: boolean }
  | { op: 'fork' | 'exit'; p: number }
  | { op: 'munmap' | 'mlock' | 'munlock'; p: number; page: number; pages: number }
  | { op: 'mprotect'; p: number; page: number; pages: number; prot: number }
  | { op: 'madvise'; p: number; page: number; pages: number; advice: number }
  | { op: 'mremap'; p: number; vma: number; pages: number; to: number | null };

const proc = fc.nat(MAX_PROCS - 1);
const page = fc.nat(WINDOW - 1);
const pages = fc.integer({ min: 1, max: 8 });
const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 1, arbitrary: fc.constant({ op: 'spawn' as const }) },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('mmap' as const),
      p: proc,
      page,
      pages,
      kind: fc.constantFrom<Kind>(
        'anon-private',
        'anon-private',
        'anon-shared',
        'file-private',
        'file-shared',
      ),
      file: fc.nat(FILES.length - 1),
    }),
  },
  {
    weight: 12,
    arbitrary: fc.record({
      op: fc.constant('access' as const),
      p: proc,
      vma: fc.nat(7),
      page,
      write: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constantFrom('fork' as const, 'exit' as const), p: proc }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constantFrom('munmap' as const, 'mlock' as const, 'munlock' as const),
      p: proc,
      page,
      pages,
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({ op: fc.constant('mprotect' as const), p: proc, page, pages, prot: fc.nat(2) }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('madvise' as const),
      p: proc,
      page,
      pages,
      advice: fc.nat(ADVICES.length - 1),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('mremap' as const),
      p: proc,
      vma: fc.nat(7),
      pages,
      to: fc.option(page, { nil: null }),
    }),
  },
);

/** The VMA layout of every process, to compare before and after a refused call. */
function layout(sys: MmSystem): string {
  return [...sys.mms]
    .map((mm) => [...mm.vmas()].map((v) => `${v.vmStart}-${v.vmEnd}:${v.vmFlags}`))
    .join('|');
}

/** How many present PTEs in VM_LOCKED VMAs map each page, over every process (brute force). */
function lockedMappers(sys: MmSystem): Map<number, number> {
  const n = new Map<number, number>();
  for (const mm of sys.mms)
    for (const vma of mm.vmas()) {
      if (!(vma.vmFlags & VM_LOCKED)) continue;
      for (let a = vma.vmStart; a < vma.vmEnd; a += PAGE_SIZE) {
        const pte = readPte(mm, a);
        if (pte.bits & PTE_PRESENT && !(pte.bits & PTE_SPECIAL)) n.set(pte.pfn, (n.get(pte.pfn) ?? 0) + 1);
      }
    }
  return n;
}

class Run {
  readonly sys: MmSystem;
  readonly procs: Mm[] = [];
  private names = 0;
  constructor(kernel: string) {
    this.sys = new MmSystem({ kernel, swapPages: 6 });
    for (const f of FILES) openFile(this.sys, f, FILE_PAGES);
    installTestReclaim(this.sys);
    this.sys.tryToMunlock = (pfn) => {
      if (lockedMappers(this.sys).has(pfn)) this.sys.mem.flags[pfn] |= 1 << PG_mlocked;
    };
  }
  private pick(i: number): Mm | undefined {
    return this.procs.length ? this.procs[i % this.procs.length] : undefined;
  }
  exec(c: Cmd): void {
    const sys = this.sys;
    if (c.op === 'spawn') {
      if (this.procs.length < MAX_PROCS) this.procs.push(sys.newMm(`P${this.names++}`));
      return;
    }
    const mm = this.pick(c.p);
    if (!mm) return;
    const before = layout(sys);
    try {
      this.syscall(mm, c);
    } catch (e) {
      if (!(e instanceof KernelError)) throw e;
      // A fault the process would die of, or a refused call that changed nothing.
      if (e.errno !== 'SIGSEGV' && e.errno !== 'SIGBUS') expect(layout(sys)).toBe(before);
    }
  }
  private syscall(mm: Mm, c: Exclude<Cmd, { op: 'spawn' }>): void {
    const sys = this.sys;
    const vmas = [...mm.vmas()];
    switch (c.op) {
      case 'mmap': {
        const file = c.kind.startsWith('file') ? sys.files.get(FILES[c.file])! : null;
        sysMmap(sys, mm, {
          addr: BASE + c.page * PAGE_SIZE,
          len: c.pages * PAGE_SIZE,
          prot: PROT_READ | PROT_WRITE,
          flags: c.kind.endsWith('shared') ? MAP_SHARED : MAP_PRIVATE,
          file,
          pgoff: file ? c.page % 8 : undefined,
        });
        return;
      }
      case 'access': {
        if (!vmas.length) return;
        const vma = vmas[c.vma % vmas.length];
        userAccess(sys, mm, vma.vmStart + (c.page % vma.pages) * PAGE_SIZE, c.write);
        return;
      }
      case 'fork':
        if (this.procs.length < MAX_PROCS) this.procs.push(sysFork(sys, mm, `P${this.names++}`));
        return;
      case 'exit':
        sysExit(sys, mm);
        this.procs.splice(this.procs.indexOf(mm), 1);
        return;
      case 'munmap':
        sysMunmap(sys, mm, BASE + c.page * PAGE_SIZE, c.pages * PAGE_SIZE);
        return;
      case 'mlock':
        sysMlock(sys, mm, BASE + c.page * PAGE_SIZE, c.pages * PAGE_SIZE);
        return;
      case 'munlock':
        sysMunlock(sys, mm, BASE + c.page * PAGE_SIZE, c.pages * PAGE_SIZE);
        return;
      case 'mprotect':
        sysMprotect(sys, mm, BASE + c.page * PAGE_SIZE, c.pages * PAGE_SIZE, PROTS[c.prot]);
        return;
      case 'madvise':
        sysMadvise(sys, mm, BASE + c.page * PAGE_SIZE, c.pages * PAGE_SIZE, ADVICES[c.advice]);
        return;
      case 'mremap': {
        if (!vmas.length) return;
        const vma = vmas[c.vma % vmas.length];
        const to = c.to === null ? undefined : BASE + c.to * PAGE_SIZE;
        sysMremap(sys, mm, vma.vmStart, vma.vmEnd - vma.vmStart, c.pages * PAGE_SIZE, to);
        return;
      }
    }
  }
  check(): void {
    const sys = this.sys;
    checkInvariants(sys);
    for (const mm of sys.mms) expect(mm.rss).toEqual(rssFromPtes(sys, mm));
    const locked = lockedMappers(sys);
    for (let pfn = 1; pfn < sys.mem.frames; pfn++)
      if (sys.mem.isAllocated(pfn) && sys.mem.flags[pfn] & (1 << PG_mlocked))
        expect(locked.has(pfn), `mlocked pfn ${pfn} is mapped by a locked VMA`).toBe(true);
  }
  teardown(): void {
    const sys = this.sys;
    for (const mm of [...this.procs]) sysExit(sys, mm);
    expectOnlyPageCacheLeft(sys, (pfn) => expect(sys.mem.flags[pfn] & (1 << PG_mlocked)).toBe(0));
  }
}

describe.each(['4.9', '6.12', '6.18'])('random sequences of every VMA change (kernel %s)', (kernel) => {
  it('keep every invariant after every step and leave nothing behind', () => {
    fc.assert(
      fc.property(fc.array(cmd, { minLength: 1, maxLength: 50, size: 'max' }), (cmds) => {
        const run = new Run(kernel);
        run.exec({ op: 'spawn' });
        for (const c of cmds) {
          run.exec(c);
          run.check();
        }
        run.teardown();
      }),
      { numRuns: 1000 },
    );
  }, 120_000);
});
