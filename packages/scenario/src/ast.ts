/**
 * The typed form of a scenario statement, as produced by the parser (`parser.ts`) and consumed by
 * the runner. One statement per non-blank, non-comment source line. See docs/language.md.
 */

import type { TtuFlagName } from '@rmaplab/rmap';

/**
 * The `unmap` flags: every name enum ttu_flags has in some release 4.9 to 6.18 (@rmaplab/rmap's
 * TTU_FLAG_TABLE). The parser takes any of them; the runner refuses one the selected release lacks.
 */
export { TTU_FLAG_NAMES, type TtuFlagName } from '@rmaplab/rmap';

/** A source range: 1-based line and columns, `endColumn` exclusive. Columns count UTF-16 code units (a tab is one column). */
export interface Span {
  line: number;
  column: number;
  endColumn: number;
}

export type SetKey =
  | 'kernel'
  | 'zero-page'
  | 'fault-around'
  | 'swap'
  | 'ksm-max-sharing'
  | 'readahead'
  | 'thp'
  | 'max-map-count';

export type SetValue =
  | { key: 'kernel'; value: string } // a release, normalised (parseRelease)
  | { key: 'zero-page'; value: boolean }
  | { key: 'fault-around'; value: number } // 1..512
  | { key: 'swap'; value: number | 'unlimited' } // 0..2^40
  | { key: 'ksm-max-sharing'; value: number } // 2..2^31-1 (the kernel refuses < 2)
  | { key: 'readahead'; value: number } // 0..MAX_READAHEAD pages
  | { key: 'thp'; value: number } // the enabled folio orders as a bit mask (THP_ORDERS); 0 is never
  | { key: 'max-map-count'; value: number }; // 0..MAX_MAX_MAP_COUNT (vm.max_map_count)

export type Prot = 'none' | 'r' | 'rw';

export type Advice =
  | 'mergeable'
  | 'unmergeable'
  | 'dontneed'
  | 'pageout'
  | 'cold'
  | 'hugepage'
  | 'nohugepage';

export type Backing = { type: 'anon' } | { type: 'file'; file: string };

export interface Base {
  /** 1-based count of statements (non-blank, non-comment lines) up to and including this one. */
  step: number;
  /** The whole statement, from its first word to the end of its last word (a trailing comment excluded). */
  span: Span;
  /** The source line, trimmed (a trailing comment is kept). */
  text: string;
}

export interface OnProc extends Base {
  proc: string;
  /** The process name, without the `:`. */
  procSpan: Span;
}

export interface OnRegion extends OnProc {
  region: string;
  regionSpan: Span;
}

export interface OnPage extends OnRegion {
  page: number;
  pageSpan: Span;
}

export type Statement =
  | (Base & { op: 'set'; set: SetValue; keySpan: Span; valueSpan: Span })
  | (Base & { op: 'spawn'; proc: string; procSpan: Span })
  | (Base & { op: 'ksm' })
  | (Base & { op: 'observe' })
  | (OnRegion & {
      op: 'mmap';
      pages: number;
      pagesSpan: Span;
      backing: Backing;
      shared: boolean;
      /** Only for file backing: the FILE name inside `file:FILE` (the `file:` excluded). */
      fileSpan?: Span;
    })
  | (OnRegion & {
      op: 'read' | 'write';
      /** single page: first === last */
      first: number;
      last: number;
      /** The whole PAGE or FIRST..LAST word. */
      pageSpan: Span;
      /** Only for write. */
      value?: string;
      valueSpan?: Span;
    })
  | (OnProc & { op: 'fork'; child: string; childSpan: Span })
  | (OnProc & { op: 'exit' })
  | (OnRegion & { op: 'munmap'; range?: { page: number; count: number; pageSpan: Span; countSpan: Span } })
  | (OnRegion & {
      op: 'mprotect';
      page: number;
      count: number;
      prot: Prot;
      pageSpan: Span;
      countSpan: Span;
      protSpan: Span;
    })
  | (OnRegion & { op: 'mremap'; pages: number; pagesSpan: Span })
  | (OnRegion & { op: 'mremap-move' })
  | (OnRegion & { op: 'mlock' | 'munlock' })
  | (OnRegion & { op: 'madvise'; advice: Advice; adviceSpan: Span })
  | (OnPage & { op: 'walk' | 'reclaim' | 'referenced' | 'migrate' | 'mkclean' })
  | (OnPage & { op: 'unmap'; flags: TtuFlagName[]; flagSpans: Span[] });

export type StatementOp = Statement['op'];

/** The statement with the given op, e.g. `StatementOf<'mmap'>`. */
export type StatementOf<Op extends StatementOp> = Extract<Statement, { op: Op }>;

/** The ops of the contract's first table: statements a real kernel executes too (fidelity contract). */
export const KERNEL_EXECUTABLE_OPS: ReadonlySet<Statement['op']> = new Set<Statement['op']>([
  'spawn',
  'mmap',
  'read',
  'write',
  'fork',
  'exit',
  'munmap',
  'mprotect',
  'mremap',
  'mremap-move',
  'mlock',
  'munlock',
  'madvise',
  'ksm',
  'observe',
]);

/** Largest region size in pages (the runner may apply stricter limits). Page indexes are 0..MAX_REGION_PAGES-1. */
export const MAX_REGION_PAGES = 1 << 24;
/** Largest `set fault-around` value: one page table (512 entries). */
export const MAX_FAULT_AROUND = 512;
/** Largest numeric `set swap` value (pages). */
export const MAX_SWAP_PAGES = 2 ** 40;
/** Smallest `set ksm-max-sharing` value: the kernel refuses values below 2. */
export const MIN_KSM_MAX_SHARING = 2;
/** Largest `set ksm-max-sharing` value. */
export const MAX_KSM_MAX_SHARING = 2 ** 31 - 1;
/** Largest `set readahead` value: a window as long as the largest region. */
export const MAX_READAHEAD = MAX_REGION_PAGES;
/** Largest `set max-map-count` value: vm.max_map_count is an int sysctl (proc_dointvec_minmax, 0..INT_MAX). */
export const MAX_MAX_MAP_COUNT = 2 ** 31 - 1;
