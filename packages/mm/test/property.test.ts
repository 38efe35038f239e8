/**
 * Random sequences of the part-1 operations over several processes, under 4.9, the COW rules' releases
 * (5.9 refcount reuse, 5.18 swap-cache reuse) and 6.12 / 6.18 (PG_anon_exclusive). After every step:
 * the invariant checker, an rss recount, COW safety, and the data read against a brute-force
 * reference. Every command names its process, page and file by small indices that are taken modulo
 * what exists, so that any shrunk sequence still runs.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CONTENT_ZERO,
  checkInvariants,
  deleteFromSwapCache,
  type File,
  KernelError,
  linearPageIndex,
  MAP_PRIVATE,
  MAP_SHARED,
  type Mm,
  MmSystem,
  openFile,
  PAGE_MAPPING_ANON,
  PAGE_SIZE,
  PageAnonExclusive,
  PROT_READ,
  PROT_WRITE,
  PTE_PRESENT,
  PTE_SPECIAL,
  PTE_SWAP,
  PTE_WRITE,
  readPte,
  sysExit,
  sysFork,
  sysMmap,
  sysMunmap,
  userAccess,
  VM_SHARED,
  vmaAt,
} from '../src/index.js';
import { expectOnlyPageCacheLeft, rssFromPtes, swapOutPage } from './helpers.js';

/** Every mapping lands in one small window, so that VMAs overlap, merge and split. */
const BASE = 0x10000000000;
const WINDOW = 24;
const FILE_PAGES = 20;
const FILES = ['f0', 'f1'];
const MAX_PROCS = 5;

type Kind = 'anon-private' | 'anon-shared' | 'file-private' | 'file-shared';
const ALL_KINDS: Kind[] = ['anon-private', 'anon-shared', 'file-private', 'file-shared'];

type Cmd =
  | { op: 'spawn' }
  | {
      op: 'mmap';
      p: number;
      page: number;
      pages: number;
      kind: Kind;
      file: number;
      pgoff: number;
      ro: boolean;
    }
  | { op: 'access'; p: number; vma: number; page: number; write: boolean }
  | { op: 'fork'; p: number }
  | { op: 'exit'; p: number }
  | { op: 'munmap'; p: number; page: number; pages: number }
  | { op: 'swapout'; p: number; vma: number; page: number; reclaim: boolean };

const proc = fc.nat(MAX_PROCS - 1);
/**
 * Commands over a window of `window` pages; mappings are at most `maxPages` long. A small window
 * with short mappings makes neighbours (vma_merge, anon_vma reuse by a neighbour) frequent.
 */
function commands(window: number, maxPages: number, kinds: Kind[] = ALL_KINDS): fc.Arbitrary<Cmd> {
  const page = fc.nat(window - 1);
  return fc.oneof(
    { weight: 1, arbitrary: fc.constant({ op: 'spawn' as const }) },
    {
      weight: 4,
      arbitrary: fc.record({
        op: fc.constant('mmap' as const),
        p: proc,
        page,
        pages: fc.integer({ min: 1, max: maxPages }),
        kind: fc.constantFrom(...kinds),
        file: fc.nat(FILES.length - 1),
        // Mostly the page's own index, so that neighbouring file mappings can merge.
        pgoff: fc.oneof(fc.constant(-1), fc.nat(FILE_PAGES - 1)),
        ro: fc.constantFrom(false, false, false, true),
      }),
    },
    {
      weight: 14,
      arbitrary: fc.record({
        op: fc.constant('access' as const),
        p: proc,
        vma: fc.nat(7),
        page,
        write: fc.boolean(),
      }),
    },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('fork' as const), p: proc }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('exit' as const), p: proc }) },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('munmap' as const),
        p: proc,
        page,
        pages: fc.integer({ min: 1, max: maxPages + 2 }),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        op: fc.constant('swapout' as const),
        p: proc,
        vma: fc.nat(7),
        page,
        reclaim: fc.boolean(),
      }),
    },
  );
}
const cmd = commands(WINDOW, 8);

/** A page of one of the process's VMAs (so that most accesses hit something), or -1. */
function aim(mm: Mm, vma: number, page: number): number {
  const vmas = [...mm.vmas()];
  if (!vmas.length) return -1;
  const v = vmas[vma % vmas.length];
  return v.vmStart + (page % v.pages) * PAGE_SIZE;
}

/**
 * A brute-force reference for what each process reads: private pages by (process, address),
 * shared pages by (file, page index), everything else zero or the file's original data. A store
 * gives the written page a new content identity, as the scenario's `write VALUE` does.
 */
class Contents {
  private readonly priv = new Map<Mm, Map<number, number>>();
  private readonly shared = new Map<File, Map<number, number>>();
  private readonly original = new Map<File, number[]>();
  constructor(private readonly sys: MmSystem) {
    for (const f of sys.files.values())
      this.original.set(
        f,
        Array.from({ length: f.sizePages }, (_, i) => sys.mem.content[f.mapping.pageTree.get(i)!]),
      );
  }
  private privOf(mm: Mm): Map<number, number> {
    let m = this.priv.get(mm);
    if (!m) this.priv.set(mm, (m = new Map()));
    return m;
  }
  /** mmap over, or munmap of, a range: its private data is gone. */
  drop(mm: Mm, addr: number, len: number): void {
    const m = this.privOf(mm);
    for (const a of [...m.keys()]) if (a >= addr && a < addr + len) m.delete(a);
  }
  fork(parent: Mm, child: Mm): void {
    this.priv.set(child, new Map(this.privOf(parent)));
  }
  exit(mm: Mm): void {
    this.priv.delete(mm);
  }
  private fileData(file: File, index: number): number {
    return this.shared.get(file)?.get(index) ?? this.original.get(file)?.[index] ?? CONTENT_ZERO;
  }
  /** After a successful access: the PTE shows the expected data; a store then writes new data. */
  access(mm: Mm, addr: number, write: boolean): void {
    const vma = vmaAt(mm, addr)!;
    const file = vma.vmFile;
    const index = linearPageIndex(vma, addr);
    const isShared = (vma.vmFlags & VM_SHARED) !== 0;
    const expected = isShared
      ? this.fileData(file!, index)
      : (this.privOf(mm).get(addr) ?? (file ? this.fileData(file, index) : CONTENT_ZERO));
    const pte = readPte(mm, addr);
    expect(pte.bits & PTE_PRESENT, 'the access left the page mapped').not.toBe(0);
    const actual = pte.bits & PTE_SPECIAL ? CONTENT_ZERO : this.sys.mem.content[pte.pfn];
    expect(actual, `content at mm${mm.id} 0x${addr.toString(16)}`).toBe(expected);
    if (!write) return;
    expect(pte.bits & PTE_WRITE, 'a store leaves the PTE writable').not.toBe(0);
    const c = this.sys.newContent();
    this.sys.mem.content[pte.pfn] = c;
    if (isShared) {
      let m = this.shared.get(file!);
      if (!m) this.shared.set(file!, (m = new Map()));
      m.set(index, c);
    } else this.privOf(mm).set(addr, c);
  }
}

/**
 * COW safety, which no rmap counter shows: a writable PTE of a private mapping maps an anonymous
 * page that nothing else maps — from 5.19 one marked PG_anon_exclusive, and whatever is so marked
 * is mapped by that one PTE and by no swap entry; a present PTE of a shared mapping maps the file's
 * cached page.
 */
function checkSharing(sys: MmSystem): void {
  const mem = sys.mem;
  const flagged = sys.rules['page-anon-exclusive'];
  for (const mm of sys.mms)
    for (const vma of mm.vmas())
      for (let a = vma.vmStart; a < vma.vmEnd; a += PAGE_SIZE) {
        const { pfn, bits } = readPte(mm, a);
        if (bits & PTE_SWAP) {
          const cached = sys.swap.cache.get(pfn);
          if (cached !== undefined) expect(PageAnonExclusive(mem, cached), 'a swapped-out copy').toBe(false);
          continue;
        }
        if (!(bits & PTE_PRESENT) || bits & PTE_SPECIAL) continue;
        if (PageAnonExclusive(mem, pfn)) {
          expect(flagged).toBe(true);
          expect(vma.vmFlags & VM_SHARED).toBe(0);
          expect(mem.mapcount[pfn], `exclusive pfn ${pfn} mapped once`).toBe(0);
        }
        if (vma.vmFlags & VM_SHARED)
          expect(vma.vmFile!.mapping.pageTree.get(linearPageIndex(vma, a))).toBe(pfn);
        else if (bits & PTE_WRITE) {
          expect(mem.mappingTag[pfn] & PAGE_MAPPING_ANON).not.toBe(0);
          expect(mem.mapcount[pfn]).toBe(0);
          if (flagged) expect(PageAnonExclusive(mem, pfn), `writable pfn ${pfn} is exclusive`).toBe(true);
        }
      }
}

/** Runs commands on a fresh system; the live processes are kept in creation order. */
class Run {
  readonly sys: MmSystem;
  readonly procs: Mm[] = [];
  private readonly contents: Contents;
  private names = 0;
  constructor(kernel: string) {
    this.sys = new MmSystem({ kernel });
    for (const f of FILES) openFile(this.sys, f, FILE_PAGES);
    this.contents = new Contents(this.sys);
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
    switch (c.op) {
      case 'mmap': {
        const file = c.kind.startsWith('file') ? sys.files.get(FILES[c.file])! : null;
        this.contents.drop(mm, BASE + c.page * PAGE_SIZE, c.pages * PAGE_SIZE);
        sysMmap(sys, mm, {
          addr: BASE + c.page * PAGE_SIZE,
          len: c.pages * PAGE_SIZE,
          prot: c.ro ? PROT_READ : PROT_READ | PROT_WRITE,
          flags: c.kind.endsWith('shared') ? MAP_SHARED : MAP_PRIVATE,
          file,
          pgoff: file ? (c.pgoff < 0 ? c.page : c.pgoff) : undefined,
        });
        return;
      }
      case 'access': {
        const addr = aim(mm, c.vma, c.page);
        if (addr < 0) return;
        try {
          userAccess(sys, mm, addr, c.write);
        } catch (e) {
          // A fault the process would die of: a write to a read-only VMA, or beyond the end of the file.
          if (!(e instanceof KernelError) || (e.errno !== 'SIGSEGV' && e.errno !== 'SIGBUS')) throw e;
          return;
        }
        this.contents.access(mm, addr, c.write);
        return;
      }
      case 'fork':
        if (this.procs.length < MAX_PROCS) {
          const child = sysFork(sys, mm, `P${this.names++}`);
          this.contents.fork(mm, child);
          this.procs.push(child);
        }
        return;
      case 'exit':
        sysExit(sys, mm);
        this.contents.exit(mm);
        this.procs.splice(this.procs.indexOf(mm), 1);
        return;
      case 'munmap':
        sysMunmap(sys, mm, BASE + c.page * PAGE_SIZE, c.pages * PAGE_SIZE);
        this.contents.drop(mm, BASE + c.page * PAGE_SIZE, c.pages * PAGE_SIZE);
        return;
      case 'swapout': {
        const addr = aim(mm, c.vma, c.page);
        if (addr < 0) return;
        const pte = readPte(mm, addr);
        if (pte.bits & PTE_PRESENT) swapOutPage(sys, pte.pfn, c.reclaim);
        return;
      }
    }
  }
  /**
   * Exit every process, then nothing but the regular files' page cache may be left — and, from 5.9
   * to 5.13, pages that a COW copy left in the swap cache, unmapped and needed by no swap PTE, until
   * reclaim frees them (from 5.14 wp_page_copy frees them itself, cow-free-swap-cache).
   */
  teardown(): void {
    const sys = this.sys;
    for (const mm of [...this.procs]) sysExit(sys, mm);
    this.procs.length = 0;
    for (const [entry, pfn] of [...sys.swap.cache]) {
      expect(
        sys.rules['cow-reuse-refcount'] && !sys.rules['cow-free-swap-cache'],
        `pfn ${pfn} left in swap`,
      ).toBe(true);
      expect(sys.swap.swapCount(entry)).toBe(0);
      deleteFromSwapCache(sys, pfn); // what reclaim would do
    }
    expect([...sys.files.values()].filter((f) => f.shmem)).toEqual([]);
    expectOnlyPageCacheLeft(sys, (pfn) => expect(sys.mem.mapcount[pfn]).toBe(-1));
  }
}

function runAll(kernel: string, cmds: Cmd[]): void {
  const run = new Run(kernel);
  run.exec({ op: 'spawn' });
  for (const c of cmds) {
    run.exec(c);
    checkInvariants(run.sys);
    checkSharing(run.sys);
    for (const mm of run.sys.mms) expect(mm.rss).toEqual(rssFromPtes(run.sys, mm));
  }
  run.teardown();
}

describe.each(['4.9', '4.12', '5.9', '5.14', '5.18', '6.12', '6.18'])(
  'random operation sequences (kernel %s)',
  (kernel) => {
    it('keep every invariant after every step and leave nothing behind', () => {
      fc.assert(
        fc.property(fc.array(cmd, { minLength: 1, maxLength: 40, size: 'max' }), (cmds) =>
          runAll(kernel, cmds),
        ),
        { numRuns: 1000 },
      );
    }, 60_000);

    it('layout-heavy sequences (short mappings in a small window: merges, splits, neighbour reuse)', () => {
      fc.assert(
        fc.property(
          fc.array(commands(8, 3, ['anon-private', 'file-private']), {
            minLength: 1,
            maxLength: 40,
            size: 'max',
          }),
          (cmds) => runAll(kernel, cmds),
        ),
        { numRuns: 400 },
      );
    }, 60_000);

    it('fork-heavy sequences (deep families, exits in the middle) keep every invariant', () => {
      const forky = fc.oneof(
        { weight: 4, arbitrary: fc.record({ op: fc.constant('fork' as const), p: proc }) },
        { weight: 3, arbitrary: fc.record({ op: fc.constant('exit' as const), p: proc }) },
        { weight: 6, arbitrary: cmd },
      );
      fc.assert(
        fc.property(fc.array(forky, { minLength: 1, maxLength: 60, size: 'max' }), (cmds) =>
          runAll(kernel, cmds),
        ),
        { numRuns: 400 },
      );
    }, 60_000);
  },
);
