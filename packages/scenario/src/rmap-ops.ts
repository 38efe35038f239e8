/**
 * The statements only a simulator offers (`walk`, `unmap`, `reclaim`, `referenced`, `migrate`,
 * `mkclean`) and `ksm`, bridged to @rmaplab/rmap and the KSM model of @rmaplab/mm. Each returns an
 * {@link OpReport}: a uniform summary for people (result, visited VMAs by scenario name, detail
 * lines) plus the package's own structured report. The visited VMAs are named only when read: a
 * walk of a page mapped a thousand times would otherwise name a thousand places that, in
 * `rmaplab run --json`, nobody prints. Function names, results and flags are the selected release's
 * (@rmaplab/rmap's codes.ts, and the renames of @rmaplab/mm's rules.ts).
 */
import { type KsmCounters, ksmCounters, ksmRunToFixedPoint, type Mm, type MmSystem } from '@rmaplab/mm';
import {
  formatTtuFlags,
  KernelAssertion,
  type MigrateStatementReport,
  type MkcleanStatementReport,
  migrateAt,
  mkcleanAt,
  type ReclaimStatementReport,
  type ReferencedStatementReport,
  RmapError,
  reclaimAt,
  referencedAt,
  TtuFlagError,
  ttuFlags,
  type UnmapStatementReport,
  unmapAt,
  VOID,
  type WalkReport,
  type WalkStatementReport,
  walkAt,
} from '@rmaplab/rmap';
import type { Span, StatementOf } from './ast.js';

export type RmapOp = StatementOf<'walk' | 'unmap' | 'reclaim' | 'referenced' | 'migrate' | 'mkclean'>;

/** One VMA an rmap walk visited. */
export interface WalkVisit {
  /** `PROCESS:REGION:PAGE` where the VMA maps the page (vma_address), or the process and address. */
  where: string;
  vma: number;
  address: number;
  /** What rmap_one returned, or `skipped` (invalid_vma). */
  result: string;
}

/** The package report behind an OpReport. */
export type RawReport =
  | { op: 'walk'; report: WalkStatementReport }
  | { op: 'unmap'; report: UnmapStatementReport }
  | { op: 'reclaim'; report: ReclaimStatementReport }
  | { op: 'referenced'; report: ReferencedStatementReport }
  | { op: 'migrate'; report: MigrateStatementReport }
  | { op: 'mkclean'; report: MkcleanStatementReport }
  | { op: 'ksm'; counters: KsmCounters; scans: number };

export interface OpReport {
  op: RmapOp['op'] | 'ksm';
  /** The kernel entry point the statement runs, as the release names it (`try_to_unmap`, `shrink_folio_list`, ...). */
  fn: string;
  /** The page the statement acted on. */
  pfn?: number;
  /** The entry point's result as the release returns it, reclaim's outcome, a count, ... as one word. */
  result: string;
  /** The VMAs of the (main) rmap walk, in the order visited (named on first read). */
  readonly visits: WalkVisit[];
  /** Further lines for people. */
  details: string[];
  raw: RawReport;
}

/** Names a (mm, address) pair the way scenarios do, as at the statement's time even when called later. */
export type WhereFn = (mm: number, address: number) => string;

/**
 * An OpReport whose visits are those of `walk`, named by `where` when first read. `visits` is a
 * getter of the class, not of each object (see LoggedWalkReport in @rmaplab/rmap: a getter per
 * object literal costs a hidden class per report).
 */
class WalkOpReport implements OpReport {
  op: OpReport['op'];
  fn: string;
  pfn?: number;
  result: string;
  details: string[];
  raw: RawReport;
  readonly #walk: WalkReport;
  readonly #where: WhereFn;
  #visits: WalkVisit[] | undefined;

  constructor(fields: Omit<OpReport, 'visits'>, walk: WalkReport, where: WhereFn) {
    this.op = fields.op;
    this.fn = fields.fn;
    this.pfn = fields.pfn;
    this.result = fields.result;
    this.details = fields.details;
    this.raw = fields.raw;
    this.#walk = walk;
    this.#where = where;
  }

  get visits(): WalkVisit[] {
    this.#visits ??= this.#walk.visits.map((v) => ({
      where: this.#where(v.mm, v.address),
      vma: v.vma,
      address: v.address,
      result: v.result,
    }));
    return this.#visits;
  }

  /** Plain data with the visits, which JSON.stringify would leave out (a getter is no own property). */
  toJSON(): OpReport {
    const { op, fn, pfn, result, visits, details, raw } = this;
    return { op, fn, pfn, result, visits, details, raw };
  }
}

/** A walk in one line; from 4.12 rmap_walk returns nothing, so the line says only what it did. */
function walkLine(label: string, walk: WalkReport): string {
  const on =
    walk.kind === 'anon'
      ? `anon_vma ${walk.anonVma}`
      : walk.kind === 'file'
        ? `i_mmap of ${walk.mapping}`
        : 'stable node';
  const returned = walk.result === VOID ? '' : `, returned ${walk.result}`;
  return `${label}: rmap_walk_${walk.kind ?? 'none'} over ${on}: ${walk.visited} VMA${walk.visited === 1 ? '' : 's'} visited${returned}${walk.stop ? ` (stopped by ${walk.stop})` : ''}`;
}

/** Run an rmap statement on the page mapped at (mm, addr). */
export function runRmapStatement(
  sys: MmSystem,
  st: RmapOp,
  mm: Mm,
  addr: number,
  where: WhereFn,
  error: (span: Span, msg: string, kind?: 'kernel') => Error,
): OpReport {
  try {
    switch (st.op) {
      case 'walk': {
        const r = walkAt(sys, mm, addr);
        return new WalkOpReport(
          {
            op: 'walk',
            fn: 'rmap_walk',
            pfn: r.pfn,
            result: r.walk.result,
            details: [walkLine('walk', r.walk)],
            raw: { op: 'walk', report: r },
          },
          r.walk,
          where,
        );
      }
      case 'unmap': {
        const r = unmapAt(sys, mm, addr, ttuFlags(sys, st.flags));
        const details = [
          `flags ${formatTtuFlags(r.flags, r.flagsValue)}`,
          walkLine('try_to_unmap', r.walk),
          `mapcount ${r.mapcountBefore} → ${r.mapcountAfter}${r.swapEntry ? `, swap entry ${r.swapEntry}` : ''}`,
        ];
        if (r.restore) details.push(walkLine('remove_migration_ptes (restore)', r.restore));
        for (const w of r.warnings)
          details.push(
            `WARNING in ${w.fn} (${w.file}): ${w.warn}${w.printed ? '' : ' (not printed: it warns once a boot)'}: ${w.detail}`,
          );
        return new WalkOpReport(
          {
            op: 'unmap',
            fn: 'try_to_unmap',
            pfn: r.pfn,
            result: r.result,
            details,
            raw: { op: 'unmap', report: r },
          },
          r.walk,
          where,
        );
      }
      case 'reclaim': {
        const r = reclaimAt(sys, mm, addr);
        const fn = sys.name('shrink_page_list');
        const details = [`${fn}: ${r.outcome} (${r.reason})`];
        if (r.references)
          details.push(
            `${sys.name('page_check_references')}: ${r.references}${r.referenced !== null ? `, ${r.referenced} referenced` : ''}`,
          );
        if (r.unmap)
          details.push(`try_to_unmap(${formatTtuFlags(r.unmapFlags, r.unmapFlagsValue)}): ${r.unmap}`);
        return {
          op: 'reclaim',
          fn,
          pfn: r.pfn,
          result: r.outcome,
          visits: [],
          details,
          raw: { op: 'reclaim', report: r },
        };
      }
      case 'referenced': {
        const r = referencedAt(sys, mm, addr);
        const fn = sys.name('page_referenced');
        return new WalkOpReport(
          {
            op: 'referenced',
            fn,
            pfn: r.pfn,
            result: String(r.referenced),
            details: [
              walkLine(fn, r.walk),
              `referenced ${r.referenced}, vm_flags ${r.vmFlagNames.join('|') || '0'}`,
            ],
            raw: { op: 'referenced', report: r },
          },
          r.walk,
          where,
        );
      }
      case 'migrate': {
        const r = migrateAt(sys, mm, addr);
        return new WalkOpReport(
          {
            op: 'migrate',
            fn: 'migrate_pages',
            pfn: r.oldPfn,
            result: r.rc,
            details: [
              `pfn ${r.oldPfn} → ${r.newPfn} (${r.rc})`,
              walkLine(
                sys.rules['try-to-migrate'] ? 'try_to_migrate' : 'try_to_unmap(TTU_MIGRATION)',
                r.unmapWalk,
              ),
              walkLine('remove_migration_ptes', r.removeWalk),
            ],
            raw: { op: 'migrate', report: r },
          },
          r.unmapWalk,
          where,
        );
      }
      case 'mkclean': {
        const r = mkcleanAt(sys, mm, addr);
        const fn = sys.name('page_mkclean');
        return new WalkOpReport(
          {
            op: 'mkclean',
            fn,
            pfn: r.pfn,
            result: String(r.cleaned),
            details: [walkLine(fn, r.walk), `${r.cleaned} PTE${r.cleaned === 1 ? '' : 's'} cleaned`],
            raw: { op: 'mkclean', report: r },
          },
          r.walk,
          where,
        );
      }
    }
  } catch (e) {
    if (e instanceof KernelAssertion) throw error(assertionSpan(st, e), e.message, 'kernel');
    if (e instanceof RmapError) throw error(st.pageSpan, e.message);
    // ttuFlags refuses a flag the release lacks before anything runs: that flag is what is wrong.
    if (e instanceof TtuFlagError && st.op === 'unmap')
      throw error(st.flagSpans[e.index] ?? st.span, e.message);
    throw e;
  }
}

/** Where a refused statement points: the unmap flag that leads to the assertion, else the page. */
function assertionSpan(st: RmapOp, e: KernelAssertion): Span {
  if (st.op === 'unmap' && e.flag) {
    const i = st.flags.indexOf(e.flag as (typeof st.flags)[number]);
    if (i >= 0) return st.flagSpans[i];
  }
  return st.pageSpan;
}

/** `ksm`: run ksmd to a fixed point and report the /sys/kernel/mm/ksm counters. */
export function runKsm(sys: MmSystem): OpReport {
  const scans = ksmRunToFixedPoint(sys);
  const c = ksmCounters(sys);
  // Chains of stable nodes came with max_page_sharing (4.13), and their counters with them.
  const chains = sys.rules['ksm-max-page-sharing']
    ? `, stable_node_chains ${c.stableNodeChains}, stable_node_dups ${c.stableNodeDups}`
    : '';
  return {
    op: 'ksm',
    fn: 'ksmd',
    result: `${c.pagesShared} shared, ${c.pagesSharing} sharing`,
    visits: [],
    details: [
      `ksmd: ${scans} full scan${scans === 1 ? '' : 's'} to a fixed point; pages_shared ${c.pagesShared}, pages_sharing ${c.pagesSharing}, pages_unshared ${c.pagesUnshared}, pages_volatile ${c.pagesVolatile}, full_scans ${c.fullScans}${chains}`,
    ],
    raw: { op: 'ksm', counters: c, scans },
  };
}
