/**
 * The seed's story as tests: reclaim of a page shared by a parent and its forked children,
 * migration of a page mapped by several processes, mlock, young PTEs, invalid_vma, done, and a
 * file page shared by three processes — with the invariant checker after every step.
 */
import {
  KernelError,
  lockPage,
  PG_mlocked,
  PG_swapcache,
  PTE_MIGRATION,
  PTE_PRESENT,
  PTE_SWAP,
  PTE_SWP_EXCLUSIVE,
  PTE_WRITE,
  PTE_YOUNG,
  readPte,
  unlockPage,
  userAccess,
  VM_GROWSDOWN,
  VM_LOCKED,
  VM_STACK_INCOMPLETE_SETUP,
} from '@rmaplab/mm';
import { describe, expect, it } from 'vitest';
import {
  migrateAt,
  newWalkLog,
  pageMkclean,
  pageReferenced,
  type RmapWalkControl,
  reclaimAt,
  removeMigrationPtes,
  rmapWalk,
  SWAP_AGAIN,
  SWAP_FAIL,
  SWAP_MLOCK,
  SWAP_SUCCESS,
  TTU_IGNORE_ACCESS,
  TTU_IGNORE_MLOCK,
  TTU_MIGRATION,
  TTU_UNMAP,
  tryToUnmap,
  unmapAt,
  walkAt,
} from '../src/index.js';
import { World } from './helpers.js';

/** P writes one anonymous page and forks C1 and C2: one page, three PTEs, AV(P)'s tree has three AVCs. */
function forkedFamily(kernel: '4.9' | '6.12' = '4.9', swapPages = Number.POSITIVE_INFINITY): World {
  const w = new World({ kernel, swapPages });
  w.spawn('P');
  w.mmap('P', 'heap', 4);
  w.write('P', 'heap', 0);
  w.fork('P', 'C1');
  w.fork('P', 'C2');
  return w;
}

/** Run `fn` as kswapd holding the page lock and a reference, as try_to_unmap's callers do. */
function locked<T>(w: World, pfn: number, fn: () => T): T {
  const sys = w.sys;
  return sys.as(sys.kswapd, () => {
    sys.mem.refcount[pfn]++;
    lockPage(sys, pfn);
    try {
      return fn();
    } finally {
      unlockPage(sys, pfn);
      sys.mem.refcount[pfn]--;
    }
  });
}

describe('the seed story', () => {
  for (const kernel of ['4.9', '6.12'] as const) {
    it(`kswapd reclaims an anonymous page shared by a parent and its forked children (${kernel})`, () => {
      const w = forkedFamily(kernel);
      const pfn = w.pfn('P', 'heap');
      expect(w.pfn('C1', 'heap')).toBe(pfn);
      const first = reclaimAt(w.sys, w.mm('P'), w.addr('heap'));
      w.check();
      // The parent's PTE is young from its write fault: 4.9 activates a referenced swap-backed page,
      // 6.12 (folio_check_references) marks it referenced and keeps it for one more look.
      expect(first.outcome).toBe(kernel === '4.9' ? 'activated' : 'kept');
      expect(first.referenced).toBe(1);
      const second = reclaimAt(w.sys, w.mm('P'), w.addr('heap'));
      w.check();
      expect(second.outcome).toBe('freed');
      // 4.9's codes; 6.12's try_to_unmap returns nothing and reclaim tests folio_mapped(), and each
      // try_to_unmap_one returns true to go on.
      expect(second.unmap).toBe(kernel === '4.9' ? 'SWAP_SUCCESS' : 'void; folio_mapped() = false');
      expect(second.unmapWalk.visits.map((v) => v.process)).toEqual(['P', 'C1', 'C2']);
      const goOn = kernel === '4.9' ? 'SWAP_AGAIN' : 'true';
      expect(second.unmapWalk.visits.every((v) => v.result === goOn && v.pte === 'found')).toBe(true);
      for (const p of ['P', 'C1', 'C2']) {
        const pte = w.pte(p, 'heap');
        expect(pte.bits).toBe(PTE_SWAP);
        expect(pte.pfn).toBe(second.swapEntry);
      }
      expect(w.sys.mem.isAllocated(pfn)).toBe(false);
      expect(w.mm('C1').rss).toMatchObject({ anon: 0, swap: 1 });
      // C1 faults it back in from swap; the others still point at the slot.
      w.read('C1', 'heap');
      expect(w.pfn('C1', 'heap')).toBeGreaterThan(0);
      expect(w.sys.swap.swapCount(second.swapEntry)).toBe(2);
    });

    it(`migration moves a page mapped by three processes to a new frame (${kernel})`, () => {
      const w = forkedFamily(kernel);
      const old = w.pfn('P', 'heap');
      const av = w.vma('P', 'heap').anonVma!;
      const refcount = av.refcount;
      const r = migrateAt(w.sys, w.mm('C2'), w.addr('heap'));
      w.check();
      expect(r.rc).toBe('MIGRATEPAGE_SUCCESS');
      expect(r.newPfn).not.toBe(old);
      for (const p of ['P', 'C1', 'C2']) expect(w.pfn(p, 'heap')).toBe(r.newPfn);
      expect(w.sys.mem.mapcount[r.newPfn] + 1).toBe(3);
      expect(w.sys.mem.mapping[r.newPfn]).toBe(av);
      expect(w.sys.mem.isAllocated(old)).toBe(false);
      expect(av.refcount).toBe(refcount);
      expect(r.removeWalk.visits.map((v) => v.pte)).toEqual(['found', 'found', 'found']);
      // 4.9 makes the restored PTEs old; 6.12 keeps the young bit the entry recorded.
      const young = (w.pte('P', 'heap').bits & PTE_YOUNG) !== 0;
      expect(young).toBe(kernel === '6.12');
    });
  }

  it('a fault on a migration entry waits until the entries are removed', () => {
    const w = forkedFamily();
    const pfn = w.pfn('P', 'heap');
    locked(w, pfn, () => {
      const ret = tryToUnmap(w.sys, pfn, TTU_MIGRATION | TTU_IGNORE_MLOCK | TTU_IGNORE_ACCESS);
      expect(ret).toBe(SWAP_SUCCESS);
      expect(w.pte('C1', 'heap')).toEqual({ pfn, bits: PTE_MIGRATION });
      expect(() => userAccess(w.sys, w.mm('C1'), w.addr('heap'), false)).toThrow(KernelError);
      removeMigrationPtes(w.sys, pfn, pfn);
    });
    w.check();
    w.read('C1', 'heap');
    expect(w.pfn('C1', 'heap')).toBe(pfn);
  });

  it('an mlocked mapping gives SWAP_MLOCK and culls the page; the walk is not transactional', () => {
    const w = new World();
    w.shareFile(['A', 'B'], 'f', 2, 'data');
    w.read('A', 'f');
    w.mlock('B', 'f');
    const pfn = w.pfn('A', 'f');
    expect(w.pfn('B', 'f')).toBe(pfn);
    expect(w.sys.mem.flags[pfn] & (1 << PG_mlocked)).not.toBe(0);
    const r = unmapAt(w.sys, w.mm('A'), w.addr('f'), TTU_UNMAP | TTU_IGNORE_ACCESS);
    w.check();
    expect(r.result).toBe('SWAP_MLOCK');
    expect(r.walk.visits.map((v) => [v.process, v.result])).toEqual([
      ['A', 'SWAP_AGAIN'],
      ['B', 'SWAP_MLOCK'],
    ]);
    // A (visited first) stays unmapped; B keeps its PTE.
    expect(w.pte('A', 'f').bits).toBe(0);
    expect(w.pfn('B', 'f')).toBe(pfn);
    expect(r.mapcountAfter).toBe(1);
    const rc = reclaimAt(w.sys, w.mm('B'), w.addr('f'));
    expect(rc.outcome).toBe('culled');
    w.check();
    // TTU_IGNORE_MLOCK (migration, hwpoison) unmaps it anyway.
    const r2 = unmapAt(w.sys, w.mm('B'), w.addr('f'), TTU_UNMAP | TTU_IGNORE_MLOCK | TTU_IGNORE_ACCESS);
    expect(r2.result).toBe('SWAP_SUCCESS');
    w.check();
  });

  it('munlock keeps the page mlocked while another VM_LOCKED VMA maps it (try_to_munlock)', () => {
    const w = new World();
    w.shareFile(['A', 'B'], 'f', 1, 'data');
    w.mlock('A', 'f');
    w.mlock('B', 'f');
    const pfn = w.pfn('A', 'f');
    expect(w.pfn('B', 'f')).toBe(pfn);
    w.munlock('A', 'f');
    expect(w.sys.mem.flags[pfn] & (1 << PG_mlocked)).not.toBe(0);
    w.munlock('B', 'f');
    expect(w.sys.mem.flags[pfn] & (1 << PG_mlocked)).toBe(0);
  });

  it('the munlock walk is try_to_unmap_one’s to 5.13, page_mlock_one’s to 5.17, and no walk the trace shows from 5.18', () => {
    for (const [kernel, rmapOne] of [
      ['5.13', 'try_to_unmap_one'],
      ['5.14', 'page_mlock_one'],
      ['5.18', null],
    ] as const) {
      const w = new World({ kernel });
      w.shareFile(['A', 'B'], 'f', 1, 'data');
      w.mlock('A', 'f');
      w.mlock('B', 'f');
      const pfn = w.pfn('A', 'f');
      const fns: string[] = [];
      w.sys.setTrace((e) => fns.push(e.fn));
      w.munlock('A', 'f');
      w.sys.setTrace(null);
      // B's locked VMA keeps the page mlocked whichever way the release finds it.
      expect(w.sys.mem.flags[pfn] & (1 << PG_mlocked), kernel).not.toBe(0);
      if (rmapOne) expect(fns, kernel).toContain(rmapOne);
      else
        expect(
          fns.filter((f) => f.startsWith('rmap_walk')),
          kernel,
        ).toEqual([]);
      expect(fns, kernel).toContain(kernel === '5.18' ? 'munlock_page' : 'munlock_vma_page');
      w.check();
    }
  });

  it('a young PTE gives SWAP_FAIL and is aged; the next try succeeds (4.9), 6.12 has no young check', () => {
    for (const kernel of ['4.9', '6.12'] as const) {
      const w = new World({ kernel });
      w.spawn('P');
      w.mmap('P', 'heap', 1);
      w.write('P', 'heap');
      expect(w.pte('P', 'heap').bits & PTE_YOUNG).not.toBe(0);
      const r = unmapAt(w.sys, w.mm('P'), w.addr('heap'), kernel === '4.9' ? TTU_UNMAP : 0);
      w.check();
      if (kernel === '4.9') {
        expect(r.result).toBe('SWAP_FAIL');
        expect(w.pte('P', 'heap').bits & (PTE_PRESENT | PTE_YOUNG)).toBe(PTE_PRESENT);
        expect(unmapAt(w.sys, w.mm('P'), w.addr('heap'), TTU_UNMAP).result).toBe('SWAP_SUCCESS');
      } else expect(r.result).toBe('void; folio_mapped() = false');
      // 6.12 remembers in the swap PTE that the page was exclusive (swap-pte-exclusive-marker).
      expect(w.pte('P', 'heap').bits).toBe(kernel === '4.9' ? PTE_SWAP : PTE_SWAP | PTE_SWP_EXCLUSIVE);
      w.check();
    }
  });

  it('6.12 refuses the 4.9-only flags before it changes anything', () => {
    const w = forkedFamily('6.12');
    const pfn = w.pfn('P', 'heap');
    expect(() => unmapAt(w.sys, w.mm('P'), w.addr('heap'), TTU_IGNORE_ACCESS)).toThrow(
      /^TTU_IGNORE_ACCESS: not a try_to_unmap flag in Linux 6.12; it is in 4.9–4.11 \(0x200\), 4.12–5.10 \(0x10\)/,
    );
    expect(w.sys.mem.flags[pfn] & (1 << PG_swapcache)).toBe(0);
    w.check();
  });

  it('invalid_vma skips a VMA: custom walk, and migration skipping exec’s temporary stack', () => {
    const w = forkedFamily();
    const pfn = w.pfn('P', 'heap');
    const skip = w.vma('C1', 'heap');
    const seen: string[] = [];
    const rwc: RmapWalkControl<string[]> = {
      arg: seen,
      name: 'collect_one',
      rmapOne: (_sys, _pfn, vma, _addr, arg) => {
        arg.push(vma.vmMm.owner.name);
        return SWAP_AGAIN;
      },
      done: null,
      anonLock: null,
      invalidVma: (vma) => vma === skip,
    };
    const log = newWalkLog();
    w.sys.as(w.sys.kswapd, () => rmapWalk(w.sys, pfn, rwc, log));
    expect(seen).toEqual(['P', 'C2']);
    expect(log.visits.map((v) => v.result)).toEqual([SWAP_AGAIN, 'skipped', SWAP_AGAIN]);
    w.check();
    skip.vmFlags |= VM_GROWSDOWN | VM_STACK_INCOMPLETE_SETUP;
    const r = migrateAt(w.sys, w.mm('P'), w.addr('heap'));
    expect(r.unmap).toBe('SWAP_AGAIN');
    expect(r.rc).toBe('EAGAIN');
    expect(r.unmapWalk.visits.map((v) => v.result)).toEqual(['SWAP_AGAIN', 'skipped', 'SWAP_AGAIN']);
    for (const p of ['P', 'C1', 'C2']) expect(w.pfn(p, 'heap')).toBe(pfn);
    w.check();
  });

  it('done stops the walk early: try_to_unmap stops once the page is unmapped', () => {
    const w = forkedFamily();
    w.write('C2', 'heap'); // C2 copies: its AVC stays in AV(P)'s tree but maps another page
    w.write('C1', 'heap');
    const pfn = w.pfn('P', 'heap');
    const r = unmapAt(w.sys, w.mm('P'), w.addr('heap'), TTU_UNMAP | TTU_IGNORE_ACCESS);
    w.check();
    expect(r.result).toBe('SWAP_SUCCESS');
    expect(r.walk.stop).toBe('done');
    expect(r.walk.visits.map((v) => v.process)).toEqual(['P']);
    // A walk with no done() goes on to the COWed children, whose PTEs do not map the page.
    w.read('P', 'heap');
    const walk = walkAt(w.sys, w.mm('P'), w.addr('heap'));
    expect(walk.walk.visits.map((v) => [v.process, v.pte])).toEqual([
      ['P', 'found'],
      ['C1', 'none'],
      ['C2', 'none'],
    ]);
    expect(walk.pfn).toBe(pfn);
    w.check();
  });

  it('a file page shared by three processes: walk, referenced, mkclean, unmap, reclaim and refault', () => {
    const w = new World();
    w.shareFile(['A', 'B', 'C'], 'f', 4, 'data');
    w.write('A', 'f', 1);
    w.read('B', 'f', 1);
    w.read('C', 'f', 1);
    const pfn = w.pfn('A', 'f', 1);
    const content = w.sys.mem.content[pfn];
    const locks: string[] = [];
    w.sys.setTrace((e) => e.kind === 'lock' && locks.push(e.msg));
    const walk = walkAt(w.sys, w.mm('B'), w.addr('f', 1));
    w.sys.setTrace(null);
    expect(walk.walk.kind).toBe('file');
    expect(walk.walk.visits.map((v) => [v.process, v.address, v.pte])).toEqual(
      ['A', 'B', 'C'].map((p) => [p, w.addr('f', 1), 'found']),
    );
    expect(locks).toContain('took data->i_mmap_rwsem (read)');
    const ref = w.sys.as(w.sys.kswapd, () => pageReferenced(w.sys, pfn, false));
    expect(ref.referenced).toBe(3);
    expect(w.sys.as(w.sys.kswapd, () => pageReferenced(w.sys, pfn, false)).referenced).toBe(0);
    const cleaned = locked(w, pfn, () => pageMkclean(w.sys, pfn));
    expect(cleaned).toBe(1); // only A's PTE was dirty and writable
    expect(w.pte('A', 'f', 1).bits & PTE_WRITE).toBe(0);
    w.check();
    const r = reclaimAt(w.sys, w.mm('A'), w.addr('f', 1));
    w.check();
    expect(r.outcome).toBe('freed');
    expect(r.wrote).toBe(true);
    for (const p of ['A', 'B', 'C']) expect(w.pte(p, 'f', 1).bits).toBe(0);
    expect(w.sys.mem.isAllocated(pfn)).toBe(false);
    w.read('C', 'f', 1);
    expect(w.sys.mem.content[w.pfn('C', 'f', 1)]).toBe(content);
  });

  it('reclaim without swap keeps an anonymous page mapped (activate)', () => {
    const w = forkedFamily('4.9', 0);
    const r1 = reclaimAt(w.sys, w.mm('P'), w.addr('heap'));
    expect(r1.outcome).toBe('activated');
    const r2 = reclaimAt(w.sys, w.mm('P'), w.addr('heap'));
    expect(r2.outcome).toBe('activated');
    expect(r2.reason).toMatch(/add_to_swap/);
    expect(r2.unmap).toBeNull();
    for (const p of ['P', 'C1', 'C2']) expect(w.pfn(p, 'heap')).toBeGreaterThan(0);
    w.check();
  });

  it('page_referenced stops at a VM_LOCKED VMA and reports VM_LOCKED', () => {
    const w = new World();
    w.spawn('P');
    w.mmap('P', 'heap', 1);
    w.mlock('P', 'heap');
    w.fork('P', 'C');
    const pfn = w.pfn('P', 'heap');
    const log = newWalkLog();
    const r = w.sys.as(w.sys.kswapd, () => pageReferenced(w.sys, pfn, false, log));
    expect(r.vmFlags & VM_LOCKED).not.toBe(0);
    expect(log.visits.map((v) => v.result)).toEqual([SWAP_FAIL]);
    expect(readPte(w.mm('C'), w.addr('heap')).pfn).toBe(pfn);
    w.check();
    const u = unmapAt(w.sys, w.mm('P'), w.addr('heap'), TTU_UNMAP);
    expect(u.result).toBe('SWAP_MLOCK');
    expect(u.walk.visits.length).toBe(1);
    expect(SWAP_MLOCK).toBe(3);
    w.check();
  });
});
