import {
  checkInvariants,
  MAP_PRIVATE,
  MAP_SHARED,
  type Mm,
  type MmOptions,
  MmSystem,
  openFile,
  PAGE_SIZE,
  PROT_READ,
  PROT_WRITE,
  PTE_PRESENT,
  readPte,
  sysFork,
  sysMlock,
  sysMmap,
  sysMunlock,
  userAccess,
  type VmArea,
} from '@rmaplab/mm';
import { installRmap, rmapExternalRefs } from '../src/index.js';

/**
 * A small world for the rmap tests: named processes and regions (each region at its own 2 MiB
 * slot in every process), rmap hooks installed, the lock validator strict, and the invariant
 * checker after every step.
 */
export class World {
  readonly sys: MmSystem;
  readonly procs = new Map<string, Mm>();
  private readonly regions = new Map<string, { addr: number; pages: number }>();

  constructor(opts: Partial<MmOptions> = {}) {
    this.sys = new MmSystem({ strictLocking: true, ...opts });
    installRmap(this.sys);
  }
  check(): void {
    checkInvariants(this.sys, rmapExternalRefs(this.sys));
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
  mmap(p: string, region: string, pages: number, file: string | null = null, shared = false): VmArea {
    let r = this.regions.get(region);
    if (!r) {
      r = { addr: 0x10000000000 + this.regions.size * 0x200000 * 4, pages };
      this.regions.set(region, r);
    }
    const vma = sysMmap(this.sys, this.mm(p), {
      addr: r.addr,
      len: pages * PAGE_SIZE,
      prot: PROT_READ | PROT_WRITE,
      flags: shared ? MAP_SHARED : MAP_PRIVATE,
      file: file === null ? null : openFile(this.sys, file, pages),
    });
    this.check();
    return vma;
  }
  /** Spawn `procs`, then map `pages` of `file` shared at `region` in each, in that order. */
  shareFile(procs: readonly string[], region: string, pages: number, file: string): void {
    for (const p of procs) this.spawn(p);
    for (const p of procs) this.mmap(p, region, pages, file, true);
  }
  addr(region: string, page = 0): number {
    return this.regions.get(region)!.addr + page * PAGE_SIZE;
  }
  write(p: string, region: string, page = 0): void {
    userAccess(this.sys, this.mm(p), this.addr(region, page), true);
    this.check();
  }
  read(p: string, region: string, page = 0): void {
    userAccess(this.sys, this.mm(p), this.addr(region, page), false);
    this.check();
  }
  fork(p: string, c: string): Mm {
    const mm = sysFork(this.sys, this.mm(p), c);
    this.procs.set(c, mm);
    this.check();
    return mm;
  }
  mlock(p: string, region: string): void {
    const r = this.regions.get(region)!;
    sysMlock(this.sys, this.mm(p), r.addr, r.pages * PAGE_SIZE);
    this.check();
  }
  munlock(p: string, region: string): void {
    const r = this.regions.get(region)!;
    sysMunlock(this.sys, this.mm(p), r.addr, r.pages * PAGE_SIZE);
    this.check();
  }
  /** The frame mapped (present) at a page, or -1. */
  pfn(p: string, region: string, page = 0): number {
    const pte = readPte(this.mm(p), this.addr(region, page));
    return pte.bits & PTE_PRESENT ? pte.pfn : -1;
  }
  pte(p: string, region: string, page = 0): { pfn: number; bits: number } {
    return readPte(this.mm(p), this.addr(region, page));
  }
  vma(p: string, region: string): VmArea {
    const a = this.addr(region);
    for (const v of this.mm(p).vmas()) if (v.vmStart <= a && a < v.vmEnd) return v;
    throw new Error(`no VMA of ${region} in ${p}`);
  }
}
