/** Test support for KSM: a World whose invariant checks include KSM's, and content-carrying writes. */
import {
  checkInvariants,
  ksmExternalRefs,
  ksmRunToFixedPoint,
  ksmScanOnce,
  type MmOptions,
  PAGE_SIZE,
  sysMadvise,
} from '../src/index.js';
import { World } from './helpers.js';

export class KsmWorld extends World {
  constructor(opts: Partial<MmOptions> = {}) {
    super(opts);
  }
  override step(): void {
    if (this.check) checkInvariants(this.sys, ksmExternalRefs(this.sys));
  }
  /** `P: write REGION PAGE VALUE` of the scenario language: the page then holds VALUE. */
  put(p: string, region: string, page: number, value: string): void {
    const check = this.check;
    this.check = false;
    try {
      this.write(p, region, page);
    } finally {
      this.check = check;
    }
    this.sys.mem.content[this.pfn(p, region, page)] = this.sys.contentFor(value);
    this.step();
  }
  madvise(p: string, region: string, advice: 'mergeable' | 'unmergeable'): void {
    const r = this.regions.get(region)!;
    sysMadvise(this.sys, this.mm(p), r.addr, r.pages * PAGE_SIZE, advice);
    this.step();
  }
  scan(): void {
    ksmScanOnce(this.sys);
    this.step();
  }
  ksm(): number {
    const n = ksmRunToFixedPoint(this.sys);
    this.step();
    return n;
  }
  mapcount(pfn: number): number {
    return this.sys.mem.mapcount[pfn] + 1;
  }
}
