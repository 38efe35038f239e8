/**
 * The statements only a simulator offers (`walk`, `unmap`, `reclaim`, `referenced`, `migrate`,
 * `mkclean`) and `ksm`, bridged to @rmaplab/rmap and the KSM model of @rmaplab/mm. Each returns an
 * {@link OpReport}: a uniform summary for people (result, visited VMAs by scenario name, detail
 * lines) plus the package's own structured report.
 */
import { type KsmCounters, ksmCounters, ksmRunToFixedPoint, type Mm, type MmSystem } from '@rmaplab/mm';
import {
  type MigrateStatementReport,
  type MkcleanStatementReport,
  migrateAt,
  mkcleanAt,
  parseTtuFlags,
  type ReclaimStatementReport,
  type ReferencedStatementReport,
  RmapError,
  reclaimAt,
  referencedAt,
  type UnmapStatementReport,
  unmapAt,
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
  /** The page the statement acted on. */
  pfn?: number;
  /** SWAP_* result, reclaim outcome, referenced count, ... as one word. */
  result: string;
  /** The VMAs of the (main) rmap walk, in the order visited. */
  visits: WalkVisit[];
  /** Further lines for people. */
  details: string[];
  raw: RawReport;
}

/** Names a (mm, address) pair the way scenarios do. */
export type WhereFn = (mm: number, address: number) => string;

function visitsOf(walk: WalkReport, where: WhereFn): WalkVisit[] {
  return walk.visits.map((v) => ({
    where: where(v.mm, v.address),
    vma: v.vma,
    address: v.address,
    result: v.result,
  }));
}

function walkLine(label: string, walk: WalkReport): string {
  const on =
    walk.kind === 'anon'
      ? `anon_vma ${walk.anonVma}`
      : walk.kind === 'file'
        ? `i_mmap of ${walk.mapping}`
        : 'stable node';
  return `${label}: rmap_walk_${walk.kind ?? 'none'} over ${on}: ${walk.visits.length} VMA${walk.visits.length === 1 ? '' : 's'} visited, returned ${walk.result}${walk.stop ? ` (stopped by ${walk.stop})` : ''}`;
}

/** Run an rmap statement on the page mapped at (mm, addr). */
export function runRmapStatement(
  sys: MmSystem,
  st: RmapOp,
  mm: Mm,
  addr: number,
  where: WhereFn,
  error: (span: Span, msg: string) => Error,
): OpReport {
  try {
    switch (st.op) {
      case 'walk': {
        const r = walkAt(sys, mm, addr);
        return {
          op: 'walk',
          pfn: r.pfn,
          result: r.walk.result,
          visits: visitsOf(r.walk, where),
          details: [walkLine('walk', r.walk)],
          raw: { op: 'walk', report: r },
        };
      }
      case 'unmap': {
        const r = unmapAt(sys, mm, addr, parseTtuFlags(st.flags));
        const details = [
          walkLine('try_to_unmap', r.walk),
          `mapcount ${r.mapcountBefore} → ${r.mapcountAfter}${r.swapEntry ? `, swap entry ${r.swapEntry}` : ''}`,
        ];
        if (r.restore) details.push(walkLine('remove_migration_ptes (restore)', r.restore));
        return {
          op: 'unmap',
          pfn: r.pfn,
          result: r.result,
          visits: visitsOf(r.walk, where),
          details,
          raw: { op: 'unmap', report: r },
        };
      }
      case 'reclaim': {
        const r = reclaimAt(sys, mm, addr);
        const details = [`shrink_page_list: ${r.outcome} (${r.reason})`];
        if (r.references)
          details.push(
            `page_check_references: ${r.references}${r.referenced !== null ? `, ${r.referenced} referenced` : ''}`,
          );
        if (r.unmap) details.push(`try_to_unmap: ${r.unmap}`);
        return {
          op: 'reclaim',
          pfn: r.pfn,
          result: r.outcome,
          visits: [],
          details,
          raw: { op: 'reclaim', report: r },
        };
      }
      case 'referenced': {
        const r = referencedAt(sys, mm, addr);
        return {
          op: 'referenced',
          pfn: r.pfn,
          result: String(r.referenced),
          visits: visitsOf(r.walk, where),
          details: [
            walkLine('page_referenced', r.walk),
            `referenced ${r.referenced}, vm_flags ${r.vmFlagNames.join('|') || '0'}`,
          ],
          raw: { op: 'referenced', report: r },
        };
      }
      case 'migrate': {
        const r = migrateAt(sys, mm, addr);
        return {
          op: 'migrate',
          pfn: r.oldPfn,
          result: r.rc,
          visits: visitsOf(r.unmapWalk, where),
          details: [
            `pfn ${r.oldPfn} → ${r.newPfn} (${r.rc})`,
            walkLine(
              sys.rules['try-to-migrate'] ? 'try_to_migrate' : 'try_to_unmap(TTU_MIGRATION)',
              r.unmapWalk,
            ),
            walkLine('remove_migration_ptes', r.removeWalk),
          ],
          raw: { op: 'migrate', report: r },
        };
      }
      case 'mkclean': {
        const r = mkcleanAt(sys, mm, addr);
        return {
          op: 'mkclean',
          pfn: r.pfn,
          result: String(r.cleaned),
          visits: visitsOf(r.walk, where),
          details: [
            walkLine('page_mkclean', r.walk),
            `${r.cleaned} PTE${r.cleaned === 1 ? '' : 's'} cleaned`,
          ],
          raw: { op: 'mkclean', report: r },
        };
      }
    }
  } catch (e) {
    if (e instanceof RmapError) throw error(st.pageSpan, e.message);
    // parseTtuFlags and try_to_unmap refuse flags with a RangeError: the flags are what is wrong.
    if (e instanceof RangeError && st.op === 'unmap') throw error(st.flagSpans[0] ?? st.span, e.message);
    throw e;
  }
}

/** `ksm`: run ksmd to a fixed point and report the /sys/kernel/mm/ksm counters. */
export function runKsm(sys: MmSystem): OpReport {
  const scans = ksmRunToFixedPoint(sys);
  const c = ksmCounters(sys);
  return {
    op: 'ksm',
    result: `${c.pagesShared} shared, ${c.pagesSharing} sharing`,
    visits: [],
    details: [
      `ksmd: ${scans} full scan${scans === 1 ? '' : 's'} to a fixed point; pages_shared ${c.pagesShared}, pages_sharing ${c.pagesSharing}, pages_unshared ${c.pagesUnshared}, pages_volatile ${c.pagesVolatile}, full_scans ${c.fullScans}`,
    ],
    raw: { op: 'ksm', counters: c, scans },
  };
}
