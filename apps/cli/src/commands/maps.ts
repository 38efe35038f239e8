/**
 * `rmaplab maps PID|FILE`: a process's layout from /proc/PID/maps (show_map_vma() in
 * fs/proc/task_mmu.c prints one VMA a line) as a scenario of `mmap` statements, so a real layout
 * can be explored in the simulator. Every scenario it prints runs: a line the kernel could not
 * have printed (an empty, backward or unaligned range, a field that does not parse) is an error
 * at its FILE:LINE:COL instead.
 */
import { MAX_NAME_LENGTH, MAX_REGION_PAGES, ScenarioError, sourceLines } from '@rmaplab/scenario';
import { type Io, readInput } from '../io.js';
import { displayName, reportScenarioError } from './common.js';

const PAGE_SIZE = 4096n;

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

/** Hex digits of an unsigned long (show_map_vma prints addresses and offsets with %lx). */
const MAX_HEX_DIGITS = 16;

/** Reads the fields of one maps line left to right; a field that does not parse is an error at its column. */
class MapsLine {
  private at = 0;

  constructor(
    readonly text: string,
    private readonly line: number,
  ) {}

  fail(at: number, message: string, found?: string): never {
    throw new ScenarioError({
      line: this.line,
      column: at + 1,
      endColumn: at + 1 + Math.max(1, found?.length ?? 1),
      message,
      ...(found !== undefined ? { found } : {}),
      kind: 'syntax',
    });
  }

  /** The text matching `re` at the cursor (the cursor moves past it), or an error naming `what`. */
  take(re: RegExp, what: string): { text: string; at: number } {
    const m = new RegExp(`^(?:${re.source})`, re.flags).exec(this.text.slice(this.at));
    const at = this.at;
    if (!m) this.fail(at, `not a /proc/PID/maps line: expected ${what}`, this.text.slice(at).split(/\s/)[0]);
    this.at += m[0].length;
    return { text: m[0], at };
  }

  hex(what: string): { value: bigint; at: number } {
    const { text, at } = this.take(/[0-9a-f]+/i, what);
    if (text.length > MAX_HEX_DIGITS) this.fail(at, `${what} has more than 64 bits`, text);
    return { value: BigInt(`0x${text}`), at };
  }

  blanks(): void {
    this.take(/[ \t]+/, 'a blank between fields');
  }

  /** Everything after the cursor, without the blanks around it. */
  rest(): string {
    return this.text.slice(this.at).trim();
  }
}

/** One maps line; throws a located ScenarioError when the kernel could not have printed it. */
function parseMapsLine(text: string, lineNo: number): MapsEntry {
  const p = new MapsLine(text, lineNo);
  const start = p.hex('the start address (hexadecimal)');
  p.take(/-/, '"-" between the start and end addresses');
  const end = p.hex('the end address (hexadecimal)');
  for (const a of [start, end])
    if (a.value % PAGE_SIZE !== 0n)
      p.fail(
        a.at,
        `address 0x${a.value.toString(16)} is not page-aligned (4096 bytes)`,
        a.value.toString(16),
      );
  if (end.value <= start.value)
    p.fail(
      end.at,
      `the end 0x${end.value.toString(16)} is not above the start 0x${start.value.toString(16)}: a VMA is never empty`,
      end.value.toString(16),
    );
  p.blanks();
  const perms = p.take(/[r-][w-][x-][ps]/, 'permissions such as r-xp').text;
  p.blanks();
  const offset = p.hex('the file offset (hexadecimal)').value;
  p.blanks();
  const dev = p.take(/[0-9a-f]+:[0-9a-f]+/i, 'the device MAJOR:MINOR').text;
  p.blanks();
  const inode = p.take(/\d+/, 'the inode number').text;
  const path = p.rest();
  if (path !== '') p.blanks();
  return { start: start.value, end: end.value, perms, offset, dev, inode, path, line: text.trimEnd() };
}

/** Parse a maps file; a line that is not a maps line is a ScenarioError at its line and column. */
export function parseMaps(text: string): MapsEntry[] {
  const out: MapsEntry[] = [];
  let lineNo = 0;
  for (const raw of sourceLines(text)) {
    lineNo++;
    if (raw.trim() !== '') out.push(parseMapsLine(raw, lineNo));
  }
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

/**
 * Make a name valid for the scenario language: `[A-Za-z][A-Za-z0-9_.-]*`, at most
 * MAX_NAME_LENGTH characters (a longer one keeps its start).
 */
export function scenarioName(raw: string): string {
  const s = raw.replace(/[^A-Za-z0-9_.-]/g, '_');
  return (/^[A-Za-z]/.test(s) ? s : `m${s}`).slice(0, MAX_NAME_LENGTH);
}

/** `base`, or `base-2`, `base-3`... whichever is not taken yet (cut so the suffix fits). */
function uniqueName(base: string, taken: Set<string>): string {
  let name = base;
  for (let n = 2; taken.has(name); n++) {
    const suffix = `-${n}`;
    name = `${base.slice(0, MAX_NAME_LENGTH - suffix.length)}${suffix}`;
  }
  taken.add(name);
  return name;
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
    // A file name may hold a line end, which would end the comment.
    `# The layout of ${opts.source.replace(/[\r\n]/g, '?')}, as rmaplab maps printed it.`,
    '# Every region is mapped at a fresh address from file offset 0 (the scenario language has no',
    '# fixed addresses or offsets); protections other than read/write follow as mprotect.',
    `spawn ${proc}`,
  ];
  const taken = new Set<string>();
  let regions = 0;
  for (const e of entries) {
    lines.push(`# ${e.line}`);
    const pages = (e.end - e.start) / PAGE_SIZE;
    if (SPECIAL.test(e.path)) {
      lines.push('#   skipped: the kernel installs this mapping itself');
      continue;
    }
    if (pages > BigInt(MAX_REGION_PAGES)) {
      lines.push(`#   skipped: ${pages} pages is more than the ${MAX_REGION_PAGES} pages a region may have`);
      continue;
    }
    const name = uniqueName(baseName(e.path), taken);
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
  const source = displayName(path);
  let entries: MapsEntry[];
  try {
    entries = parseMaps(await readInput(io, path, 'maps'));
  } catch (e) {
    return reportScenarioError(io, e, source);
  }
  io.stdout(mapsToScenario(entries, { source, proc: flags.name }));
  return 0;
}
