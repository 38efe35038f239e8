/** Helpers shared by the benchmarks. */
import {
  MAP_PRIVATE,
  type Mm,
  type MmSystem,
  PAGE_SIZE,
  PROT_READ,
  PROT_WRITE,
  sysMmap,
  userAccess,
} from '../src/index.js';

export const now = (): bigint => process.hrtime.bigint();

/** ns elapsed since `t0`, divided by `per`. */
export function nsPer(t0: bigint, per: number): number {
  return Number(now() - t0) / per;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** A full collection, so that a timed phase does not pay for the previous one's garbage. */
export function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (!g) throw new Error('run with --expose-gc (pnpm bench does)');
  g();
}

/** `--name value` from the command line, as a number. */
export function numArg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} needs a positive number`);
  return v;
}

/** Right-aligned table columns. */
export function table(rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? c.toFixed(1) : c)));
  const widths = cells[0].map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  return cells
    .map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '))
    .join('\n');
}

/**
 * The common starting state of the benchmarks: a private anonymous read/write region of `pages`
 * pages in `mm` (at `addr`, or where get_unmapped_area puts it), every page written. Returns its start.
 */
export function mapAndWrite(sys: MmSystem, mm: Mm, pages: number, addr?: number): number {
  const vma = sysMmap(sys, mm, {
    addr,
    len: pages * PAGE_SIZE,
    prot: PROT_READ | PROT_WRITE,
    flags: MAP_PRIVATE,
  });
  const start = vma.vmStart;
  for (let i = 0; i < pages; i++) userAccess(sys, mm, start + i * PAGE_SIZE, true);
  return start;
}
