import { describe, expect, it } from 'vitest';
import {
  checkInvariants,
  InvariantError,
  ksmCounters,
  ksmDoScan,
  ksmExternalRefs,
  ksmState,
  PageAnon,
  PageKsm,
  PG_dirty,
  PTE_DIRTY,
  PTE_WRITE,
  pageStableNode,
  readPte,
  STABLE_NODE_CHAINS_PRUNE_MILLISECS,
} from '../src/index.js';
import { KsmWorld } from './ksm-helpers.js';

/** spawn A and B, each `mmap m 2`, page 0 = `same`, page 1 unique, both mergeable (kernel-facts §F7). */
function twoProcesses(kernel: '4.9' | '6.12' = '4.9'): KsmWorld {
  const w = new KsmWorld({ kernel, ksmMaxSharing: kernel === '6.12' ? 256 : Number.POSITIVE_INFINITY });
  for (const p of ['A', 'B']) {
    w.spawn(p);
    w.mmap(p, 'm', 2);
    w.put(p, 'm', 0, 'same');
    w.put(p, 'm', 1, `unique-${p}`);
  }
  w.madvise('A', 'm', 'mergeable');
  w.madvise('B', 'm', 'mergeable');
  return w;
}

describe('KSM merge (kernel-rmap.md §7.6)', () => {
  it('needs two scans; the later-scanned page becomes the KSM page of mapcount 2', () => {
    const w = twoProcesses();
    const pa = w.pfn('A', 'm', 0);
    const pb = w.pfn('B', 'm', 0);
    const avA = w.vma('A', 'm').anonVma!;
    const avB = w.vma('B', 'm').anonVma!;
    w.scan();
    expect(w.pfn('A', 'm', 0)).toBe(pa);
    expect(ksmCounters(w.sys).pagesShared).toBe(0);
    w.scan();
    const mem = w.sys.mem;
    expect(w.pfn('A', 'm', 0)).toBe(pb);
    expect(w.pfn('B', 'm', 0)).toBe(pb);
    expect(mem.isAllocated(pa)).toBe(false);
    expect(PageKsm(mem, pb)).toBe(true);
    expect(PageAnon(mem, pb)).toBe(true);
    expect(w.mapcount(pb)).toBe(2);
    expect(mem.refcount[pb]).toBe(2);
    expect(mem.flags[pb] & (1 << PG_dirty)).not.toBe(0);
    for (const p of ['A', 'B'])
      expect(readPte(w.mm(p), w.addr('m', 0)).bits & (PTE_WRITE | PTE_DIRTY)).toBe(0);
    const node = pageStableNode(mem, pb)!;
    expect(node.kpfn).toBe(pb);
    expect([...node.items()].map((i) => i.mm)).toEqual([w.mm('B'), w.mm('A')]);
    expect([...node.items()].map((i) => i.anonVma)).toEqual([avB, avA]);
    expect(avA.refcount).toBe(2);
    expect(avB.refcount).toBe(2);
    const c = ksmCounters(w.sys);
    expect([c.pagesShared, c.pagesSharing, c.pagesUnshared, c.fullScans]).toEqual([1, 1, 2, 2]);
    // The unique pages stay as they were.
    expect(PageKsm(mem, w.pfn('A', 'm', 1))).toBe(false);
  });

  it('a write gives the writer a private copy; the KSM page keeps mapcount 1 and its ksm flag', () => {
    const w = twoProcesses();
    w.ksm();
    const k = w.pfn('B', 'm', 0);
    w.put('A', 'm', 0, 'other');
    const copy = w.pfn('A', 'm', 0);
    expect(copy).not.toBe(k);
    expect(PageKsm(w.sys.mem, copy)).toBe(false);
    expect(w.mapcount(k)).toBe(1);
    expect(PageKsm(w.sys.mem, k)).toBe(true);
    // Until ksmd passes, A's rmap_item still counts as sharing.
    expect(ksmCounters(w.sys).pagesSharing).toBe(1);
    w.ksm();
    expect(ksmCounters(w.sys).pagesSharing).toBe(0);
    expect(ksmCounters(w.sys).pagesShared).toBe(1);
    expect(PageKsm(w.sys.mem, k)).toBe(true);
  });

  it('a third process joins the KSM page: at once under 4.9, after the checksum scan under 6.12', () => {
    for (const kernel of ['4.9', '6.12'] as const) {
      const w = twoProcesses(kernel);
      w.ksm();
      const k = w.pfn('B', 'm', 0);
      w.spawn('C');
      w.mmap('C', 'm', 2);
      w.put('C', 'm', 0, 'same');
      w.madvise('C', 'm', 'mergeable');
      w.scan();
      expect(w.pfn('C', 'm', 0) === k).toBe(kernel === '4.9');
      w.scan();
      expect(w.pfn('C', 'm', 0)).toBe(k);
      expect(w.mapcount(k)).toBe(3);
      expect(ksmCounters(w.sys).pagesSharing).toBe(2);
    }
  });

  it('a child forked after the merge maps the KSM page and gets its own rmap_item on the next scan', () => {
    const w = twoProcesses();
    w.ksm();
    const k = w.pfn('B', 'm', 0);
    w.fork('B', 'D');
    expect(w.pfn('D', 'm', 0)).toBe(k);
    expect(w.mapcount(k)).toBe(3);
    expect(ksmCounters(w.sys).pagesSharing).toBe(1);
    w.ksm();
    expect(ksmCounters(w.sys).pagesSharing).toBe(2);
    expect([...pageStableNode(w.sys.mem, k)!.items()].map((i) => i.mm)).toContain(w.mm('D'));
  });

  it('MADV_UNMERGEABLE unmerges at once: an ordinary anonymous page with a new PFN', () => {
    const w = twoProcesses();
    w.ksm();
    const k = w.pfn('B', 'm', 0);
    w.madvise('B', 'm', 'unmergeable');
    const p = w.pfn('B', 'm', 0);
    expect(p).not.toBe(k);
    expect(PageKsm(w.sys.mem, p)).toBe(false);
    expect(w.sys.mem.content[p]).toBe(w.sys.contentFor('same'));
    expect(w.mapcount(k)).toBe(1);
    w.ksm();
    expect(w.pfn('B', 'm', 0)).toBe(p);
  });

  it('zero-page PTEs are left alone; zero-filled anonymous pages merge into one KSM page', () => {
    const w = new KsmWorld();
    for (const p of ['A', 'B']) {
      w.spawn(p);
      w.mmap(p, 'z', 4);
      w.mmap(p, 'r', 2);
      for (let i = 0; i < 4; i++) w.write(p, 'z', i);
      w.read(p, 'r', 0);
      w.madvise(p, 'z', 'mergeable');
      w.madvise(p, 'r', 'mergeable');
    }
    w.ksm();
    const k = w.pfn('A', 'z', 0);
    expect(PageKsm(w.sys.mem, k)).toBe(true);
    expect(w.mapcount(k)).toBe(8);
    expect(readPte(w.mm('A'), w.addr('r', 0)).pfn).toBe(0);
  });

  it('exit leaves the mm_slot and its rmap_items to ksmd, which drops them when it next passes', () => {
    const w = twoProcesses();
    w.ksm();
    const merged = ksmCounters(w.sys);
    expect(merged.pagesSharing).toBe(1);
    const a = w.mm('A');
    w.exit('A');
    // __ksm_exit moved A's slot to the front (the cursor is between scans), items and counters kept.
    const k = ksmState(w.sys);
    expect([...k.mmSlots()].map((s) => s.mm)).toEqual([a, w.mm('B')]);
    expect(ksmCounters(w.sys)).toEqual(merged);
    w.ksm();
    expect(k.slots.has(a)).toBe(false);
    expect(ksmCounters(w.sys).pagesSharing).toBe(0);
    w.exit('B');
    // B's items keep its anon_vma until ksmd passes; then nothing is left.
    expect(k.slots.size).toBe(1);
    expect(w.sys.anonVmas.size).toBe(1);
    w.ksm();
    expect(k.slots.size).toBe(0);
    expect(w.sys.anonVmas.size).toBe(0);
    expect(w.sys.mem.allocated).toBe(0);
  });

  it('mid-scan, an exiting slot moves right after the cursor; the slot under the cursor stays put', () => {
    const w = twoProcesses();
    w.spawn('C');
    w.mmap('C', 'm', 2);
    w.put('C', 'm', 0, 'same');
    w.madvise('C', 'm', 'mergeable');
    const [a, b, c] = ['A', 'B', 'C'].map((p) => w.mm(p));
    const k = ksmState(w.sys);
    w.ksm(); // every slot has rmap_items
    ksmDoScan(w.sys, 1); // a new pass: the cursor is on A's slot
    expect(k.scanSlot?.mm).toBe(a);
    w.exit('C');
    expect([...k.mmSlots()].map((s) => s.mm)).toEqual([a, c, b]);
    w.exit('A');
    expect([...k.mmSlots()].map((s) => s.mm)).toEqual([a, c, b]);
    w.ksm();
    expect([...k.mmSlots()].map((s) => s.mm)).toEqual([b]);
  });

  it('the invariant checker catches a KSM PTE that no walk reaches, unless ksmd is still running', () => {
    const w = twoProcesses();
    w.ksm();
    w.fork('A', 'C'); // C maps the KSM page at m:0, reached through A's rmap_item
    w.exit('A');
    // ksmd's first step drops the exited A's items, then scans B's m:0: C is not reached now,
    // as on Linux until ksmd gives C an rmap_item of its own.
    ksmDoScan(w.sys, 1);
    expect(ksmState(w.sys).slots.has(w.mm('C'))).toBe(true);
    const check = () => checkInvariants(w.sys, ksmExternalRefs(w.sys));
    check();
    // Settled, the same state is a broken invariant.
    ksmState(w.sys).settled = true;
    expect(check).toThrow(InvariantError);
    expect(check).toThrow(/maps KSM pfn \d+ at 0x10000000000 but no rmap_item of SN\d+ leads there/);
    w.ksm();
    expect(ksmState(w.sys).settled).toBe(true);
    check();
  });

  it('`ksm` stops as rmaplab-kcheck does: 3 full scans, then until 2 more leave the counters as they were', () => {
    const w = twoProcesses();
    expect(w.ksm()).toBe(5); // merged in the second scan: the third is the first look
    expect(w.ksm()).toBe(5);
    w.put('A', 'm', 1, 'same'); // 4.9 searches the stable tree first: merged in the first scan
    expect(w.ksm()).toBe(5);
    expect(ksmCounters(w.sys).pagesSharing).toBe(2);
  });

  it('with no live process to merge, `ksm` runs one full scan, and only while ksmd holds rmap_items', () => {
    const w = twoProcesses();
    w.ksm();
    w.madvise('A', 'm', 'unmergeable');
    w.exit('B');
    const k = ksmState(w.sys);
    expect(k.rmapItems).toBe(4);
    const clock = k.clock;
    expect(w.ksm()).toBe(1);
    expect(k.clock).toBe(clock + 5);
    expect([k.rmapItems, k.slots.size]).toEqual([0, 0]);
    expect(w.ksm()).toBe(0);
    expect(k.clock).toBe(clock + 5);
  });

  it('refused VMA kinds ignore MADV_MERGEABLE', () => {
    const w = new KsmWorld();
    w.spawn('A');
    w.mmap('A', 's', 1, 'anon', true);
    w.madvise('A', 's', 'mergeable');
    expect(w.vma('A', 's').vmFlags & 0x80000000).toBe(0);
    expect(ksmState(w.sys).slots.size).toBe(0);
  });
});

describe('max_page_sharing', () => {
  it('300 identical pages give KSM pages of 256 and 44 under 6.12, one of 300 under 4.9', () => {
    for (const kernel of ['6.12', '4.9'] as const) {
      const w = new KsmWorld({ kernel, ksmMaxSharing: 256 });
      w.spawn('A');
      w.mmap('A', 'm', 300);
      w.check = false;
      for (let i = 0; i < 300; i++) w.put('A', 'm', i, 'same');
      w.check = true;
      w.madvise('A', 'm', 'mergeable');
      w.ksm();
      const pfns = new Map<number, number[]>();
      for (let i = 0; i < 300; i++) {
        const p = w.pfn('A', 'm', i);
        pfns.set(p, [...(pfns.get(p) ?? []), i]);
      }
      const groups = [...pfns.values()];
      const c = ksmCounters(w.sys);
      if (kernel === '6.12') {
        expect(groups.map((g) => [g[0], g.length])).toEqual([
          [0, 256],
          [256, 44],
        ]);
        expect([c.pagesShared, c.pagesSharing, c.stableNodeChains, c.stableNodeDups]).toEqual([2, 298, 1, 2]);
      } else {
        expect(groups.map((g) => g.length)).toEqual([300]);
        expect([c.pagesShared, c.pagesSharing]).toEqual([1, 299]);
      }
    }
  });

  /**
   * A's 300 pages make the chain [SN(256..299), SN(0..255)]; A then rewrites pages 0..9, leaving
   * room in the older dup, and B brings 5 more pages of the same content.
   */
  function chainWithRoom(): KsmWorld {
    const w = new KsmWorld({ kernel: '6.18', ksmMaxSharing: 256 });
    w.spawn('A');
    w.mmap('A', 'm', 300);
    w.check = false;
    for (let i = 0; i < 300; i++) w.put('A', 'm', i, 'same');
    w.madvise('A', 'm', 'mergeable');
    w.ksm();
    for (let i = 0; i < 10; i++) w.put('A', 'm', i, `new-${i}`);
    w.ksm();
    w.spawn('B');
    w.mmap('B', 'b', 5);
    for (let i = 0; i < 5; i++) w.put('B', 'b', i, 'same');
    w.check = true;
    w.madvise('B', 'b', 'mergeable');
    return w;
  }

  it('a chain lookup takes the first dup that has room until stable_node_chains_prune_millisecs have passed', () => {
    const w = chainWithRoom();
    const older = w.pfn('A', 'm', 10);
    const newer = w.pfn('A', 'm', 256);
    const k = ksmState(w.sys);
    const chain = k.stableTree.get(w.sys.contentFor('same'))!;
    expect(chain.dups!.map((d) => d.kpfn)).toEqual([newer, older]);
    w.ksm();
    // Measured on Linux 6.18: B joins the newer dup (44 → 49), not the fuller one with room (246).
    for (let i = 0; i < 5; i++) expect(w.pfn('B', 'b', i)).toBe(newer);
    expect([w.mapcount(older), w.mapcount(newer)]).toEqual([246, 49]);
    // Every `ksm` so far ran 5 full scans of one batch each: 15 turns of ksmd, 5 ms apart.
    expect(k.clock).toBe(15 * 5);
    expect(chain.chainPruneTime).toBe(5);
    const c = ksmCounters(w.sys);
    expect([c.pagesShared, c.pagesSharing, c.pagesUnshared, c.stableNodeChains, c.stableNodeDups]).toEqual([
      2, 293, 10, 1, 2,
    ]);
  });

  it('a pruning lookup takes the fullest dup that has room and moves it to the chain head', () => {
    for (const how of ['interval 0', 'clock past it'] as const) {
      const w = chainWithRoom();
      const older = w.pfn('A', 'm', 10);
      const newer = w.pfn('A', 'm', 256);
      const k = ksmState(w.sys);
      const chain = k.stableTree.get(w.sys.contentFor('same'))!;
      if (how === 'interval 0') k.stableNodeChainsPruneMillisecs = 0;
      else k.clock = chain.chainPruneTime + STABLE_NODE_CHAINS_PRUNE_MILLISECS;
      const before = k.clock;
      w.ksm();
      for (let i = 0; i < 5; i++) expect(w.pfn('B', 'b', i), how).toBe(older);
      expect([w.mapcount(older), w.mapcount(newer)], how).toEqual([251, 44]);
      expect(
        chain.dups!.map((d) => d.kpfn),
        how,
      ).toEqual([older, newer]);
      // B's second pass looked the chain up and pruned it (its first only took the checksums).
      expect(chain.chainPruneTime, how).toBe(before + 5);
    }
  });

  it('1,000 processes sharing one page with max_page_sharing 256 give four KSM pages', () => {
    const w = new KsmWorld({ kernel: '6.12', ksmMaxSharing: 256 });
    w.check = false;
    const names = Array.from({ length: 1000 }, (_, i) => `P${i}`);
    for (const p of names) {
      w.spawn(p);
      w.mmap(p, 'm', 1);
      w.put(p, 'm', 0, 'same');
      w.madvise(p, 'm', 'mergeable');
    }
    w.check = true;
    w.ksm();
    const counts = new Map<number, number>();
    for (const p of names) counts.set(w.pfn(p, 'm', 0), (counts.get(w.pfn(p, 'm', 0)) ?? 0) + 1);
    expect([...counts.values()].sort((a, b) => b - a)).toEqual([256, 256, 256, 232]);
    for (const pfn of counts.keys()) expect(PageKsm(w.sys.mem, pfn)).toBe(true);
    expect(ksmCounters(w.sys).pagesShared).toBe(4);
  });
});
