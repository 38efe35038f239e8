/**
 * `--kernel-options auto`: the model options (`set KEY VALUE`, scenario-language.md "Options")
 * that match the running kernel, read from the kernel where it tells, with a note for each value
 * that had to be assumed.
 */
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import { formatRelease, NEWEST_MODELLED, parseRelease, ReleaseError } from '@rmaplab/mm';
import type { SetValue } from '@rmaplab/scenario';
import { formatStatement } from '@rmaplab/scenario';

/** The matching options, as `set` statements, and how each value was found. */
export interface KernelSettings {
  /** `uname -r`. */
  release: string;
  sets: SetValue[];
  /** One line per option: where its value comes from. */
  notes: string[];
  /** Kernel settings the model does not have, under which differences are expected. */
  warnings: string[];
}

/** Files the settings are read from; tests substitute their own. */
export type ReadText = (path: string) => string | null;

function readSystemFile(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/**
 * The release the model runs for the kernel `uname -r` names (`6.18.44-fc-v1252` → `6.18.44`), and
 * why: the running release itself when the model reaches it, else the nearest one it can represent.
 */
export function modelledRelease(rel: string): { kernel: string; note: string } {
  const m = /^\d+\.\d+(\.\d+)?/.exec(rel);
  if (!m)
    return {
      kernel: NEWEST_MODELLED,
      note: `kernel ${NEWEST_MODELLED}: "${rel}" names no release; the newest modelled one`,
    };
  try {
    const kernel = formatRelease(parseRelease(m[0]));
    return { kernel, note: `kernel ${kernel}: the running release (${rel})` };
  } catch (e) {
    if (!(e instanceof ReleaseError)) throw e;
    const kernel = e.nearest[0] ?? NEWEST_MODELLED;
    return {
      kernel,
      note: `kernel ${kernel}: the nearest modelled release to the running ${rel} (${e.message})`,
    };
  }
}

/** Pages of swap space from /proc/swaps (sizes there are in KiB). */
export function swapPages(procSwaps: string | null): number {
  if (procSwaps === null) return 0;
  let kib = 0;
  for (const line of procSwaps.split('\n').slice(1)) {
    const size = Number(line.trim().split(/\s+/)[2]);
    if (Number.isFinite(size)) kib += size;
  }
  return Math.floor(kib / 4);
}

/** Read the running kernel's settings (`read` and `rel` are for tests). */
export function readKernelSettings(read: ReadText = readSystemFile, rel: string = release()): KernelSettings {
  const sets: SetValue[] = [];
  const notes: string[] = [];
  const warnings: string[] = [];
  const { kernel, note } = modelledRelease(rel);
  sets.push({ key: 'kernel', value: kernel });
  notes.push(note);

  // do_anonymous_page() maps the zero page on every read fault of a small page unless the
  // architecture forbids it (mm_forbids_zeropage, s390 KVM guests only); the THP use_zero_page
  // switch concerns huge pages, which verify keeps out with MADV_NOHUGEPAGE.
  sets.push({ key: 'zero-page', value: true });
  notes.push('zero-page on: small-page read faults always map the zero page on this architecture');

  const fab = read('/sys/kernel/debug/fault_around_bytes');
  const bytes = fab === null ? Number.NaN : Number(fab.trim());
  if (Number.isFinite(bytes) && bytes >= 4096) {
    const pages = Math.min(512, Math.floor(bytes / 4096));
    sets.push({ key: 'fault-around', value: pages });
    notes.push(`fault-around ${pages}: from /sys/kernel/debug/fault_around_bytes (${bytes})`);
  } else {
    sets.push({ key: 'fault-around', value: 16 });
    notes.push(
      'fault-around 16: /sys/kernel/debug/fault_around_bytes is unreadable (debugfs not mounted or locked down); 16 is the kernel default',
    );
  }

  const swap = swapPages(read('/proc/swaps'));
  sets.push({ key: 'swap', value: swap });
  notes.push(`swap ${swap}: pages of swap space in /proc/swaps`);

  const maxSharing = read('/sys/kernel/mm/ksm/max_page_sharing');
  if (maxSharing !== null && /^\d+$/.test(maxSharing.trim())) {
    const n = Number(maxSharing.trim());
    sets.push({ key: 'ksm-max-sharing', value: n });
    notes.push(`ksm-max-sharing ${n}: /sys/kernel/mm/ksm/max_page_sharing`);
  }
  if (read('/sys/kernel/mm/ksm/use_zero_pages')?.trim() === '1')
    warnings.push(
      'KSM use_zero_pages is 1: the kernel merges zero-filled pages into the zero page, the model into an ordinary KSM page',
    );
  if (read('/sys/kernel/mm/ksm/merge_across_nodes')?.trim() === '0')
    warnings.push('KSM merge_across_nodes is 0: the model has one NUMA node and merges across all pages');
  return { release: rel, sets, notes, warnings };
}

/** The settings as the `set` lines they stand for. */
export function settingLines(s: KernelSettings): string[] {
  return s.sets.map((set) => formatStatement({ op: 'set', set }));
}
