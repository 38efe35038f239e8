/**
 * The modern anonymous COW and swap-in, rule by rule, each in the release before it and in its own:
 * do_wp_page's refcount-based reuse (5.9), the reuse of a swap-cache page (5.18), do_swap_page
 * without reuse_swap_page (5.18), PG_anon_exclusive and the move back to the faulting anon_vma
 * (5.19), the exclusive swap PTE (5.19) and the writable read swap-in (6.11). Reclaim is done by
 * hand (helpers.swapOutPage); the rmap walks' side is in @rmaplab/rmap's tests.
 */
import { describe, expect, it } from 'vitest';
import {
  ClearPageAnonExclusive,
  checkInvariants,
  type ExternalRefs,
  getPage,
  InvariantError,
  lockPage,
  PAGE_SIZE,
  PageAnonExclusive,
  PageSwapCache,
  PROT_READ,
  PROT_WRITE,
  PTE_DIRTY,
  PTE_MIGRATION,
  PTE_SWAP,
  PTE_SWP_EXCLUSIVE,
  PTE_WRITE,
  PTRS_PER_PTE,
  pageAnonVma,
  pageRemoveRmap,
  pteIndex,
  putPage,
  readPte,
  SetPageAnonExclusive,
  setPte,
  unlockPage,
} from '../src/index.js';
import { swapOutPage, World } from './helpers.js';
import { mprotect } from './ops.js';

/** A forks B; B writes its own copy of page 0 (exclusive in AV(B)), which reclaim swaps out and frees. */
function childPageSwappedOut(kernel: string, swapPages = Number.POSITIVE_INFINITY): World {
  const w = new World({ kernel, swapPages });
  w.spawn('A');
  w.mmap('A', 'h', 1);
  w.write('A', 'h', 0);
  w.fork('A', 'B');
  w.write('B', 'h', 0);
  expect(swapOutPage(w.sys, w.pfn('B', 'h', 0), true)).toBe(true);
  w.step();
  return w;
}

const exclusive = (w: World, p: string, page = 0) => PageAnonExclusive(w.sys.mem, w.pfn(p, 'h', page));
const writable = (w: World, p: string, page = 0) =>
  (readPte(w.mm(p), w.addr('h', page)).bits & PTE_WRITE) !== 0;

describe('do_wp_page: cow-reuse-refcount (5.9), cow-free-swap-cache (5.14)', () => {
  /** B reads its page back from swap, so the swap cache still holds it, then writes it. */
  function writeAfterReadSwapIn(kernel: string): { w: World; before: number; after: number } {
    const w = childPageSwappedOut(kernel);
    w.read('B', 'h', 0);
    const before = w.pfn('B', 'h', 0);
    expect(PageSwapCache(w.sys.mem, before)).toBe(true);
    w.write('B', 'h', 0);
    return { w, before, after: w.pfn('B', 'h', 0) };
  }

  it('5.8: reuse_swap_page drops the swap copy and reuses the page, moved to B’s anon_vma', () => {
    const { w, before, after } = writeAfterReadSwapIn('5.8');
    expect(after).toBe(before);
    expect(PageSwapCache(w.sys.mem, after)).toBe(false);
    expect(w.sys.swap.inUse).toBe(0);
    expect(pageAnonVma(w.sys.mem, after)).toBe(w.vma('B', 'h').anonVma);
  });

  it('5.9: the swap cache’s reference makes the refcount 2, so the page is copied', () => {
    const { w, before, after } = writeAfterReadSwapIn('5.9');
    expect(after).not.toBe(before);
    expect(pageAnonVma(w.sys.mem, after)).toBe(w.vma('B', 'h').anonVma);
    // The old page is left in the swap cache, unmapped, until reclaim comes by.
    expect(w.sys.mem.mapcount[before]).toBe(-1);
    expect(PageSwapCache(w.sys.mem, before)).toBe(true);
  });

  it('5.14 frees the swap copy of the page it copied away from (cow-free-swap-cache)', () => {
    const { w, before, after } = writeAfterReadSwapIn('5.14');
    expect(after).not.toBe(before);
    expect(w.sys.mem.isAllocated(before)).toBe(false);
    expect(w.sys.swap.inUse).toBe(0);
  });

  /** A's page is shared with B; A exits, so B alone maps the page, whose mapping is still A's anon_vma. */
  function lastSharerWrites(kernel: string): { w: World; pfn: number; avA: unknown } {
    const w = new World({ kernel });
    w.spawn('A');
    w.mmap('A', 'h', 1);
    w.write('A', 'h', 0);
    const avA = w.vma('A', 'h').anonVma;
    w.fork('A', 'B');
    const pfn = w.pfn('B', 'h', 0);
    w.exit('A');
    w.write('B', 'h', 0);
    expect(w.pfn('B', 'h', 0)).toBe(pfn); // reused in every release
    return { w, pfn, avA };
  }

  it('4.9 moves a page it reuses to the faulting VMA’s anon_vma; 5.9 to 5.18 leave it where it was', () => {
    for (const kernel of ['4.9', '5.8']) {
      const { w, pfn } = lastSharerWrites(kernel);
      expect(pageAnonVma(w.sys.mem, pfn), kernel).toBe(w.vma('B', 'h').anonVma);
    }
    for (const kernel of ['5.9', '5.18']) {
      const { w, pfn, avA } = lastSharerWrites(kernel);
      expect(pageAnonVma(w.sys.mem, pfn), kernel).toBe(avA);
    }
  });

  it('5.19 moves it again (wp-reuse-moves-anon-rmap) and marks it exclusive', () => {
    const { w, pfn } = lastSharerWrites('5.19');
    expect(pageAnonVma(w.sys.mem, pfn)).toBe(w.vma('B', 'h').anonVma);
    expect(PageAnonExclusive(w.sys.mem, pfn)).toBe(true);
  });

  /** The page-lock calls of one write fault on page 0 of `p`'s region h. */
  function pageLockCalls(w: World, p: string): string[] {
    const calls: string[] = [];
    w.sys.setTrace((e) => {
      if (e.kind === 'lock' && /^page#/.test(e.refs?.lock ?? '')) calls.push(e.fn);
    });
    w.write(p, 'h', 0);
    w.sys.setTrace(null);
    return calls;
  }

  it('the page lock is taken for a page that may be reused, not for one that other PTEs map (4.9, 5.9)', () => {
    for (const [kernel, shared, last] of [
      ['4.9', [], ['trylock_page', 'unlock_page']],
      ['5.9', [], ['trylock_page', 'unlock_page']],
    ] as const) {
      const w = new World({ kernel });
      w.spawn('A');
      w.mmap('A', 'h', 1);
      w.write('A', 'h', 0);
      w.fork('A', 'B');
      expect(pageLockCalls(w, 'B'), `${kernel}: shared page`).toEqual(shared);
      expect(pageLockCalls(w, 'A'), `${kernel}: A's last mapping`).toEqual(last);
    }
  });

  it('a page locked elsewhere: 4.9 waits for the lock (the model reports it), 5.9 copies it without waiting', () => {
    for (const kernel of ['4.9', '5.9']) {
      const w = new World({ kernel });
      w.spawn('P');
      w.mmap('P', 'h', 1);
      w.write('P', 'h', 0);
      w.fork('P', 'C');
      w.exit('C'); // P maps the page alone, its PTE still write-protected
      const pfn = w.pfn('P', 'h', 0);
      getPage(w.sys, pfn); // whoever locks a page holds a reference to it
      lockPage(w.sys, pfn); // as kswapd
      w.check = false; // a held page lock and its reference are no state between statements
      if (kernel === '4.9')
        expect(() => w.write('P', 'h', 0)).toThrow(/would block on page#\d+ .*held by kswapd0/);
      else {
        w.write('P', 'h', 0);
        expect(w.pfn('P', 'h', 0)).not.toBe(pfn);
        unlockPage(w.sys, pfn);
        putPage(w.sys, pfn);
        w.check = true;
        w.step();
      }
    }
  });
});

describe('do_wp_page: wp-reuse-swapcache (5.18)', () => {
  it('5.17 copies a page read back from swap; 5.18 frees its swap copy and reuses it', () => {
    for (const [kernel, reused] of [
      ['5.17', false],
      ['5.18', true],
    ] as const) {
      const w = childPageSwappedOut(kernel);
      w.read('B', 'h', 0);
      const pfn = w.pfn('B', 'h', 0);
      w.write('B', 'h', 0);
      expect(w.pfn('B', 'h', 0) === pfn, kernel).toBe(reused);
      if (reused) expect(w.sys.swap.inUse, kernel).toBe(0);
    }
  });

  it('5.18 copies when a swap PTE still needs the copy (try_to_free_swap fails)', () => {
    const w = new World({ kernel: '5.18' });
    w.spawn('A');
    w.mmap('A', 'h', 1);
    w.write('A', 'h', 0);
    swapOutPage(w.sys, w.pfn('A', 'h', 0), true);
    w.step();
    w.fork('A', 'B'); // both hold the swap entry
    w.read('A', 'h', 0);
    const pfn = w.pfn('A', 'h', 0);
    w.write('A', 'h', 0);
    expect(w.pfn('A', 'h', 0)).not.toBe(pfn);
    expect(PageSwapCache(w.sys.mem, pfn)).toBe(true); // B's swap PTE still refers to it
  });
});

describe('do_swap_page: reuse-swap-page-removed (5.18)', () => {
  it('a write swap-in of a page only we use maps it exclusive and writable, before and after', () => {
    for (const kernel of ['5.17', '5.18']) {
      const w = childPageSwappedOut(kernel);
      w.write('B', 'h', 0);
      const pfn = w.pfn('B', 'h', 0);
      expect(pageAnonVma(w.sys.mem, pfn), kernel).toBe(w.vma('B', 'h').anonVma);
      expect(writable(w, 'B'), kernel).toBe(true);
      expect(w.sys.swap.inUse, kernel).toBe(0);
    }
  });

  it('with swap more than half full, 5.18 frees the swap copy first, so even a read maps the page exclusive', () => {
    // One slot, in use: vm_swap_full(). 5.17 maps the page under the root, then frees the slot.
    const before = childPageSwappedOut('5.17', 1);
    before.read('B', 'h', 0);
    expect(pageAnonVma(before.sys.mem, before.pfn('B', 'h', 0))).toBe(before.vma('A', 'h').anonVma);
    expect(before.sys.swap.inUse).toBe(0);
    const after = childPageSwappedOut('5.18', 1);
    after.read('B', 'h', 0);
    expect(pageAnonVma(after.sys.mem, after.pfn('B', 'h', 0))).toBe(after.vma('B', 'h').anonVma);
    expect(writable(after, 'B')).toBe(false); // a read fault: writable only from 6.11
    expect(after.sys.swap.inUse).toBe(0);
  });
});

describe('PG_anon_exclusive: page-anon-exclusive (5.19)', () => {
  it('is set on new pages and COW copies, cleared by fork, set again by a reuse', () => {
    const w = new World({ kernel: '5.19' });
    w.spawn('A');
    w.mmap('A', 'h', 2);
    w.write('A', 'h', 0);
    w.read('A', 'h', 1); // the zero page: no page to mark
    expect(exclusive(w, 'A')).toBe(true);
    w.fork('A', 'B');
    expect(exclusive(w, 'A')).toBe(false);
    w.write('B', 'h', 0);
    expect(exclusive(w, 'B')).toBe(true);
    expect(exclusive(w, 'A')).toBe(false); // mapped once now, but nothing said so yet
    w.write('A', 'h', 0);
    expect(exclusive(w, 'A')).toBe(true);
    w.write('B', 'h', 1);
    expect(exclusive(w, 'B', 1)).toBe(true);
  });

  it('never exists before 5.19', () => {
    const w = new World({ kernel: '5.18' });
    w.spawn('A');
    w.mmap('A', 'h', 1);
    w.write('A', 'h', 0);
    w.fork('A', 'B');
    w.write('B', 'h', 0);
    w.write('A', 'h', 0);
    expect(exclusive(w, 'A')).toBe(false);
    expect(exclusive(w, 'B')).toBe(false);
  });

  it('an exclusive page is reused whatever its refcount; 5.18 counts and copies', () => {
    for (const [kernel, reused] of [
      ['5.18', false],
      ['5.19', true],
    ] as const) {
      const w = new World({ kernel });
      w.spawn('A');
      w.mmap('A', 'h', 1);
      w.write('A', 'h', 0);
      mprotect(w, 'A', 'h', 0, 1, PROT_READ); // the PTE is write-protected, the page stays A's alone
      mprotect(w, 'A', 'h', 0, 1, PROT_READ | PROT_WRITE);
      expect(writable(w, 'A'), kernel).toBe(false);
      // A reference that no PTE or cache explains (what a GUP pin would be).
      const pfn = w.pfn('A', 'h', 0);
      getPage(w.sys, pfn);
      w.check = false;
      w.write('A', 'h', 0);
      expect(w.pfn('A', 'h', 0) === pfn, kernel).toBe(reused);
      putPage(w.sys, pfn);
      w.check = true;
      w.step();
    }
  });

  it('a swap-cache page mapped back exclusive is reused by its flag: the swap copy stays (5.18 frees it)', () => {
    for (const [kernel, cached] of [
      ['5.18', false],
      ['5.19', true],
    ] as const) {
      const w = new World({ kernel });
      w.spawn('A');
      w.mmap('A', 'h', 1);
      w.write('A', 'h', 0);
      swapOutPage(w.sys, w.pfn('A', 'h', 0), false); // still in the swap cache
      w.step();
      w.read('A', 'h', 0);
      const pfn = w.pfn('A', 'h', 0);
      expect(writable(w, 'A'), kernel).toBe(false);
      w.write('A', 'h', 0);
      expect(w.pfn('A', 'h', 0), kernel).toBe(pfn);
      expect(PageSwapCache(w.sys.mem, pfn), kernel).toBe(cached);
    }
  });
});

describe('the exclusive swap PTE: swap-pte-exclusive-marker (5.19)', () => {
  it('try_to_unmap leaves the marker for an exclusive page only, and clears the flag', () => {
    const w = new World({ kernel: '5.19' });
    w.spawn('A');
    w.mmap('A', 'h', 2);
    w.write('A', 'h', 0);
    w.write('A', 'h', 1);
    w.fork('A', 'B');
    w.write('A', 'h', 0); // A's own copy, exclusive; page 1 stays shared
    const own = w.pfn('A', 'h', 0);
    swapOutPage(w.sys, own, false);
    swapOutPage(w.sys, w.pfn('A', 'h', 1), false);
    w.step();
    expect(readPte(w.mm('A'), w.addr('h', 0)).bits).toBe(PTE_SWAP | PTE_SWP_EXCLUSIVE);
    expect(readPte(w.mm('A'), w.addr('h', 1)).bits).toBe(PTE_SWAP);
    expect(readPte(w.mm('B'), w.addr('h', 1)).bits).toBe(PTE_SWAP);
    expect(PageAnonExclusive(w.sys.mem, own)).toBe(false);
  });

  it('fork clears the marker in the parent and gives the child none', () => {
    const w = new World({ kernel: '6.12' });
    w.spawn('A');
    w.mmap('A', 'h', 1);
    w.write('A', 'h', 0);
    swapOutPage(w.sys, w.pfn('A', 'h', 0), true);
    w.step();
    expect(readPte(w.mm('A'), w.addr('h', 0)).bits & PTE_SWP_EXCLUSIVE).not.toBe(0);
    w.fork('A', 'B');
    expect(readPte(w.mm('A'), w.addr('h', 0)).bits).toBe(PTE_SWAP);
    expect(readPte(w.mm('B'), w.addr('h', 0)).bits).toBe(PTE_SWAP);
    w.read('A', 'h', 0);
    expect(exclusive(w, 'A')).toBe(false);
    expect(writable(w, 'A')).toBe(false);
  });

  it('a read swap-in of a page swapped out of a COW child: root anon_vma before 5.19, the child’s own after', () => {
    const old = childPageSwappedOut('5.18');
    old.read('B', 'h', 0);
    expect(pageAnonVma(old.sys.mem, old.pfn('B', 'h', 0))).toBe(old.vma('A', 'h').anonVma);
    expect(exclusive(old, 'B')).toBe(false);
    const now = childPageSwappedOut('5.19');
    now.read('B', 'h', 0);
    expect(pageAnonVma(now.sys.mem, now.pfn('B', 'h', 0))).toBe(now.vma('B', 'h').anonVma);
    expect(exclusive(now, 'B')).toBe(true);
    expect(writable(now, 'B')).toBe(false); // 5.19 to 6.10
  });
});

describe('do_swap_page: swapin-map-writable (6.11)', () => {
  it('a read swap-in maps an exclusive page writable and clean from 6.11', () => {
    for (const [kernel, w6] of [
      ['6.10', false],
      ['6.11', true],
    ] as const) {
      const w = childPageSwappedOut(kernel);
      w.read('B', 'h', 0);
      const bits = readPte(w.mm('B'), w.addr('h', 0)).bits;
      expect((bits & PTE_WRITE) !== 0, kernel).toBe(w6);
      expect(bits & PTE_DIRTY, kernel).toBe(0);
      expect(exclusive(w, 'B'), kernel).toBe(true);
    }
  });

  it('never in a read-only VMA, and never for a page that is not exclusive', () => {
    const w = new World({ kernel: '6.12' });
    w.spawn('A');
    w.mmap('A', 'h', 1);
    w.write('A', 'h', 0);
    swapOutPage(w.sys, w.pfn('A', 'h', 0), true);
    w.step();
    w.fork('A', 'B');
    w.read('B', 'h', 0);
    expect(writable(w, 'B')).toBe(false);
    expect(exclusive(w, 'B')).toBe(false);
  });
});

describe('the invariant checker knows PG_anon_exclusive', () => {
  /** The invariant that checkInvariants finds broken (with `ext`), or 'nothing fired'. */
  function broken(w: World, ext?: ExternalRefs): string {
    try {
      checkInvariants(w.sys, ext);
    } catch (e) {
      if (e instanceof InvariantError) return e.invariant;
      throw e;
    }
    return 'nothing fired';
  }
  const pte = (w: World, p: string, region: string, page: number) => {
    const addr = w.addr(region, page);
    return { t: w.mm(p).pgd.lookup(Math.floor(addr / PAGE_SIZE / PTRS_PER_PTE))!, i: pteIndex(addr) };
  };
  /** A forks B after writing pages 0 (then A's own copy) and 1 (shared); `kernel` decides the flag. */
  function state(kernel: string): World {
    const w = new World({ kernel });
    w.spawn('A');
    w.mmap('A', 'h', 3);
    w.write('A', 'h', 0);
    w.write('A', 'h', 1);
    w.fork('A', 'B');
    w.write('A', 'h', 0);
    expect(broken(w)).toBe('nothing fired');
    return w;
  }
  /**
   * Turn A's PTE of page 0 into a migration entry with `bits`, as try_to_migrate_one would leave it
   * while the migration holds the page (ext: that reference).
   */
  function migrating(w: World, bits: number): ExternalRefs {
    const pfn = w.pfn('A', 'h', 0);
    const { t, i } = pte(w, 'A', 'h', 0);
    setPte(t, i, pfn, PTE_MIGRATION | bits);
    pageRemoveRmap(w.sys, pfn);
    return { page: (p) => (p === pfn ? 1 : 0) };
  }

  it('no flag, marker or exclusive entry before 5.19', () => {
    const w = state('5.18');
    SetPageAnonExclusive(w.sys.mem, w.pfn('A', 'h', 0));
    expect(broken(w)).toBe('no PG_anon_exclusive before 5.19');
    const s = state('5.18');
    swapOutPage(s.sys, s.pfn('A', 'h', 0), true);
    pte(s, 'A', 'h', 0).t.bits[pte(s, 'A', 'h', 0).i] |= PTE_SWP_EXCLUSIVE;
    expect(broken(s)).toBe('swap PTEs have no exclusive marker before 5.19');
    const m = state('5.18');
    expect(broken(m, migrating(m, PTE_SWP_EXCLUSIVE))).toBe(
      'migration entries are readable or writable before 5.19',
    );
  });

  it('an exclusive page is anonymous, not KSM, and mapped by one PTE of a private VMA', () => {
    const w = state('6.12');
    SetPageAnonExclusive(w.sys.mem, w.pfn('A', 'h', 1));
    expect(broken(w)).toBe('an exclusive page is mapped by one PTE at most');
    const f = state('6.12');
    f.mmap('A', 'f', 1, 'file0');
    f.read('A', 'f', 0);
    SetPageAnonExclusive(f.sys.mem, f.pfn('A', 'f', 0));
    expect(broken(f)).toBe('an exclusive page is anonymous and not KSM');
    const s = state('6.12');
    s.mmap('A', 's', 1, 'anon', true);
    s.write('A', 's', 0);
    SetPageAnonExclusive(s.sys.mem, s.pfn('A', 's', 0));
    expect(broken(s)).toBe('an exclusive page is mapped by a private VMA');
  });

  it('from 5.19 a writable anonymous PTE maps an exclusive page', () => {
    const w = state('6.12');
    ClearPageAnonExclusive(w.sys.mem, w.pfn('A', 'h', 0));
    expect(broken(w)).toBe('a writable anonymous PTE maps an exclusive page');
  });

  it('an exclusive swap entry has its slot to itself, and no swap PTE refers to an exclusive page', () => {
    const w = state('6.12');
    swapOutPage(w.sys, w.pfn('A', 'h', 1), true);
    const { t, i } = pte(w, 'A', 'h', 1);
    t.bits[i] |= PTE_SWP_EXCLUSIVE;
    expect(broken(w)).toBe('an exclusive swap entry is its slot’s only user');
    const c = state('6.12');
    const pfn = c.pfn('A', 'h', 0);
    swapOutPage(c.sys, pfn, false); // the page stays in the swap cache
    SetPageAnonExclusive(c.sys.mem, pfn);
    expect(broken(c)).toBe('no swap PTE refers to an exclusive page');
  });

  it('a readable-exclusive migration entry is of an anonymous page that handed it its flag', () => {
    const w = state('6.12');
    const ext = migrating(w, PTE_SWP_EXCLUSIVE);
    expect(broken(w, ext)).toBe('an exclusive migration entry holds the flag');
    const ok = state('6.12');
    const pfn = ok.pfn('A', 'h', 0);
    const extOk = migrating(ok, PTE_SWP_EXCLUSIVE);
    ClearPageAnonExclusive(ok.sys.mem, pfn);
    expect(broken(ok, extOk)).toBe('nothing fired');
    const both = state('6.12');
    const p2 = both.pfn('A', 'h', 0);
    const ext2 = migrating(both, PTE_SWP_EXCLUSIVE | PTE_WRITE);
    ClearPageAnonExclusive(both.sys.mem, p2);
    expect(broken(both, ext2)).toBe('a readable-exclusive migration entry is of an anonymous page');
  });
});
