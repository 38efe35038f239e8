/**
 * PG_anon_exclusive through the rmap clients (5.19): try_to_unmap hands the flag to the swap PTE's
 * marker (swap-pte-exclusive-marker), try_to_migrate to a readable-exclusive or writable migration
 * entry, and remove_migration_pte sets it again (migration-entry-exclusive); fork and mprotect turn
 * such entries of an anonymous page into readable or readable-exclusive ones.
 */
import {
  getPage,
  lockPage,
  PageAnonExclusive,
  PROT_READ,
  PTE_MIGRATION,
  PTE_SWAP,
  PTE_SWP_EXCLUSIVE,
  PTE_WRITE,
  pageAnonVma,
  putPage,
  readPte,
  sysFork,
  sysMprotect,
  unlockPage,
} from '@rmaplab/mm';
import { describe, expect, it } from 'vitest';
import { migrateAt, reclaimAt, removeMigrationPtes, tryToMigrate } from '../src/index.js';
import { World } from './helpers.js';

/** P's page 0 written (exclusive), page 1 written before P forked C (shared); `ro` write-protects page 0. */
function family(kernel: string, ro = false): World {
  const w = new World({ kernel, swapPages: Number.POSITIVE_INFINITY });
  w.spawn('P');
  w.mmap('P', 'h', 2);
  w.write('P', 'h', 1);
  w.fork('P', 'C');
  w.write('P', 'h', 0);
  if (ro) sysMprotect(w.sys, w.mm('P'), w.addr('h'), 4096, PROT_READ);
  w.check();
  return w;
}

/** The bits that tell a migration entry's type (6.1 also keeps young and dirty in it). */
const ENTRY_TYPE = PTE_MIGRATION | PTE_WRITE | PTE_SWP_EXCLUSIVE;

const exclusive = (w: World, p: string, page = 0) => PageAnonExclusive(w.sys.mem, w.pfn(p, 'h', page));

/**
 * try_to_migrate() of the page at P's `page`, leaving the migration entries in place (the
 * migration's own reference and page lock held, as migrate_pages would), then `between`, then
 * remove_migration_ptes() back to the old page (a failed migration). Returns the entry bits seen.
 */
function migrationEntries(w: World, page: number, between: () => void = () => {}): number[] {
  const sys = w.sys;
  const pfn = w.pfn('P', 'h', page);
  const seen: number[] = [];
  sys.as(sys.kswapd, () => {
    getPage(sys, pfn);
    lockPage(sys, pfn);
    tryToMigrate(sys, pfn, 0);
    between();
    for (const p of ['P', 'C']) {
      const bits = w.pte(p, 'h', page).bits;
      if (bits !== 0) seen.push(bits & ENTRY_TYPE);
    }
    removeMigrationPtes(sys, pfn, pfn);
    unlockPage(sys, pfn);
    putPage(sys, pfn);
  });
  w.check();
  return seen;
}

describe('try_to_unmap: the exclusive marker (swap-pte-exclusive-marker, 5.19)', () => {
  it('reclaim of an exclusive page leaves the marker and clears the flag; a shared page gets none', () => {
    for (const [kernel, marker] of [
      ['5.18', 0],
      ['5.19', PTE_SWP_EXCLUSIVE],
    ] as const) {
      const w = family(kernel);
      for (let i = 0; i < 2; i++) reclaimAt(w.sys, w.mm('P'), w.addr('h', 0)); // referenced once, then out
      for (let i = 0; i < 2; i++) reclaimAt(w.sys, w.mm('P'), w.addr('h', 1));
      w.check();
      expect(w.pte('P', 'h', 0).bits, kernel).toBe(PTE_SWAP | marker);
      expect(w.pte('P', 'h', 1).bits, kernel).toBe(PTE_SWAP);
      expect(w.pte('C', 'h', 1).bits, kernel).toBe(PTE_SWAP);
      w.read('P', 'h', 0);
      expect(pageAnonVma(w.sys.mem, w.pfn('P', 'h', 0)), kernel).toBe(w.vma('P', 'h').anonVma);
      expect(exclusive(w, 'P'), kernel).toBe(kernel === '5.19');
    }
  });
});

describe('migration entries (migration-entry-exclusive, 5.19)', () => {
  it('a writable PTE gives a writable entry, an exclusive read-only one a readable-exclusive entry, a shared one a readable entry', () => {
    expect(migrationEntries(family('5.19'), 0)).toEqual([PTE_MIGRATION | PTE_WRITE]);
    expect(migrationEntries(family('5.19', true), 0)).toEqual([PTE_MIGRATION | PTE_SWP_EXCLUSIVE]);
    expect(migrationEntries(family('5.19'), 1)).toEqual([PTE_MIGRATION, PTE_MIGRATION]);
    expect(migrationEntries(family('5.18', true), 0)).toEqual([PTE_MIGRATION]);
  });

  it('the entry hands the flag back: to the new page after a migration, to the old one after a failed one', () => {
    for (const ro of [false, true]) {
      const w = family('6.12', ro);
      const old = w.pfn('P', 'h', 0);
      const r = migrateAt(w.sys, w.mm('P'), w.addr('h', 0));
      w.check();
      expect(r.rc).toBe('MIGRATEPAGE_SUCCESS');
      expect(w.pfn('P', 'h', 0)).toBe(r.newPfn);
      expect(r.newPfn).not.toBe(old);
      expect(exclusive(w, 'P'), `read-only ${ro}`).toBe(true);
      const back = family('6.12', ro);
      migrationEntries(back, 0);
      expect(exclusive(back, 'P'), `read-only ${ro}, undone`).toBe(true);
    }
    const shared = family('6.12');
    migrateAt(shared.sys, shared.mm('P'), shared.addr('h', 1));
    shared.check();
    expect(exclusive(shared, 'P', 1)).toBe(false);
  });

  it('mprotect makes a writable entry of an anonymous page readable-exclusive (5.19), readable before', () => {
    for (const [kernel, bits] of [
      ['5.18', PTE_MIGRATION],
      ['5.19', PTE_MIGRATION | PTE_SWP_EXCLUSIVE],
    ] as const) {
      const w = family(kernel);
      const seen = migrationEntries(w, 0, () => sysMprotect(w.sys, w.mm('P'), w.addr('h'), 4096, PROT_READ));
      expect(seen, kernel).toEqual([bits]);
      expect(exclusive(w, 'P'), kernel).toBe(kernel === '5.19');
      expect(w.pte('P', 'h', 0).bits & PTE_WRITE, kernel).toBe(0);
    }
  });

  it('fork makes the parent’s writable and readable-exclusive entries readable, in both processes', () => {
    for (const ro of [false, true]) {
      const w = family('6.12', ro);
      let child = 0;
      const seen = migrationEntries(w, 0, () => {
        const d = w.sys.as(w.mm('P').owner, () => sysFork(w.sys, w.mm('P'), 'D'));
        child = readPte(d, w.addr('h', 0)).bits & ENTRY_TYPE;
      });
      expect(seen, `read-only ${ro}`).toEqual([PTE_MIGRATION]);
      expect(child, `read-only ${ro}`).toBe(PTE_MIGRATION);
      expect(exclusive(w, 'P'), `read-only ${ro}`).toBe(false); // shared with D now
    }
  });
});
