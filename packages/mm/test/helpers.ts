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
  readPte,
  sysExit,
  sysFork,
  sysMmap,
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
    if (this.check) checkInvariants(this.sys);
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
