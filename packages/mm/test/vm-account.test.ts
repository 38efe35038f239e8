/**
 * VM_ACCOUNT: which VMAs carry it (accountable_mapping, mprotect_fixup), that every other operation
 * keeps it, and its one visible effect — VMAs that differ in it do not merge, which since 6.7
 * (mprotect-unaccount-unfaulted) happens to an unfaulted private anonymous VMA made read-only.
 */
import { describe, expect, it } from 'vitest';
import {
  MAP_PRIVATE,
  PAGE_SIZE,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  sysMmap,
  VM_ACCOUNT,
  VM_MERGEABLE,
  VM_WRITE,
  type VmArea,
} from '../src/index.js';
import { World } from './helpers.js';
import { madvise, mlock, mprotect, mremap, munlock } from './ops.js';

const RW = PROT_READ | PROT_WRITE;

function accounted(v: VmArea): boolean {
  return (v.vmFlags & VM_ACCOUNT) !== 0;
}

/** Each VMA of a process as [first page, pages, accounted], pages counted from `region`'s start. */
function layout(w: World, p: string, region: string): [number, number, boolean][] {
  const base = w.addr(region, 0);
  return [...w.mm(p).vmas()].map((v) => [(v.vmStart - base) / PAGE_SIZE, v.pages, accounted(v)]);
}

describe('VM_ACCOUNT', () => {
  it('mmap sets it on private writable mappings only (accountable_mapping)', () => {
    const w = new World();
    w.spawn('A');
    expect(accounted(w.mmap('A', 'anon', 2))).toBe(true);
    expect(accounted(w.mmap('A', 'shm', 2, 'anon', true))).toBe(false);
    expect(accounted(w.mmap('A', 'priv', 2, 'data'))).toBe(true);
    expect(accounted(w.mmap('A', 'shared', 2, 'data', true))).toBe(false);
    const ro = sysMmap(w.sys, w.mm('A'), {
      addr: 0x30000000000,
      len: PAGE_SIZE,
      prot: PROT_READ,
      flags: MAP_PRIVATE,
    });
    expect(accounted(ro)).toBe(false);
  });

  it('mprotect charges a private mapping that becomes writable, in every release', () => {
    for (const kernel of ['4.9', '6.18']) {
      const w = new World({ kernel });
      w.spawn('A');
      const addr = 0x30000000000;
      sysMmap(w.sys, w.mm('A'), { addr, len: 2 * PAGE_SIZE, prot: PROT_READ, flags: MAP_PRIVATE });
      w.regions.set('ro', { addr, pages: 2 });
      mprotect(w, 'A', 'ro', 0, 2, RW);
      expect(layout(w, 'A', 'ro'), kernel).toEqual([[0, 2, true]]);
      // A shared mapping made writable is not charged (its object accounts for itself).
      w.mmap('A', 'shm', 2, 'anon', true);
      mprotect(w, 'A', 'shm', 0, 2, PROT_READ);
      mprotect(w, 'A', 'shm', 0, 2, RW);
      expect(accounted(w.vma('A', 'shm')), kernel).toBe(false);
    }
  });

  it.each([
    ['4.9', true],
    ['6.6', true],
    ['6.7', false],
    ['6.18', false],
  ])('under %s, an unfaulted anonymous VMA made read-only keeps VM_ACCOUNT: %s', (kernel, keeps) => {
    const w = new World({ kernel });
    w.spawn('A');
    w.mmap('A', 'h', 4);
    mprotect(w, 'A', 'h', 2, 2, PROT_READ);
    expect(layout(w, 'A', 'h')).toEqual([
      [0, 2, true],
      [2, 2, keeps],
    ]);
    // A faulted VMA, or a file VMA, keeps it whatever the release.
    w.write('A', 'h', 0);
    mprotect(w, 'A', 'h', 0, 1, PROT_NONE);
    expect(accounted(w.vma('A', 'h', 0))).toBe(true);
    w.mmap('A', 'f', 2, 'data');
    mprotect(w, 'A', 'f', 0, 2, PROT_READ);
    expect(accounted(w.vma('A', 'f'))).toBe(true);
  });

  it('6.7+: the unaccounted part no longer merges with an accounted neighbour (seed 6065)', () => {
    // [3,4) is made inaccessible before the first fault, [0,3) then faults: [2,3) and [3,4) both
    // end up read-only, one accounted (it has an anon_vma) and one not, so they stay apart.
    const merges = (kernel: string) => {
      const w = new World({ kernel });
      w.spawn('A');
      w.mmap('A', 'r', 4);
      mprotect(w, 'A', 'r', 3, 1, PROT_NONE);
      w.write('A', 'r', 0);
      mprotect(w, 'A', 'r', 2, 2, PROT_READ);
      return layout(w, 'A', 'r');
    };
    expect(merges('6.6')).toEqual([
      [0, 2, true],
      [2, 2, true],
    ]);
    expect(merges('6.18')).toEqual([
      [0, 2, true],
      [2, 1, true],
      [3, 1, false],
    ]);
  });

  it('made writable again, the part is charged again and merges back', () => {
    const w = new World({ kernel: '6.18' });
    w.spawn('A');
    w.mmap('A', 'h', 4);
    mprotect(w, 'A', 'h', 1, 2, PROT_READ);
    expect(layout(w, 'A', 'h')).toEqual([
      [0, 1, true],
      [1, 2, false],
      [3, 1, true],
    ]);
    mprotect(w, 'A', 'h', 1, 2, RW);
    expect(layout(w, 'A', 'h')).toEqual([[0, 4, true]]);
    expect(w.vma('A', 'h').vmFlags & VM_WRITE).toBe(VM_WRITE);
  });

  it('fork, mremap, mlock, munlock and madvise keep it, on both sides of every split and merge', () => {
    const w = new World({ kernel: '6.18' });
    w.spawn('A');
    w.mmap('A', 'h', 4);
    w.write('A', 'h', 1);
    w.mmap('A', 'far', 1);
    w.munmap('A', 'far', 0, 1);
    mlock(w, 'A', 'h');
    munlock(w, 'A', 'h');
    madvise(w, 'A', 'h', 'mergeable');
    mremap(w, 'A', 'h', 8);
    mremap(w, 'A', 'h', 8, 'far');
    mprotect(w, 'A', 'h', 2, 2, PROT_READ);
    w.fork('A', 'B');
    for (const p of ['A', 'B']) {
      const vmas = [...w.mm(p).vmas()];
      expect(vmas.length, p).toBe(3);
      for (const v of vmas) {
        expect(accounted(v), `${p} ${v.name}`).toBe(true);
        expect(v.vmFlags & VM_MERGEABLE, `${p} ${v.name}`).not.toBe(0);
      }
    }
  });
});
