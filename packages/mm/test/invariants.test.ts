/**
 * The invariant checker's own tests: for each invariant, a healthy world is corrupted in exactly
 * one place and checkInvariants must throw an InvariantError naming that invariant.
 */
import { LockOrderError } from '@rmaplab/locks';
import { describe, expect, it } from 'vitest';
import {
  AnonVmaChain,
  addToSwap,
  checkInvariants,
  type ExternalRefs,
  InvariantError,
  PAGE_MAPPING_KSM,
  PAGE_SIZE,
  PTE_PRESENT,
  PTE_SPECIAL,
  PTE_SWAP,
  PTRS_PER_PTE,
  pteOffsetMapLock,
  setPte,
  VM_SHARED,
  vmaLastPgoff,
  vmaStartPgoff,
  zapPageRange,
} from '../src/index.js';
import { World } from './helpers.js';

/**
 * P: anon heap h (pages 0,1 written; 2 read = zero page), shared file mapping s of f (page 0
 * written), private file mapping p of g (page 0 read); C forked from P; Q maps f shared too.
 */
function healthy(kernel: '4.9' | '6.12' = '4.9'): World {
  const w = new World({ kernel, faultAround: 1 });
  w.spawn('P');
  w.mmap('P', 'h', 4);
  w.write('P', 'h', 0);
  w.write('P', 'h', 1);
  w.read('P', 'h', 2);
  w.mmap('P', 's', 2, 'f', true);
  w.write('P', 's', 0);
  w.mmap('P', 'p', 2, 'g');
  w.read('P', 'p', 0);
  w.fork('P', 'C');
  w.spawn('Q');
  w.mmap('Q', 's', 2, 'f', true);
  w.read('Q', 's', 0);
  checkInvariants(w.sys);
  return w;
}

function broken(w: World, ext?: ExternalRefs): string {
  try {
    checkInvariants(w.sys, ext);
  } catch (e) {
    if (e instanceof InvariantError) return e.invariant;
    throw e;
  }
  return 'nothing fired';
}

/** The PTE table and index of a page of a region. */
function slot(w: World, p: string, region: string, page: number) {
  const addr = w.addr(region, page);
  const t = w.mm(p).pgd.lookup(Math.floor(addr / PAGE_SIZE / PTRS_PER_PTE))!;
  return { t, i: (addr / PAGE_SIZE) % PTRS_PER_PTE };
}

/** Take a VMA out of its mm (its pages zapped) without unlinking it from the rmap trees. */
function forgetVma(w: World, p: string, region: string): void {
  const v = w.vma(p, region);
  const mm = v.vmMm;
  w.sys.as(mm.owner, () => zapPageRange(w.sys, mm, v, v.vmStart, v.vmEnd));
  mm.mmRb.remove(v.vmRb!);
  v.vmRb = null;
  if (v.vmPrev) v.vmPrev.vmNext = v.vmNext;
  else mm.mmap = v.vmNext;
  if (v.vmNext) v.vmNext.vmPrev = v.vmPrev;
  mm.mapCount--;
}

type Case = [invariant: string, corrupt: (w: World) => void];

const cases: Case[] = [
  [
    'PTEs only inside VMAs',
    (w) => {
      const { t } = slot(w, 'P', 'h', 0);
      setPte(t, 100, 0, PTE_PRESENT | PTE_SPECIAL);
    },
  ],
  [
    'PTE encoding',
    (w) => {
      const { t, i } = slot(w, 'P', 'h', 3);
      setPte(t, i, 0, 0x2);
    },
  ],
  [
    'special PTEs map the zero page',
    (w) => {
      const { t, i } = slot(w, 'P', 'h', 2);
      t.pfn[i] = w.pfn('P', 'h', 0);
    },
  ],
  [
    'PTEs map allocated pages',
    (w) => {
      const { t, i } = slot(w, 'P', 'h', 3);
      setPte(t, i, w.sys.mem.frames + 5, PTE_PRESENT);
    },
  ],
  [
    'PTE table use count',
    (w) => {
      slot(w, 'P', 'h', 0).t.used++;
    },
  ],
  [
    'mapcount = PTEs',
    (w) => {
      w.sys.mem.mapcount[w.pfn('P', 'h', 0)]++;
    },
  ],
  [
    'swap cache',
    (w) => {
      const pfn = w.pfn('P', 'h', 1);
      addToSwap(w.sys, pfn);
      w.sys.swap.cache.delete(w.sys.mem.private[pfn]);
    },
  ],
  [
    'refcount = references',
    (w) => {
      w.sys.mem.refcount[w.pfn('P', 'h', 0)]++;
    },
  ],
  [
    'no leaked pages',
    (w) => {
      w.sys.mem.allocPage(0);
      w.sys.mem.refcount[w.sys.mem.frames - 1] = 0;
    },
  ],
  [
    'nothing left after exit',
    (w) => {
      for (const p of ['P', 'C', 'Q']) w.exit(p);
      // An anon_vma left over, consistent in itself (no reference, no counter).
      const av = w.sys.newAnonVma();
      av.refcount = 0;
      av.degree = 0;
    },
  ],
  [
    'VMA list links',
    (w) => {
      w.vma('P', 's').vmPrev = null;
    },
  ],
  [
    'VMA bounds',
    (w) => {
      w.vma('P', 'h').vmEnd += 1;
    },
  ],
  [
    'VMAs sorted and disjoint',
    (w) => {
      const v = w.vma('P', 'h');
      v.vmEnd = v.vmNext!.vmStart + PAGE_SIZE;
      w.mm('P').mmRb.remove(v.vmRb!);
      v.vmRb = w.mm('P').mmRb.insert(v.vmStart, v.vmEnd - 1, v);
    },
  ],
  [
    'mm tree keys',
    (w) => {
      const v = w.vma('Q', 's');
      w.mm('Q').mmRb.remove(v.vmRb!);
      v.vmRb = w.mm('Q').mmRb.insert(v.vmStart, v.vmEnd, v);
    },
  ],
  [
    'vma->vm_mm',
    (w) => {
      (w.vma('C', 'h') as { vmMm: unknown }).vmMm = w.mm('P');
    },
  ],
  [
    'map_count',
    (w) => {
      w.mm('P').mapCount++;
    },
  ],
  [
    'AVC->vma',
    (w) => {
      const v = w.vma('C', 'h');
      const avc = v.anonVmaChain[0];
      v.anonVmaChain[0] = new AnonVmaChain(avc.id, w.vma('P', 'h'), avc.anonVma);
      v.anonVmaChain[0].rb = avc.rb;
    },
  ],
  [
    'no freed anon_vma reachable',
    (w) => {
      w.vma('C', 'h').anonVma!.freed = true;
    },
  ],
  [
    'AVC keys',
    (w) => {
      w.vma('P', 'h').vmPgoff++;
      w.vma('P', 'h').anonVmaChain[0].rb = null;
    },
  ],
  [
    'one root per VMA',
    (w) => {
      w.spawn('R');
      w.mmap('R', 'h', 4);
      w.write('R', 'h', 0);
      const vC = w.vma('C', 'h');
      const avR = w.vma('R', 'h').anonVma!;
      const avc = new AnonVmaChain(0, vC, avR);
      avc.rb = avR.rbRoot.insert(vmaStartPgoff(vC), vmaLastPgoff(vC), avc);
      vC.anonVmaChain.push(avc);
    },
  ],
  [
    'vma->anon_vma is chained',
    (w) => {
      w.vma('C', 'h').anonVma = w.sys.newAnonVma();
    },
  ],
  [
    'chain without anon_vma',
    (w) => {
      w.vma('P', 'h').anonVma = null;
    },
  ],
  [
    'i_mmap keys',
    (w) => {
      w.vma('P', 's').shared = null;
    },
  ],
  [
    'i_mmap',
    (w) => {
      w.vma('P', 'h').shared = w.vma('P', 's').shared;
    },
  ],
  [
    'anon page → live anon_vma',
    (w) => {
      const dead = w.sys.newAnonVma();
      w.sys.anonVmas.delete(dead);
      dead.freed = true;
      w.sys.mem.mapping[w.pfn('P', 'h', 0)] = dead;
    },
  ],
  [
    'vma_address finds the PTE',
    (w) => {
      w.sys.mem.index[w.pfn('P', 'h', 0)]++;
    },
  ],
  [
    'rmap reaches every PTE',
    (w) => {
      // P's page now claims C's anon_vma, whose tree P's VMA is not in.
      w.sys.mem.mapping[w.pfn('P', 'h', 0)] = w.vma('C', 'h').anonVma;
    },
  ],
  [
    'file page in its VMA',
    (w) => {
      w.sys.mem.mapping[w.pfn('P', 's', 0)] = w.sys.files.get('g')!.mapping;
    },
  ],
  [
    'swap_map = users',
    (w) => {
      addToSwap(w.sys, w.pfn('P', 'h', 1));
      w.sys.swap.swapDuplicate(w.sys.mem.private[w.pfn('P', 'h', 1)]);
    },
  ],
  [
    'swap PTEs use live slots',
    (w) => {
      const { t, i } = slot(w, 'P', 'h', 3);
      setPte(t, i, 77, PTE_SWAP);
      w.mm('P').rss.swap++;
    },
  ],
  [
    'anon_vma root',
    (w) => {
      const dead = w.sys.newAnonVma();
      w.sys.anonVmas.delete(dead);
      dead.freed = true;
      const orphan = w.sys.newAnonVma();
      orphan.root = orphan.parent = dead;
    },
  ],
  [
    'anon_vma family',
    (w) => {
      w.spawn('R');
      w.mmap('R', 'h', 4);
      w.write('R', 'h', 0);
      w.vma('C', 'h').anonVma!.parent = w.vma('R', 'h').anonVma!;
    },
  ],
  ['AVCs of live VMAs', (w) => forgetVma(w, 'C', 'h')],
  [
    'AVC in its anon_vma',
    (w) => {
      const avP = w.vma('P', 'h').anonVma!;
      const stray = new AnonVmaChain(0, w.vma('C', 'h'), w.vma('C', 'h').anonVma!);
      avP.rbRoot.insert(0, 0, stray);
    },
  ],
  [
    'anon_vma degree',
    (w) => {
      w.vma('P', 'h').anonVma!.degree++;
    },
  ],
  [
    'anon_vma refcount',
    (w) => {
      w.vma('C', 'h').anonVma!.refcount++;
    },
  ],
  ['i_mmap holds live VMAs', (w) => forgetVma(w, 'Q', 's')],
  [
    'i_mmap_writable',
    (w) => {
      w.vma('Q', 's').vmFlags &= ~VM_SHARED;
    },
  ],
];

describe('checkInvariants', () => {
  it('passes on a healthy world (and fires nothing on it under 6.12 either)', () => {
    expect(broken(healthy())).toBe('nothing fired');
    expect(broken(healthy('6.12'))).toBe('nothing fired');
  });

  it.each(cases)('fires "%s"', (invariant, corrupt) => {
    const w = healthy();
    w.check = false;
    corrupt(w);
    expect(broken(w)).toBe(invariant);
  });

  it('fires "anon_vma counters" (6.12)', () => {
    const w = healthy('6.12');
    w.vma('C', 'h').anonVma!.numActiveVmas++;
    expect(broken(w)).toBe('anon_vma counters');
  });

  it('fires "rmap reaches every PTE" for a foreign (KSM) mapping unless the extension vouches for it', () => {
    const w = healthy();
    const pfn = w.pfn('P', 'h', 0);
    w.sys.mem.mappingTag[pfn] = PAGE_MAPPING_KSM;
    expect(broken(w)).toBe('rmap reaches every PTE');
    expect(broken(w, { foreignMapping: () => null })).toBe('nothing fired');
    expect(broken(w, { foreignMapping: () => 'not in the stable node' })).toBe('rmap reaches every PTE');
  });

  it('counts external page and anon_vma references', () => {
    const w = healthy();
    const pfn = w.pfn('P', 'h', 0);
    const av = w.vma('P', 'h').anonVma!;
    w.sys.mem.refcount[pfn]++;
    av.refcount++;
    expect(broken(w)).toBe('refcount = references');
    expect(broken(w, { page: (p) => (p === pfn ? 1 : 0) })).toBe('anon_vma refcount');
    expect(broken(w, { page: (p) => (p === pfn ? 1 : 0), anonVma: (a) => (a === av ? 1 : 0) })).toBe(
      'nothing fired',
    );
  });

  it('fires on a lock left held (the lock validator reports it)', () => {
    const w = healthy();
    const t = pteOffsetMapLock(w.sys, w.mm('P'), w.addr('h', 0));
    expect(() => checkInvariants(w.sys)).toThrow(LockOrderError);
    t.ptl.unlock(w.sys.current);
  });
});
