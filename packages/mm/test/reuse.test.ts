/**
 * anon_vma reuse in anon_vma_clone(): the 4.9 degree rule and the 6.12 num_children /
 * num_active_vmas rule (kernel-rmap.md §2.2; history.md §5, §6 — CVE-2022-42703).
 */
import { describe, expect, it } from 'vitest';
import { World } from './helpers.js';

/** A forks B, B forks C (each writes its page first, so every VMA has an anon_vma), B exits. */
function chainWithExitedMiddle(kernel: '4.9' | '6.12'): World {
  const w = new World({ kernel });
  w.spawn('A');
  w.mmap('A', 'h', 2);
  w.write('A', 'h', 0);
  w.fork('A', 'B');
  w.write('B', 'h', 0);
  w.fork('B', 'C');
  w.write('C', 'h', 0);
  return w;
}

describe('double reuse (kernel-rmap.md §2.2, CVE-2022-42703)', () => {
  it('4.9: D reuses the exited B’s anon_vma, then E reuses C’s anon_vma while C’s VMA still uses it', () => {
    const w = chainWithExitedMiddle('4.9');
    const avA = w.vma('A', 'h').anonVma!;
    const avB = w.vma('B', 'h').anonVma!;
    const avC = w.vma('C', 'h').anonVma!;
    expect(new Set([avA, avB, avC]).size).toBe(3);
    w.exit('B');
    expect(avB.freed).toBe(false); // C's AVC is still in its tree
    expect(avB.degree).toBe(1); // the child link to AV_C only
    w.fork('C', 'D');
    const vD = w.vma('D', 'h');
    expect(vD.anonVma).toBe(avB); // intended reuse: no VMA, one child
    expect(avB.degree).toBe(2);
    expect(avC.degree).toBe(1); // C's VMA only: looks like "one child" to the 4.9 rule
    const before = w.sys.anonVmas.size;
    w.fork('D', 'E');
    const vC = w.vma('C', 'h');
    const vE = w.vma('E', 'h');
    expect(vE.anonVma).toBe(vC.anonVma); // the double reuse
    expect(vE.anonVma).toBe(avC);
    expect(vC.vmMm.dead).toBe(false);
    expect(w.sys.mms.has(vC.vmMm)).toBe(true);
    expect(w.sys.anonVmas.size).toBe(before); // no anon_vma was allocated for E
    expect(avC.degree).toBe(2);
    // Page writes by E now go to an anon_vma that C's live VMA also uses, though their chains differ.
    w.write('E', 'h', 1);
    expect(w.sys.mem.mapping[w.pfn('E', 'h', 1)]).toBe(avC);
  });

  it('6.12: D still reuses the exited B’s anon_vma, but E gets a fresh one', () => {
    const w = chainWithExitedMiddle('6.12');
    const avB = w.vma('B', 'h').anonVma!;
    const avC = w.vma('C', 'h').anonVma!;
    w.exit('B');
    expect(avB.numChildren).toBe(1);
    expect(avB.numActiveVmas).toBe(0);
    w.fork('C', 'D');
    expect(w.vma('D', 'h').anonVma).toBe(avB);
    expect(avC.numActiveVmas).toBe(1);
    const before = w.sys.anonVmas.size;
    w.fork('D', 'E');
    const avE = w.vma('E', 'h').anonVma!;
    expect(avE).not.toBe(avC);
    expect(avE).not.toBe(avB);
    expect(w.sys.anonVmas.size).toBe(before + 1);
    expect(avE.parent).toBe(avB); // D's anon_vma
    expect(avE.root).toBe(w.vma('A', 'h').anonVma);
    expect(avE.numActiveVmas).toBe(1);
    expect(avB.numChildren).toBe(2); // AV_C and AV_E
  });

  /**
   * history.md §6, "double reuse within one fork": P forks A, A forks B, A exits, B forks C (C
   * reuses AV_A, so AV_B is in C's chain without being its anon_vma), B exits (AV_B: no VMA, no
   * child), C's VMA is split in two, C forks D: each of D's two VMAs looks for an anon_vma to reuse.
   */
  function splitFork(kernel: '4.9' | '6.12') {
    const w = new World({ kernel });
    w.spawn('P');
    w.mmap('P', 'h', 3);
    w.write('P', 'h', 0);
    w.fork('P', 'A');
    w.write('A', 'h', 0);
    w.fork('A', 'B');
    w.write('B', 'h', 0);
    const avA = w.vma('A', 'h').anonVma!;
    const avB = w.vma('B', 'h').anonVma!;
    w.exit('A');
    w.fork('B', 'C');
    expect(w.vma('C', 'h').anonVma).toBe(avA);
    w.exit('B');
    w.munmap('C', 'h', 1, 1);
    expect([...w.mm('C').vmas()]).toHaveLength(2);
    w.fork('C', 'D');
    return { avB, dVmas: [...w.mm('D').vmas()] };
  }

  it('4.9: both halves reuse the abandoned anon_vma (degree 0 → 1 → 2)', () => {
    const { avB, dVmas } = splitFork('4.9');
    expect(dVmas.map((v) => v.anonVma)).toEqual([avB, avB]);
    expect(avB.degree).toBe(2);
  });

  it('6.12: only the first half reuses it; the second gets a new anon_vma', () => {
    const { avB, dVmas } = splitFork('6.12');
    expect(dVmas[0].anonVma).toBe(avB);
    expect(dVmas[1].anonVma).not.toBe(avB);
    expect(avB.numActiveVmas).toBe(1);
  });
});

describe('endless anon_vma growth (history.md §5)', () => {
  /**
   * A respawning daemon: each generation forks, the child COWs a page, the parent exits. Returns the
   * number of live anon_vmas and the chain length of the live VMA after each generation.
   */
  function respawn(kernel: '4.9' | '6.12', generations: number): { anonVmas: number[]; chain: number[] } {
    const w = new World({ kernel });
    w.spawn('g0');
    w.mmap('g0', 'h', 4);
    w.write('g0', 'h', 0);
    const anonVmas: number[] = [];
    const chain: number[] = [];
    for (let g = 1; g <= generations; g++) {
      w.fork(`g${g - 1}`, `g${g}`);
      w.exit(`g${g - 1}`);
      w.write(`g${g}`, 'h', g % 4);
      anonVmas.push(w.sys.anonVmas.size);
      chain.push(w.vma(`g${g}`, 'h').anonVmaChain.length);
    }
    return { anonVmas, chain };
  }

  it.each(['4.9', '6.12'] as const)('%s: the anon_vma count and the chain length stay bounded', (kernel) => {
    const { anonVmas, chain } = respawn(kernel, 50);
    // The exited parent's anon_vma (one child, no VMA) is reused by the next fork.
    expect(Math.max(...anonVmas)).toBeLessThanOrEqual(3);
    expect(Math.max(...chain)).toBeLessThanOrEqual(3);
    expect(anonVmas.slice(10)).toEqual(anonVmas.slice(9, -1)); // steady state
  });

  it('without the exit the family grows by one anon_vma per fork (the reuse rule needs an abandoned one)', () => {
    const w = new World();
    w.spawn('g0');
    w.mmap('g0', 'h', 1);
    w.write('g0', 'h', 0);
    for (let g = 1; g <= 10; g++) w.fork(`g${g - 1}`, `g${g}`);
    expect(w.sys.anonVmas.size).toBe(11);
    expect(w.vma('g10', 'h').anonVmaChain).toHaveLength(11);
  });
});
