import { expect } from 'vitest';
import {
  checkInvariants,
  MAP_PRIVATE,
  MAP_SHARED,
  type Mm,
  type MmOptions,
  MmSystem,
  openFile,
  PAGE_MAPPING_ANON,
  PAGE_SIZE,
  PG_swapbacked,
  PROT_READ,
  PROT_WRITE,
  PTE_SPECIAL,
  PTE_SWAP,
  PTRS_PER_PTE,
  readPte,
  sysExit,
  sysFork,
  sysMmap,
  sysMunmap,
  userAccess,
  type VmArea,
} from '../src/index.js';

/** A small world for tests: processes by name, regions by name, invariants after each step. */
export class World {
  readonly sys: MmSystem;
  readonly procs = new Map<string, Mm>();
  readonly regions = new Map<string, { addr: number; pages: number }>();
  private slot = 0;
  check = true;

  constructor(opts: Partial<MmOptions> = {}) {
    this.sys = new MmSystem(opts);
  }
  step(): void {
    if (!this.check) return;
    checkInvariants(this.sys);
    for (const mm of this.sys.mms) expect(mm.rss, `rss of mm${mm.id}`).toEqual(rssFromPtes(this.sys, mm));
  }
  spawn(name: string): Mm {
    const mm = this.sys.newMm(name);
    this.procs.set(name, mm);
    return mm;
  }
  mm(name: string): Mm {
    const mm = this.procs.get(name);
    if (!mm) throw new Error(`no process ${name}`);
    return mm;
  }
  mmap(p: string, region: string, pages: number, kind: 'anon' | string = 'anon', shared = false): VmArea {
    let r = this.regions.get(region);
    if (!r) {
      r = { addr: 0x10000000000 + this.slot++ * 0x4000000, pages };
      this.regions.set(region, r);
    }
    const file = kind === 'anon' ? null : openFile(this.sys, kind, pages);
    const vma = sysMmap(this.sys, this.mm(p), {
      addr: r.addr,
      len: pages * PAGE_SIZE,
      prot: PROT_READ | PROT_WRITE,
      flags: shared ? MAP_SHARED : MAP_PRIVATE,
      file,
    });
    this.step();
    return vma;
  }
  addr(region: string, page: number): number {
    return this.regions.get(region)!.addr + page * PAGE_SIZE;
  }
  write(p: string, region: string, page: number): void {
    userAccess(this.sys, this.mm(p), this.addr(region, page), true);
    this.step();
  }
  read(p: string, region: string, page: number): void {
    userAccess(this.sys, this.mm(p), this.addr(region, page), false);
    this.step();
  }
  munmap(p: string, region: string, page: number, pages: number): void {
    sysMunmap(this.sys, this.mm(p), this.addr(region, page), pages * PAGE_SIZE);
    this.step();
  }
  fork(p: string, c: string): Mm {
    const mm = sysFork(this.sys, this.mm(p), c);
    this.procs.set(c, mm);
    this.step();
    return mm;
  }
  exit(p: string): void {
    sysExit(this.sys, this.mm(p));
    this.procs.delete(p);
    this.step();
  }
  /** The pfn mapped at a page, or -1. */
  pfn(p: string, region: string, page: number): number {
    const pte = readPte(this.mm(p), this.addr(region, page));
    return pte.bits & 1 ? pte.pfn : -1;
  }
  vma(p: string, region: string, page = 0): VmArea {
    const a = this.addr(region, page);
    for (const v of this.mm(p).vmas()) if (v.vmStart <= a && a < v.vmEnd) return v;
    throw new Error('no vma');
  }
}

/**
 * The rss counters (MM_ANONPAGES, MM_FILEPAGES, MM_SHMEMPAGES, MM_SWAPENTS) recomputed from the page
 * tables, as mm_counter() would charge each PTE; the zero page is not counted.
 */
export function rssFromPtes(sys: MmSystem, mm: Mm): Mm['rss'] {
  const rss = { file: 0, anon: 0, swap: 0, shmem: 0 };
  const mem = sys.mem;
  for (const t of mm.pgd.allTables())
    for (let i = 0; i < PTRS_PER_PTE; i++) {
      const bits = t.bits[i];
      if (bits === 0 || bits & PTE_SPECIAL) continue;
      if (bits & PTE_SWAP) {
        rss.swap++;
        continue;
      }
      const pfn = t.pfn[i];
      if (mem.mappingTag[pfn] & PAGE_MAPPING_ANON) rss.anon++;
      else if (mem.flags[pfn] & (1 << PG_swapbacked)) rss.shmem++;
      else rss.file++;
    }
  return rss;
}
