/**
 * Behaviours checked against the 4.9 and 6.12 sources after review: migration's expected page
 * count and copied flags, try_to_migrate under 6.12, and the reclaim paths (activate_locked,
 * 4.9's lazyfree after add_to_swap, 6.12's mlocked folio).
 */
import {
  addToSwap,
  getPage,
  PAGE_SIZE,
  PG_active,
  PG_dirty,
  PG_mlocked,
  PG_reclaim,
  PG_referenced,
  PG_swapcache,
  PG_unevictable,
  PTE_DIRTY,
  PTE_MIGRATION,
  PTE_PRESENT,
  PTE_SWAP,
  PTE_YOUNG,
  PTRS_PER_PTE,
  putPage,
  readPte,
  type TraceEvent,
} from '@rmaplab/mm';
import { describe, expect, it } from 'vitest';
import { migrateAt, reclaimAt, TTU_MIGRATION, tryToMigrate, unmapAt } from '../src/index.js';
import { World } from './helpers.js';

const KERNELS = ['4.9', '6.12'] as const;

function family(kernel: '4.9' | '6.12', swapPages = Number.POSITIVE_INFINITY): World {
  const w = new World({ kernel, swapPages });
  w.spawn('P');
  w.mmap('P', 'heap', 4);
  w.write('P', 'heap', 0);
  w.fork('P', 'C');
  return w;
}

/** Clear PTE bits of `p`'s mapping of `region` (as aging or MADV_FREE's pte_mkclean would). */
function clearPteBits(w: World, p: string, region: string, bits: number): void {
  const addr = w.addr(region);
  const t = w.mm(p).pgd.lookup(Math.floor(addr / PAGE_SIZE / PTRS_PER_PTE))!;
  t.bits[(addr / PAGE_SIZE) % PTRS_PER_PTE] &= ~bits;
}

describe('migration: migrate_page_move_mapping and migrate_page_copy', () => {
  it('an anonymous page with a reference beyond the isolation one stays put (-EAGAIN), mapped as before', () => {
    for (const kernel of KERNELS) {
      const w = family(kernel);
      const sys = w.sys;
      const pfn = w.pfn('P', 'heap');
      getPage(sys, pfn); // a get_user_pages() pin
      const refs = sys.mem.refcount[pfn];
      const r = migrateAt(sys, w.mm('P'), w.addr('heap'));
      expect(r.rc).toBe('EAGAIN');
      // try_to_unmap(TTU_MIGRATION) unmapped it (4.9's SWAP_SUCCESS); 5.14's try_to_migrate returns nothing.
      expect(r.unmap).toBe(kernel === '4.9' ? 'SWAP_SUCCESS' : 'void');
      for (const p of ['P', 'C']) {
        const pte = readPte(w.mm(p), w.addr('heap'));
        expect(pte.pfn).toBe(pfn);
        expect(pte.bits & PTE_PRESENT).not.toBe(0);
        expect(pte.bits & PTE_MIGRATION).toBe(0);
      }
      expect(sys.mem.refcount[pfn]).toBe(refs);
      putPage(sys, pfn);
      w.check();
      const again = migrateAt(sys, w.mm('P'), w.addr('heap'));
      expect(again.rc).toBe('MIGRATEPAGE_SUCCESS');
      expect(w.pfn('C', 'heap')).toBe(again.newPfn);
      expect(sys.mem.isAllocated(pfn)).toBe(false);
      w.check();
    }
  });

  it('the new page gets the flags migrate_page_copy copies, and PG_mlocked only from a VM_LOCKED mapping', () => {
    for (const kernel of KERNELS) {
      const w = family(kernel);
      const sys = w.sys;
      const pfn = w.pfn('P', 'heap');
      sys.mem.flags[pfn] |= (1 << PG_active) | (1 << PG_referenced) | (1 << PG_reclaim);
      const r = migrateAt(sys, w.mm('P'), w.addr('heap'));
      expect(r.rc).toBe('MIGRATEPAGE_SUCCESS');
      const f = sys.mem.flags[r.newPfn];
      expect(f & (1 << PG_active)).not.toBe(0);
      expect(f & (1 << PG_referenced)).not.toBe(0);
      expect(f & (1 << PG_reclaim)).toBe(0);
      expect(f & (1 << PG_mlocked)).toBe(0);
      w.check();
      // P locks its heap (breaking COW: the page is P's alone) and it is mlocked. try_to_unmap's
      // last page_remove_rmap clears PG_mlocked on the old page; remove_migration_pte re-mlocks
      // the new one because P's VMA is VM_LOCKED.
      w.mlock('P', 'heap');
      const locked = w.pfn('P', 'heap');
      expect(sys.mem.flags[locked] & (1 << PG_mlocked)).not.toBe(0);
      const m = migrateAt(sys, w.mm('P'), w.addr('heap'));
      expect(m.rc).toBe('MIGRATEPAGE_SUCCESS');
      expect(sys.mem.flags[m.newPfn] & ((1 << PG_mlocked) | (1 << PG_unevictable))).toBe(
        (1 << PG_mlocked) | (1 << PG_unevictable),
      );
      w.check();
    }
  });
});

describe('6.12: migration entries come from try_to_migrate, not try_to_unmap', () => {
  it('unmap TTU_MIGRATION is refused under 6.12 with a message naming try_to_migrate', () => {
    const w = family('6.12');
    expect(() => unmapAt(w.sys, w.mm('P'), w.addr('heap'), TTU_MIGRATION)).toThrow(/try_to_migrate/);
    w.check();
  });

  it('migrate walks with try_to_migrate_one under 6.12 and try_to_unmap_one under 4.9', () => {
    for (const kernel of KERNELS) {
      const w = family(kernel);
      const events: TraceEvent[] = [];
      w.sys.setTrace((e) => events.push(e));
      migrateAt(w.sys, w.mm('P'), w.addr('heap'));
      w.sys.setTrace(null);
      const names = new Set(
        events.filter((e) => e.kind === 'walk' && e.fn.endsWith('_one')).map((e) => e.fn),
      );
      expect([...names]).toEqual([kernel === '6.12' ? 'try_to_migrate_one' : 'try_to_unmap_one']);
      w.check();
    }
  });

  it('try_to_migrate does not exist in 4.9', () => {
    const w = family('4.9');
    expect(() => tryToMigrate(w.sys, w.pfn('P', 'heap'), 0)).toThrow(/not in Linux 4.9/);
  });
});

describe('reclaim: activate_locked, cull_mlocked and 4.9 lazyfree', () => {
  it('6.12: a folio found in a VM_LOCKED VMA is mlocked, loses its swap slot and is not activated', () => {
    const w = family('6.12');
    const sys = w.sys;
    w.mlock('P', 'heap');
    const pfn = w.pfn('P', 'heap');
    // folio_check_references' case: a folio not yet marked mlocked, in a VM_LOCKED VMA.
    sys.mem.flags[pfn] &= ~((1 << PG_mlocked) | (1 << PG_unevictable));
    expect(sys.as(sys.kswapd, () => addToSwap(sys, pfn))).toBe(true);
    const r = reclaimAt(sys, w.mm('P'), w.addr('heap'));
    expect(r.references).toBe('FOLIOREF_ACTIVATE');
    expect(r.outcome).toBe('culled');
    expect(r.reason).toMatch(/^activate_locked: .*mlocked/);
    const f = sys.mem.flags[pfn];
    expect(f & (1 << PG_active)).toBe(0);
    expect(f & (1 << PG_mlocked)).not.toBe(0);
    expect(f & (1 << PG_swapcache)).toBe(0);
    expect(sys.swap.inUse).toBe(0);
    w.check();
  });

  it('an mlocked page that reclaim meets is culled and gives up its swap slot (both kernels)', () => {
    for (const kernel of KERNELS) {
      const w = family(kernel);
      const sys = w.sys;
      w.mlock('P', 'heap');
      const pfn = w.pfn('P', 'heap');
      expect(sys.as(sys.kswapd, () => addToSwap(sys, pfn))).toBe(true);
      const r = reclaimAt(sys, w.mm('P'), w.addr('heap'));
      expect(r.outcome).toBe('culled');
      expect(r.reason).toMatch(kernel === '4.9' ? /^cull_mlocked/ : /^activate_locked/);
      expect(sys.mem.flags[pfn] & ((1 << PG_swapcache) | (1 << PG_active))).toBe(0);
      w.check();
    }
  });

  it('activate_locked frees the swap slot of a swap-cache page only when swap is more than half full', () => {
    for (const kernel of KERNELS)
      for (const [swapPages, freed] of [
        [3, true],
        [4, false],
      ] as const) {
        const w = family(kernel, swapPages);
        const sys = w.sys;
        w.read('C', 'heap'); // fork left C's PTE old: make it young too
        w.write('P', 'heap', 1);
        const pfn = w.pfn('P', 'heap');
        sys.as(sys.kswapd, () => {
          addToSwap(sys, pfn);
          addToSwap(sys, w.pfn('P', 'heap', 1));
        });
        // P and C both used the page since the last look: page_check_references activates it.
        const r = reclaimAt(sys, w.mm('P'), w.addr('heap'));
        expect(r.outcome).toBe('activated');
        expect(sys.mem.flags[pfn] & (1 << PG_active)).not.toBe(0);
        expect((sys.mem.flags[pfn] & (1 << PG_swapcache)) === 0, `${kernel} swap ${swapPages}`).toBe(freed);
        w.check();
      }
  });

  it('4.9 add_to_swap leaves the page clean: dirty PTEs dirty it and it is written, a clean one is discarded (TTU_LZFREE)', () => {
    for (const clean of [false, true]) {
      const w = family('4.9');
      const sys = w.sys;
      const pfn = w.pfn('P', 'heap');
      for (const p of ['P', 'C']) clearPteBits(w, p, 'heap', PTE_YOUNG | (clean ? PTE_DIRTY : 0));
      sys.mem.flags[pfn] &= ~(1 << PG_dirty);
      const r = reclaimAt(sys, w.mm('P'), w.addr('heap'));
      expect(r.outcome).toBe('freed');
      expect(r.unmap).toBe(clean ? 'SWAP_LZFREE' : 'SWAP_SUCCESS');
      expect(r.wrote).toBe(!clean);
      for (const p of ['P', 'C'])
        expect(readPte(w.mm(p), w.addr('heap')).bits & PTE_SWAP).toBe(clean ? 0 : PTE_SWAP);
      expect(sys.swap.inUse).toBe(clean ? 0 : 1);
      w.check();
    }
  });

  it('6.12 add_to_swap marks the folio dirty, so even a clean one is written out', () => {
    const w = family('6.12');
    const sys = w.sys;
    const pfn = w.pfn('P', 'heap');
    for (const p of ['P', 'C']) clearPteBits(w, p, 'heap', PTE_YOUNG | PTE_DIRTY);
    sys.mem.flags[pfn] &= ~(1 << PG_dirty);
    const r = reclaimAt(sys, w.mm('P'), w.addr('heap'));
    expect(r.outcome).toBe('freed');
    expect(r.wrote).toBe(true);
    for (const p of ['P', 'C']) expect(readPte(w.mm(p), w.addr('heap')).bits & PTE_SWAP).toBe(PTE_SWAP);
    w.check();
  });
});
