/**
 * `--kernel-options auto`: the model options (`set KEY VALUE`, scenario-language.md "Options")
 * that match the running kernel, read from the kernel where it tells, with a note for each value
 * that had to be assumed.
 */
import { readFileSync, statSync } from 'node:fs';
import { release } from 'node:os';
import { formatRelease, NEWEST_MODELLED, parseRelease, ReleaseError } from '@rmaplab/mm';
import type { SetValue } from '@rmaplab/scenario';
import { formatStatement, MAX_READAHEAD } from '@rmaplab/scenario';

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

/** A device number, as glibc's major() and minor() split st_dev. */
export interface DeviceNumber {
  major: number;
  minor: number;
}

/** The device that holds a path; tests substitute their own. */
export type DeviceOf = (path: string) => DeviceNumber | null;

function statDevice(path: string): DeviceNumber | null {
  try {
    const dev = statSync(path, { bigint: true }).dev;
    return {
      major: Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn)),
      minor: Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn)),
    };
  } catch {
    return null;
  }
}

/** Where the helper creates the scenario's files unless told otherwise: $TMPDIR, else /var/tmp. */
export function helperTmpBase(env: NodeJS.ProcessEnv = process.env): string {
  return env.TMPDIR || '/var/tmp';
}

/**
 * The mmap read-around window of files in `dir`, in pages: file->f_ra.ra_pages comes from the
 * backing device's read_ahead_kb (/sys/dev/block/MAJOR:MINOR/queue; a partition has no queue of
 * its own and uses its disk's, one folder up). Null when `dir` is on no block device (tmpfs, or
 * a filesystem such as btrfs whose st_dev is an anonymous device).
 */
export function readaheadPages(
  dir: string,
  read: ReadText = readSystemFile,
  deviceOf: DeviceOf = statDevice,
): { pages: number; file: string; kib: number } | null {
  const dev = deviceOf(dir);
  if (dev === null) return null;
  const sys = `/sys/dev/block/${dev.major}:${dev.minor}`;
  for (const file of [`${sys}/queue/read_ahead_kb`, `${sys}/../queue/read_ahead_kb`]) {
    const text = read(file)?.trim();
    if (text !== undefined && /^\d+$/.test(text)) {
      const kib = Number(text);
      return { pages: Math.min(MAX_READAHEAD, Math.floor(kib / 4)), file, kib };
    }
  }
  return null;
}

/**
 * Read the running kernel's settings. `tmpdir` is where the helper will create the scenario's
 * files (its read-ahead is the device's); `read`, `rel` and `deviceOf` are for tests.
 */
export function readKernelSettings(
  read: ReadText = readSystemFile,
  rel: string = release(),
  tmpdir: string = helperTmpBase(),
  deviceOf: DeviceOf = statDevice,
): KernelSettings {
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

  const ra = readaheadPages(tmpdir, read, deviceOf);
  if (ra) {
    sets.push({ key: 'readahead', value: ra.pages });
    notes.push(`readahead ${ra.pages}: ${ra.file} (${ra.kib} KiB) of the device holding ${tmpdir}`);
  } else {
    sets.push({ key: 'readahead', value: 32 });
    notes.push(
      `readahead 32: ${tmpdir} is on no block device whose read_ahead_kb is readable; 32 pages (128 KiB) is the kernel default`,
    );
  }

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
