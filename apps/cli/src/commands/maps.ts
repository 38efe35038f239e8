/**
 * `rmaplab maps PID|FILE`: a process's layout from /proc/PID/maps (show_map_vma() in
 * fs/proc/task_mmu.c prints one VMA a line) as a scenario of `mmap` statements, so a real layout
 * can be explored in the simulator.
 */
import { MAX_REGION_PAGES } from '@rmaplab/scenario';
import { type Io, readInput, UsageError } from '../io.js';

const PAGE_SIZE = 4096;

/** One line of /proc/PID/maps: `start-end perms offset dev inode [path]`. */
export interface MapsEntry {
  start: bigint;
  end: bigint;
  /** `rwxp` / `r--s` ... */
  perms: string;
  offset: bigint;
  dev: string;
  inode: string;
  /** Empty for an anonymous mapping; `[heap]`, `[stack]`, a file path... */
  path: string;
  /** The line as read, for the comment. */
  line: string;
}

const LINE = /^([0-9a-f]+)-([0-9a-f]+)\s+([r-][w-][x-][ps])\s+([0-9a-f]+)\s+(\S+)\s+(\d+)\s*(.*)$/i;

/** Parse a maps file; a line that is not a maps line is an error naming its line number. */
export function parseMaps(text: string, source: string): MapsEntry[] {
  const out: MapsEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trimEnd();
    if (!line) return;
    const m = LINE.exec(line);
    if (!m)
      throw new UsageError(`${source}:${i + 1}: not a /proc/PID/maps line: ${JSON.stringify(line)}`, 'maps');
    out.push({
      start: BigInt(`0x${m[1]}`),
      end: BigInt(`0x${m[2]}`),
      perms: m[3],
      offset: BigInt(`0x${m[4]}`),
      dev: m[5],
      inode: m[6],
      path: m[7].trim(),
      line,
    });
  });
  return out;
}

/**
 * Mappings the kernel installs itself (special mappings: vdso, vvar, vsyscall, uprobes): no mmap
 * call can make them, so they stay comments.
 */
const SPECIAL = /^\[(vdso|vvar|vvar_vclock|vsyscall|uprobes|sigpage|vectors)\]$/;

/** The region name a mapping gets: `[heap]` → heap, a path → its last component, anonymous → anon. */
function baseName(path: string): string {
  if (!isFileBacked(path)) {
    const bracket = /^\[(.*)\]$/.exec(path);
    return bracket ? scenarioName(bracket[1]) : 'anon';
  }
  const p = path.replace(/ \(deleted\)$/, '');
  return scenarioName(p.split('/').pop() || p);
}

/** Make a name valid for the scenario language: `[A-Za-z][A-Za-z0-9_.-]*`. */
export function scenarioName(raw: string): string {
  const s = raw.replace(/[^A-Za-z0-9_.-]/g, '_');
  return /^[A-Za-z]/.test(s) ? s : `m${s}`;
}

/**
 * A shared anonymous mapping shows as `/dev/zero (deleted)`: its shmem file is set up by
 * shmem_zero_setup() under that name. Every other path names a file.
 */
function isFileBacked(path: string): boolean {
  return path.startsWith('/') && path !== '/dev/zero (deleted)';
}

/** The `mprotect` argument for the permissions (the language has no exec bit; write implies read). */
function protOf(perms: string): 'rw' | 'r' | 'none' {
  if (perms[1] === 'w') return 'rw';
  if (perms[0] === 'r' || perms[2] === 'x') return 'r';
  return 'none';
}

export interface MapsOptions {
  /** Where the maps came from, for the header comment. */
  source: string;
  /** The scenario's process name. */
  proc: string;
}

/** The scenario text: a `spawn`, then per VMA the original line as a comment and its statements. */
export function mapsToScenario(entries: MapsEntry[], opts: MapsOptions): string {
  const { proc } = opts;
  const lines = [
    `# The layout of ${opts.source}, as rmaplab maps printed it.`,
    '# Every region is mapped at a fresh address from file offset 0 (the scenario language has no',
    '# fixed addresses or offsets); protections other than read/write follow as mprotect.',
    `spawn ${proc}`,
  ];
  const used = new Map<string, number>();
  let regions = 0;
  for (const e of entries) {
    lines.push(`# ${e.line}`);
    const pages = (e.end - e.start) / BigInt(PAGE_SIZE);
    if (SPECIAL.test(e.path)) {
      lines.push('#   skipped: the kernel installs this mapping itself');
      continue;
    }
    if (pages > BigInt(MAX_REGION_PAGES)) {
      lines.push(`#   skipped: ${pages} pages is more than the ${MAX_REGION_PAGES} pages a region may have`);
      continue;
    }
    const base = baseName(e.path);
    const n = (used.get(base) ?? 0) + 1;
    used.set(base, n);
    const name = n === 1 ? base : `${base}-${n}`;
    const backing = isFileBacked(e.path) ? `file:${baseName(e.path)}` : 'anon';
    const sharing = e.perms[3] === 's' ? 'shared' : 'private';
    lines.push(`${proc}: mmap ${name} ${pages} ${backing} ${sharing}`);
    const prot = protOf(e.perms);
    if (prot !== 'rw') lines.push(`${proc}: mprotect ${name} 0 ${pages} ${prot}`);
    regions++;
  }
  lines.push(`# ${regions} regions`, 'observe');
  return `${lines.join('\n')}\n`;
}

export interface MapsFlags {
  /** The scenario's process name. */
  name: string;
}

export async function mapsCommand(io: Io, target: string, flags: MapsFlags): Promise<number> {
  const path = /^\d+$/.test(target) ? `/proc/${target}/maps` : target;
  const source = target === '-' ? '<stdin>' : path;
  const text = await readInput(io, path, 'maps');
  io.stdout(mapsToScenario(parseMaps(text, source), { source, proc: flags.name }));
  return 0;
}
