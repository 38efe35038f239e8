/**
 * Entry points for the scenario language's simulator-only statements (`walk`, `unmap`, `reclaim`,
 * `referenced`, `migrate`, `mkclean`): each acts on the page mapped at (process, address), as the
 * kernel's caller of that rmap client would (isolation reference, page lock, swap slot), and returns
 * a structured report. Reclaim-side operations run as kswapd; migration runs as the process.
 * Results, flags and enum values in reports are written as the selected release has them (codes.ts).
 */
import {
  addToSwap,
  anonVmaLockWrite,
  anonVmaUnlockWrite,
  getPage,
  lockPage,
  type Mm,
  type MmSystem,
  PTE_MIGRATION,
  PTE_PRESENT,
  PTE_SPECIAL,
  PTE_SWAP,
  pageAnonVma,
  putPage,
  type RuleSet,
  readPte,
  trylockPage,
  unlockPage,
  VM_EXEC,
  VM_LOCKED,
  VM_MAYSHARE,
  VM_RAND_READ,
  VM_READ,
  VM_SEQ_READ,
  VM_SHARED,
  VM_WRITE,
  type VmArea,
} from '@rmaplab/mm';
import {
  checkTtuFlags,
  rmapOneWord,
  SWAP_AGAIN,
  TTU_MIGRATION,
  TTU_RMAP_LOCKED,
  TTU_SPLIT_FREEZE,
  ttuFlagNames,
  ttuFlagsValue,
  unmapResultWord,
  VOID,
  walkResultWord,
} from './codes.js';
import { type KernelWarning, kernelWarnings } from './kernel-warn.js';
import { migratePage, removeMigrationPtes } from './migrate.js';
import { pageMkclean } from './page-mkclean.js';
import { pageReferenced } from './page-referenced.js';
import { checkUnmap, unmapAddsToSwap } from './preconditions.js';
import {
  newWalkLog,
  pageCheckAddress,
  pageFileMapping,
  type RmapWalkControl,
  rmapWalk,
  type WalkLog,
} from './rmap-walk.js';
import { tryToUnmap } from './try-to-unmap.js';
import { type ReclaimOutcome, shrinkPage } from './vmscan.js';

/** A statement that cannot act on the page it names (no page there, the zero page, ...). */
export class RmapError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RmapError';
  }
}

/** One VMA of a walk, for people and for the scenario's observations. */
export interface VisitReport {
  mm: number;
  /** The owning task's name (the scenario's process name). */
  process: string;
  vma: number;
  address: number;
  /** The AVC that led there (anon and KSM walks), else null. */
  avc: number | null;
  /** What rmap_one returned, as the release writes it (SWAP_AGAIN; from 4.12 true or false), or 'skipped' (invalid_vma). */
  result: string;
  /** What the PTE probe found ('found' | 'none'), or null when rmap_one did not probe. */
  pte: string | null;
}

/** One rmap walk. */
export interface WalkReport {
  kind: 'anon' | 'file' | 'ksm' | null;
  anonVma: string | null;
  mapping: string | null;
  /** rmap_walk's return value as the release writes it: a SWAP_* name, `void` from 4.12. */
  result: string;
  stop: 'rmap_one' | 'done' | null;
  /** How many VMAs the walk visited: `visits.length`, without building the visits. */
  visited: number;
  /** Built from the walk log when first read (most statements' reports are never shown). */
  readonly visits: VisitReport[];
}

/** Turn a walk log into its report, in the words of `sys`'s release; its visits are built on first read. */
export function walkReportOf(sys: MmSystem, log: WalkLog): WalkReport {
  return new LoggedWalkReport(sys.rules, log);
}

/**
 * A WalkReport over its walk's log. `visits` is a getter of the class, not of each object: an
 * object literal with a getter closing over its log gets a hidden class of its own, kept in old
 * space, which made every scavenge of `rmaplab run --json` ten times slower.
 */
class LoggedWalkReport implements WalkReport {
  kind: WalkReport['kind'];
  anonVma: string | null;
  mapping: string | null;
  result: string;
  stop: WalkReport['stop'];
  visited: number;
  readonly #log: WalkLog;
  readonly #rules: RuleSet;
  #visits: VisitReport[] | undefined;

  constructor(rules: RuleSet, log: WalkLog) {
    this.kind = log.kind;
    this.anonVma = log.anonVma?.name ?? null;
    this.mapping = log.mapping?.name ?? null;
    this.result = walkResultWord(rules, log.result);
    this.stop = log.stop;
    this.visited = log.count;
    this.#log = log;
    this.#rules = rules;
  }

  get visits(): VisitReport[] {
    this.#visits ??= visitReports(this.#rules, this.#log);
    return this.#visits;
  }

  /** Plain data with the visits, which JSON.stringify would leave out (a getter is no own property). */
  toJSON(): WalkReport {
    const { kind, anonVma, mapping, result, stop, visited, visits } = this;
    return { kind, anonVma, mapping, result, stop, visited, visits };
  }
}

function visitReports(rules: RuleSet, log: WalkLog): VisitReport[] {
  return log.visits.map((v) => ({
    mm: v.vma.vmMm.id,
    process: v.vma.vmMm.owner.name,
    vma: v.vma.id,
    address: v.address,
    avc: v.avc?.id ?? null,
    result: v.result === 'skipped' ? 'skipped' : rmapOneWord(rules, v.result),
    pte: v.pte,
  }));
}

/** The frame mapped at `addr` in `mm`, or an RmapError saying why there is none to act on. */
export function pageAt(mm: Mm, addr: number): number {
  const { pfn, bits } = readPte(mm, addr);
  const where = `0x${addr.toString(16)} in ${mm.owner.name}`;
  if (bits === 0) throw new RmapError(`no page is mapped at ${where}`);
  if (bits & PTE_SWAP) throw new RmapError(`the page at ${where} is swapped out`);
  if (bits & PTE_MIGRATION) throw new RmapError(`the page at ${where} is under migration`);
  if (bits & PTE_SPECIAL || !(bits & PTE_PRESENT))
    throw new RmapError(`${where} maps the shared zero page, which has no reverse mapping`);
  return pfn;
}

/** Run `fn` holding an isolation reference and the page lock, as the rmap clients' callers do. */
function withLockedPage<T>(sys: MmSystem, pfn: number, fn: () => T): T {
  getPage(sys, pfn);
  try {
    if (!trylockPage(sys, pfn)) lockPage(sys, pfn);
    try {
      return fn();
    } finally {
      unlockPage(sys, pfn);
    }
  } finally {
    putPage(sys, pfn);
  }
}

/** page_mapped_in_vma() — mm/rmap.c: rmap_one for a walk that only locates the PTE. */
function pageMappedInVma(sys: MmSystem, pfn: number, vma: VmArea, address: number): number {
  const t = pageCheckAddress(sys, pfn, vma, address, true);
  if (t) t.ptl.unlock(sys.current);
  return SWAP_AGAIN;
}

/** What the scenario's `walk` reports: the page and the walk. */
export interface WalkStatementReport {
  pfn: number;
  walk: WalkReport;
}

/**
 * `walk`: rmap_walk() of the page at (mm, addr) with an rmap_one that only probes the PTE
 * (page_check_address), under the page lock, as kswapd. Every VMA visited, in order.
 */
export function walkAt(sys: MmSystem, mm: Mm, addr: number): WalkStatementReport {
  const pfn = pageAt(mm, addr);
  const log = newWalkLog();
  const rwc: RmapWalkControl<null> = {
    arg: null,
    name: 'page_mapped_in_vma',
    rmapOne: pageMappedInVma,
    done: null,
    anonLock: null,
    invalidVma: null,
  };
  sys.as(sys.kswapd, () => withLockedPage(sys, pfn, () => rmapWalk(sys, pfn, rwc, log)));
  return { pfn, walk: walkReportOf(sys, log) };
}

/** What the scenario's `unmap` reports. */
export interface UnmapStatementReport {
  pfn: number;
  /** The flags as the release names them, by value. */
  flags: string[];
  /** Their value in the release's enum ttu_flags. */
  flagsValue: number;
  /**
   * try_to_unmap's result as the release returns it: a SWAP_* name (to 4.11), `true` or `false`
   * (4.12–5.13), or `void; page_mapped() = …` — the caller's test, from 5.14.
   */
  result: string;
  mapcountBefore: number;
  mapcountAfter: number;
  /** The swap slot given to an anonymous page first (0: none given). */
  swapEntry: number;
  walk: WalkReport;
  /** TTU_MIGRATION: the walk that turned the migration entries back into PTEs (no page was moved). */
  restore: WalkReport | null;
  /** The kernel warnings the walk raised (kernel-warn.ts), oldest first. */
  warnings: KernelWarning[];
}

/**
 * `unmap FLAGS`: try_to_unmap(page, flags) as kswapd, holding the page lock and a reference. An
 * anonymous page gets a swap slot first (add_to_swap), as try_to_unmap requires of it unless
 * migrating, freezing or munlocking; TTU_RMAP_LOCKED takes the rmap lock around the call, as the
 * THP split does; the entries of TTU_MIGRATION (and TTU_SPLIT_FREEZE) are then removed again
 * (remove_migration_ptes(page, page)), as __unmap_and_move does when it does not move the page.
 * `flags` are the model's bits, and must all be flags of the release (codes.ts ttuFlags); calls the
 * kernel would BUG on (KernelAssertion) are refused before anything changes (checkUnmap).
 */
export function unmapAt(sys: MmSystem, mm: Mm, addr: number, flags: number): UnmapStatementReport {
  checkTtuFlags(sys, flags);
  const pfn = pageAt(mm, addr);
  checkUnmap(sys, pfn, flags);
  const mem = sys.mem;
  const warned = kernelWarnings(sys).length;
  const entries = flags & (TTU_MIGRATION | TTU_SPLIT_FREEZE);
  const report: UnmapStatementReport = {
    pfn,
    flags: ttuFlagNames(sys.rules, flags),
    flagsValue: ttuFlagsValue(sys.rules, flags),
    result: '',
    mapcountBefore: mem.mapcount[pfn] + 1,
    mapcountAfter: 0,
    swapEntry: 0,
    walk: walkReportOf(sys, newWalkLog()),
    restore: null,
    warnings: [],
  };
  sys.as(sys.kswapd, () =>
    withLockedPage(sys, pfn, () => {
      if (unmapAddsToSwap(sys, pfn, flags) && addToSwap(sys, pfn)) report.swapEntry = mem.private[pfn];
      const log = newWalkLog();
      const code = withRmapLock(sys, pfn, flags, () => tryToUnmap(sys, pfn, flags, log));
      report.result = unmapResultWord(sys, code);
      report.walk = walkReportOf(sys, log);
      report.mapcountAfter = mem.mapcount[pfn] + 1;
      if (entries) {
        const restore = newWalkLog();
        removeMigrationPtes(sys, pfn, pfn, false, restore);
        report.restore = walkReportOf(sys, restore);
      }
    }),
  );
  report.warnings = kernelWarnings(sys).slice(warned);
  return report;
}

/** With TTU_RMAP_LOCKED the caller holds the rmap lock: the anon_vma's for write, or i_mmap for read. */
function withRmapLock<T>(sys: MmSystem, pfn: number, flags: number, fn: () => T): T {
  if (!(flags & TTU_RMAP_LOCKED)) return fn();
  const mem = sys.mem;
  const av = pageAnonVma(mem, pfn);
  const mapping = pageFileMapping(mem, pfn);
  if (av) anonVmaLockWrite(sys, av);
  else mapping?.iMmapRwsem.downRead(sys.current);
  try {
    return fn();
  } finally {
    if (av) anonVmaUnlockWrite(sys, av);
    else mapping?.iMmapRwsem.upRead(sys.current);
  }
}

/** What the scenario's `reclaim` reports. */
export interface ReclaimStatementReport {
  pfn: number;
  outcome: ReclaimOutcome;
  reason: string;
  /** page_check_references()'s answer as the release names it (PAGEREF_*; FOLIOREF_* from 6.1). */
  references: string | null;
  referenced: number | null;
  /** try_to_unmap's result as the release returns it (see UnmapStatementReport), or null when it did not run. */
  unmap: string | null;
  /** The flags reclaim passed to try_to_unmap, as the release names them, and their value. */
  unmapFlags: string[];
  unmapFlagsValue: number;
  swapEntry: number;
  wrote: boolean;
  referencedWalk: WalkReport;
  unmapWalk: WalkReport;
}

/** `reclaim`: shrink_page_list() of the page at (mm, addr), as kswapd. */
export function reclaimAt(sys: MmSystem, mm: Mm, addr: number): ReclaimStatementReport {
  const pfn = pageAt(mm, addr);
  const r = sys.as(sys.kswapd, () => shrinkPage(sys, pfn));
  return {
    pfn,
    outcome: r.outcome,
    reason: r.reason,
    references: r.references && sys.name(r.references),
    referenced: r.referenced?.referenced ?? null,
    unmap: r.unmap === null ? null : unmapResultWord(sys, r.unmap),
    unmapFlags: ttuFlagNames(sys.rules, r.unmapFlags),
    unmapFlagsValue: ttuFlagsValue(sys.rules, r.unmapFlags),
    swapEntry: r.swapEntry,
    wrote: r.wrote,
    referencedWalk: walkReportOf(sys, r.referencedLog),
    unmapWalk: walkReportOf(sys, r.unmapLog),
  };
}

/** What the scenario's `referenced` reports. */
export interface ReferencedStatementReport {
  pfn: number;
  referenced: number;
  vmFlags: number;
  /** The VM_* names set in vmFlags. */
  vmFlagNames: string[];
  walk: WalkReport;
}

const VM_FLAG_NAMES: readonly [number, string][] = [
  [VM_READ, 'VM_READ'],
  [VM_WRITE, 'VM_WRITE'],
  [VM_EXEC, 'VM_EXEC'],
  [VM_SHARED, 'VM_SHARED'],
  [VM_MAYSHARE, 'VM_MAYSHARE'],
  [VM_LOCKED, 'VM_LOCKED'],
  [VM_SEQ_READ, 'VM_SEQ_READ'],
  [VM_RAND_READ, 'VM_RAND_READ'],
];

/** `referenced`: page_referenced(page, is_locked = 0) as shrink_active_list calls it, as kswapd. */
export function referencedAt(sys: MmSystem, mm: Mm, addr: number): ReferencedStatementReport {
  const pfn = pageAt(mm, addr);
  const log = newWalkLog();
  const r = sys.as(sys.kswapd, () => pageReferenced(sys, pfn, false, log));
  return {
    pfn,
    referenced: r.referenced,
    vmFlags: r.vmFlags,
    vmFlagNames: VM_FLAG_NAMES.filter(([f]) => r.vmFlags & f).map(([, n]) => n),
    walk: walkReportOf(sys, log),
  };
}

/** What the scenario's `migrate` reports. */
export interface MigrateStatementReport {
  oldPfn: number;
  newPfn: number;
  /** MIGRATEPAGE_SUCCESS (0 from 6.18) or EAGAIN. */
  rc: string;
  /** What try_to_unmap(TTU_MIGRATION) returned, as the release writes it; `void` for try_to_migrate (5.14). */
  unmap: string | null;
  unmapWalk: WalkReport;
  removeWalk: WalkReport;
}

/** `migrate`: move the page at (mm, addr) to a new frame, as the process (move_pages(2)). */
export function migrateAt(sys: MmSystem, mm: Mm, addr: number): MigrateStatementReport {
  const pfn = pageAt(mm, addr);
  const r = sys.as(mm.owner, () => migratePage(sys, pfn));
  return {
    oldPfn: r.oldPfn,
    newPfn: r.rc === 'MIGRATEPAGE_SUCCESS' ? r.newPfn : r.oldPfn,
    rc: sys.name(r.rc),
    unmap: r.unmap === null ? null : sys.rules['try-to-migrate'] ? VOID : unmapResultWord(sys, r.unmap),
    unmapWalk: walkReportOf(sys, r.unmapLog),
    removeWalk: walkReportOf(sys, r.removeLog),
  };
}

/** What the scenario's `mkclean` reports. */
export interface MkcleanStatementReport {
  pfn: number;
  cleaned: number;
  walk: WalkReport;
}

/** `mkclean`: page_mkclean() of the page at (mm, addr) under its page lock, as kswapd. */
export function mkcleanAt(sys: MmSystem, mm: Mm, addr: number): MkcleanStatementReport {
  const pfn = pageAt(mm, addr);
  const log = newWalkLog();
  const cleaned = sys.as(sys.kswapd, () => withLockedPage(sys, pfn, () => pageMkclean(sys, pfn, log)));
  return { pfn, cleaned, walk: walkReportOf(sys, log) };
}
