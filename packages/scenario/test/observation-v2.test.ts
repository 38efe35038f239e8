import { describe, expect, it } from 'vitest';
import { type Observation, runScenario } from '../src/index.js';

/** The observations of a scenario, with the invariant checker on. */
function observations(text: string): Observation[] {
  const out: Observation[] = [];
  for (const s of runScenario(text, { check: true })) if (s.observation) out.push(s.observation);
  return out;
}

/** A VMA as one line: `heap:0..1 rw account,nohugepage`. */
function vmaLines(obs: Observation, proc: string): string[] {
  return obs.vmas![proc].map((v) => `${v.region}:${v.first}..${v.last} ${v.prot} ${v.flags.join(',')}`);
}

describe('observation, contract v2: vmas', () => {
  it("lists each live process's VMAs in address order, with their protection and flags", () => {
    const [split, merged, after] = observations(`
set kernel 6.18
spawn A
A: mmap heap 4 anon private
A: mmap lib 3 file:libc private
A: write heap 0
A: mprotect heap 1 2 r
A: mlock lib
A: madvise heap mergeable
observe
A: mprotect heap 1 2 rw
A: fork B
observe
B: munmap heap 0 1
A: exit
observe
`);
    expect(Object.keys(split.vmas!)).toEqual(['A']);
    expect(vmaLines(split, 'A')).toEqual([
      'heap:0..0 rw mergeable,account,nohugepage',
      'heap:1..2 r mergeable,account,nohugepage',
      'heap:3..3 rw mergeable,account,nohugepage',
      'lib:0..2 rw locked,account,nohugepage',
    ]);
    // The three parts merge back; the child inherits the VMAs, not the lock (dup_mmap clears VM_LOCKED).
    expect(vmaLines(merged, 'A')).toEqual([
      'heap:0..3 rw mergeable,account,nohugepage',
      'lib:0..2 rw locked,account,nohugepage',
    ]);
    expect(vmaLines(merged, 'B')).toEqual([
      'heap:0..3 rw mergeable,account,nohugepage',
      'lib:0..2 rw account,nohugepage',
    ]);
    // An exited process is not listed; an unmapped page is in no VMA.
    expect(Object.keys(after.vmas!)).toEqual(['B']);
    expect(vmaLines(after, 'B')).toEqual([
      'heap:1..3 rw mergeable,account,nohugepage',
      'lib:0..2 rw account,nohugepage',
    ]);
  });

  it('names a VMA by the region whose pages it holds, wherever mremap moved them', () => {
    const [moved, gone] = observations(`
spawn A
A: mmap a 2 anon private
A: mmap b 2 anon shared
A: mremap a move
A: madvise b hugepage
observe
A: munmap a
observe
`);
    // `a` now lies above `b`, so it comes second; a shared mapping is not accounted (shmem is).
    expect(vmaLines(moved, 'A')).toEqual(['b:0..1 rw hugepage', 'a:0..1 rw account,nohugepage']);
    expect(vmaLines(gone, 'A')).toEqual(['b:0..1 rw hugepage']);
  });
});

describe('observation, contract v2: ksm', () => {
  it('appears once `ksm` has run, with the counters as they stand at each observe', () => {
    const [before, merged, exited, dropped] = observations(`
set kernel 6.18
spawn A
spawn B
A: mmap m 2 anon private
B: mmap m 2 anon private
A: write m 0..1 same
B: write m 0..1 same
A: madvise m mergeable
B: madvise m mergeable
observe
ksm
observe
B: exit
observe
ksm
observe
`);
    expect(before.ksm).toBeUndefined();
    const counters = {
      pages_shared: 1,
      pages_sharing: 3,
      pages_unshared: 0,
      stable_node_chains: 0,
      stable_node_dups: 0,
    };
    expect(merged.ksm).toEqual(counters);
    // ksmd does not run between `ksm` statements: the exited B's rmap_items still count.
    expect(exited.ksm).toEqual(counters);
    expect(dropped.ksm).toEqual({ ...counters, pages_sharing: 1 });
  });
});
