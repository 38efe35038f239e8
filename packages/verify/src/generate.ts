/**
 * Random kernel-executable scenarios for the cross-check: several processes, fork, writes with
 * shared values (so KSM has something to merge), munmap and mprotect of ranges, mremap, mlock,
 * madvise (hugepage and nohugepage included) and ksm. The generator keeps its own account of what each process maps, independent of
 * the model, and only emits statements the real kernel accepts and no process dies of: a page is
 * accessed only when it is mapped with enough protection and inside its file or shmem object, and
 * calls that fail on a hole (mprotect, mremap, mlock, madvise: ENOMEM/EFAULT) are only made on
 * ranges without holes. The `set` lines a scenario relies on (`set kernel 6.12` for the advice 4.9
 * does not have) come first, so it runs as generated under `rmaplab run`'s defaults too. With
 * `simulator` it also emits the simulator's own statements and `set` lines (the reliability soak's
 * sequences, packages/verify/test/soak.ts).
 */
import { parseRelease, rulesFor, timelinePoints } from '@rmaplab/mm';
import { TTU_FLAG_NAMES, TTU_FLAG_TABLE, ttuFlagValue } from '@rmaplab/rmap';

/** A small seeded generator (mulberry32): the same seed gives the same scenario. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface GenerateOptions {
  /** Statements to emit, observes included (default 30). */
  statements?: number;
  /** Allow `ksm` statements (they cost a few KSM full scans on the kernel each). */
  ksm?: boolean;
  /** Largest region, in pages (default 16). */
  maxPages?: number;
  /** Most processes alive at once (default 4). */
  maxProcs?: number;
  /**
   * Also emit what only the simulator runs (default false): the rmap statements and `set` lines of
   * a random release and options (SIMULATOR_MAKERS, simulatorHeader). Such scenarios are for the
   * model alone.
   */
  simulator?: boolean;
}

type PageState = 'unmapped' | 'none' | 'r' | 'rw';

interface GenRegion {
  name: string;
  kind: 'anon' | 'shmem' | 'file';
  file?: string;
  /** Pages of the shmem object (fixed at mmap; mremap does not grow it). */
  shmemPages: number;
  /** Protection per page, `pages.length` = the region's latest size. */
  pages: PageState[];
  locked: boolean;
  /**
   * A part of the region had its protection changed alone, so it may be several VMAs even where
   * the protections agree again: whether split VMAs merge back depends on their anon_vmas (and
   * on the kernel release), which this account does not follow.
   */
  split: boolean;
}

interface GenProc {
  name: string;
  regions: GenRegion[];
}

/** The generator's account of the world, updated by every statement it emits. */
class World {
  procs: GenProc[] = [];
  files = new Map<string, number>();
  nextProc = 0;
  nextRegion = 0;
  lines: string[] = [];
  /** Advice only Linux 5.4 and later have (`pageout`, `cold`) was emitted: `set kernel 6.12` is needed. */
  newAdvice = false;

  constructor(
    readonly rnd: () => number,
    readonly opts: Required<GenerateOptions>,
  ) {}

  int(lo: number, hi: number): number {
    return lo + Math.floor(this.rnd() * (hi - lo + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.rnd() * items.length)];
  }

  emit(line: string): void {
    this.lines.push(line);
  }

  spawn(): void {
    const name = `P${this.nextProc++}`;
    this.procs.push({ name, regions: [] });
    this.emit(`spawn ${name}`);
  }

  /** Last page (exclusive) a region's page may be accessed at: the file's or shmem object's end. */
  backing(r: GenRegion): number {
    if (r.kind === 'file') return this.files.get(r.file!)!;
    if (r.kind === 'shmem') return r.shmemPages;
    return Number.POSITIVE_INFINITY;
  }

  noHoles(r: GenRegion): boolean {
    return r.pages.every((p) => p !== 'unmapped');
  }
}

/** One kind of statement: `make` returns false when it has nothing valid to do in this world. */
type Maker = (w: World) => boolean;

function regionsOf(w: World, pred: (r: GenRegion) => boolean): [GenProc, GenRegion][] {
  const out: [GenProc, GenRegion][] = [];
  for (const p of w.procs) for (const r of p.regions) if (pred(r)) out.push([p, r]);
  return out;
}

const mmap: Maker = (w) => {
  if (!w.procs.length) return false;
  const p = w.pick(w.procs);
  const pages = w.int(1, w.opts.maxPages);
  const name = `r${w.nextRegion++}`;
  const roll = w.rnd();
  const kind: GenRegion['kind'] = roll < 0.6 ? 'anon' : roll < 0.75 ? 'shmem' : 'file';
  const r: GenRegion = {
    name,
    kind,
    shmemPages: pages,
    pages: Array(pages).fill('rw'),
    locked: false,
    split: false,
  };
  if (kind === 'file') {
    r.file = `f${w.int(0, 2)}`;
    w.files.set(r.file, Math.max(w.files.get(r.file) ?? 0, pages));
    w.emit(`${p.name}: mmap ${name} ${pages} file:${r.file} ${w.rnd() < 0.5 ? 'private' : 'shared'}`);
  } else w.emit(`${p.name}: mmap ${name} ${pages} anon ${kind === 'shmem' ? 'shared' : 'private'}`);
  p.regions.push(r);
  return true;
};

/** A run of pages FIRST..LAST that all allow the access. */
function accessible(w: World, r: GenRegion, write: boolean): [number, number] | null {
  const ok = (i: number) => i < w.backing(r) && (r.pages[i] === 'rw' || (!write && r.pages[i] === 'r'));
  const starts = r.pages.map((_, i) => i).filter(ok);
  if (!starts.length) return null;
  const first = w.pick(starts);
  let last = first;
  const want = w.rnd() < 0.6 ? 0 : w.int(1, 5);
  while (last - first < want && ok(last + 1)) last++;
  return [first, last];
}

function access(write: boolean): Maker {
  return (w) => {
    const choices = regionsOf(w, (r) => accessible(w, r, write) !== null);
    if (!choices.length) return false;
    const [p, r] = w.pick(choices);
    const [first, last] = accessible(w, r, write)!;
    const page = first === last ? `${first}` : `${first}..${last}`;
    // A small pool of values, so identical pages arise in several places (KSM merges them).
    const value = write && w.rnd() < 0.6 ? ` v${w.int(0, 2)}` : '';
    w.emit(`${p.name}: ${write ? 'write' : 'read'} ${r.name} ${page}${value}`);
    return true;
  };
}

const fork: Maker = (w) => {
  if (!w.procs.length || w.procs.length >= w.opts.maxProcs) return false;
  const p = w.pick(w.procs);
  const child: GenProc = {
    name: `P${w.nextProc++}`,
    // dup_mmap() clears VM_LOCKED in the child: mlock is not inherited.
    regions: p.regions.map((r) => ({ ...r, pages: [...r.pages], locked: false })),
  };
  w.procs.push(child);
  w.emit(`${p.name}: fork ${child.name}`);
  return true;
};

const exit: Maker = (w) => {
  if (w.procs.length < 2) return false;
  const p = w.pick(w.procs);
  w.procs = w.procs.filter((q) => q !== p);
  w.emit(`${p.name}: exit`);
  return true;
};

const munmap: Maker = (w) => {
  const choices = regionsOf(w, (r) => r.pages.some((s) => s !== 'unmapped'));
  if (!choices.length) return false;
  const [p, r] = w.pick(choices);
  if (w.rnd() < 0.3) {
    r.pages.fill('unmapped');
    w.emit(`${p.name}: munmap ${r.name}`);
    return true;
  }
  const page = w.int(0, r.pages.length - 1);
  const count = w.int(1, r.pages.length - page);
  r.pages.fill('unmapped', page, page + count);
  w.emit(`${p.name}: munmap ${r.name} ${page} ${count}`);
  return true;
};

const mprotect: Maker = (w) => {
  const choices = regionsOf(w, (r) => r.pages.some((s) => s !== 'unmapped'));
  if (!choices.length) return false;
  const [p, r] = w.pick(choices);
  const page = w.pick(r.pages.map((s, i) => (s === 'unmapped' ? -1 : i)).filter((i) => i >= 0));
  let last = page;
  const want = w.int(0, 4);
  while (last - page < want && last + 1 < r.pages.length && r.pages[last + 1] !== 'unmapped') last++;
  const prot = w.pick(['none', 'r', 'rw'] as const);
  r.pages.fill(prot, page, last + 1);
  if (page > 0 || last < r.pages.length - 1) r.split = true;
  w.emit(`${p.name}: mprotect ${r.name} ${page} ${last - page + 1} ${prot}`);
  return true;
};

/** mremap needs the whole region in one VMA: never split, no hole. */
function oneVma(r: GenRegion): boolean {
  return !r.split && r.pages.every((s) => s === r.pages[0] && s !== 'unmapped');
}

const mremap: Maker = (w) => {
  const choices = regionsOf(w, oneVma);
  if (!choices.length) return false;
  const [p, r] = w.pick(choices);
  if (w.rnd() < 0.3) {
    w.emit(`${p.name}: mremap ${r.name} move`);
    return true;
  }
  const pages = w.int(1, w.opts.maxPages);
  const fill = r.pages[0];
  r.pages = Array.from({ length: pages }, (_, i) => r.pages[i] ?? fill);
  w.emit(`${p.name}: mremap ${r.name} ${pages}`);
  return true;
};

const mlock: Maker = (w) => {
  // Populating a PROT_NONE page or one beyond the file or shmem object fails (EFAULT, mlock
  // returns ENOMEM after locking the VMAs before it): only regions without such pages.
  const choices = regionsOf(
    w,
    (r) => w.noHoles(r) && !r.pages.includes('none') && r.pages.length <= w.backing(r),
  );
  if (!choices.length) return false;
  const [p, r] = w.pick(choices);
  r.locked = !r.locked || w.rnd() < 0.3;
  w.emit(`${p.name}: ${r.locked ? 'mlock' : 'munlock'} ${r.name}`);
  return true;
};

const madvise: Maker = (w) => {
  const choices = regionsOf(w, (r) => w.noHoles(r));
  if (!choices.length) return false;
  const [p, r] = w.pick(choices);
  // dontneed, pageout and cold refuse VM_LOCKED regions (EINVAL). hugepage and nohugepage only
  // change the VMAs' flags (the region's VMAs split and merge with them, as the `vmas` show).
  const advice = r.locked
    ? w.pick(['mergeable', 'unmergeable', 'hugepage', 'nohugepage'])
    : w.pick([
        'mergeable',
        'mergeable',
        'unmergeable',
        'dontneed',
        'pageout',
        'cold',
        'hugepage',
        'nohugepage',
      ]);
  if (advice === 'mergeable' && !w.opts.ksm) return false;
  if (advice === 'pageout' || advice === 'cold') w.newAdvice = true;
  w.emit(`${p.name}: madvise ${r.name} ${advice}`);
  return true;
};

const ksm: Maker = (w) => {
  if (!w.opts.ksm) return false;
  w.emit('ksm');
  return true;
};

const spawn: Maker = (w) => {
  if (w.procs.length >= w.opts.maxProcs) return false;
  w.spawn();
  return true;
};

/** Statement kinds with their weights. */
const MAKERS: [Maker, number][] = [
  [mmap, 5],
  [access(true), 10],
  [access(false), 5],
  [fork, 3],
  [exit, 1],
  [spawn, 1],
  [munmap, 2],
  [mprotect, 3],
  [mremap, 2],
  [mlock, 2],
  [madvise, 3],
  [ksm, 1],
];

/** A random kernel-executable scenario, as source text (one statement a line, observes included). */
export function generateScenario(seed: number, options: GenerateOptions = {}): string {
  const opts: Required<GenerateOptions> = {
    statements: options.statements ?? 30,
    ksm: options.ksm ?? false,
    maxPages: options.maxPages ?? 16,
    maxProcs: options.maxProcs ?? 4,
    simulator: options.simulator ?? false,
  };
  const w = new World(prng(seed), opts);
  w.emit(`# random scenario, seed ${seed}`);
  w.spawn();
  const makers = opts.simulator ? [...MAKERS, ...SIMULATOR_MAKERS] : MAKERS;
  const total = makers.reduce((s, [, n]) => s + n, 0);
  let sinceObserve = 0;
  for (let n = 1; n < opts.statements - 1; ) {
    if (sinceObserve >= 4 && w.rnd() < 0.3) {
      w.emit('observe');
      sinceObserve = 0;
      n++;
      continue;
    }
    let x = w.rnd() * total;
    let maker = makers[0][0];
    for (const [m, weight] of makers) {
      if ((x -= weight) < 0) {
        maker = m;
        break;
      }
    }
    if (maker(w)) {
      n++;
      sinceObserve++;
    }
  }
  w.emit('observe');
  if (opts.simulator) simulatorHeader(w);
  else if (w.newAdvice) w.lines.splice(1, 0, 'set kernel 6.12');
  return `${w.lines.join('\n')}\n`;
}

// ---- The simulator's own statements (GenerateOptions.simulator) -------------------------------

/** A page of a region that the account says is mapped there (PTE or not: the model decides). */
function mappedPage(w: World): [GenProc, GenRegion, number] | null {
  const choices = regionsOf(w, (r) => r.pages.some((s, i) => s !== 'unmapped' && i < w.backing(r)));
  if (!choices.length) return null;
  const [p, r] = w.pick(choices);
  const pages = r.pages.flatMap((s, i) => (s !== 'unmapped' && i < w.backing(r) ? [i] : []));
  return [p, r, w.pick(pages)];
}

/**
 * A page of one of the latest accesses, if its region still maps it: such pages most likely have a
 * PTE, which an rmap statement needs (the account does not know which pages do).
 */
function accessedPage(w: World): [GenProc, GenRegion, number] | null {
  const seen: [GenProc, GenRegion, number][] = [];
  for (const line of w.lines.slice(-12)) {
    const m = /^(\S+): (?:read|write) (\S+) (\d+)(?:\.\.(\d+))?/.exec(line);
    const p = m && w.procs.find((q) => q.name === m[1]);
    const r = p?.regions.find((x) => x.name === m![2]);
    if (!p || !r || !m) continue;
    const page = w.int(Number(m[3]), Number(m[4] ?? m[3]));
    if (r.pages[page] !== undefined && r.pages[page] !== 'unmapped') seen.push([p, r, page]);
  }
  return seen.length ? w.pick(seen) : null;
}

/** Every TTU_* name any release has; simulatorHeader drops those the chosen release does not take. */
const TTU_NAMES: readonly string[] = TTU_FLAG_NAMES;

/**
 * An rmap statement on a page the account maps. Whether a page is present there (not swapped out,
 * not the zero page) is the model's business: the runner refuses the statement when it is not.
 */
function rmapStatement(op: string): Maker {
  return (w) => {
    const at = (w.rnd() < 0.7 ? accessedPage(w) : null) ?? mappedPage(w);
    if (!at) return false;
    const [p, r, page] = at;
    const flags = op === 'unmap' ? TTU_NAMES.filter(() => w.rnd() < 0.2) : [];
    w.emit([`${p.name}: ${op} ${r.name} ${page}`, ...flags].join(' '));
    return true;
  };
}

/** `set swap` in the middle of a run: the swap device shrinks or grows under pages already in it. */
const setSwap: Maker = (w) => {
  w.emit(`set swap ${w.pick(SWAP_SIZES)}`);
  return true;
};

const SWAP_SIZES = ['0', '1', '4', 'unlimited'] as const;

/** The simulator-only statement kinds with their weights, drawn alongside MAKERS. */
const SIMULATOR_MAKERS: [Maker, number][] = [
  [rmapStatement('walk'), 2],
  [rmapStatement('unmap'), 3],
  [rmapStatement('reclaim'), 3],
  [rmapStatement('referenced'), 2],
  [rmapStatement('migrate'), 2],
  [rmapStatement('mkclean'), 1],
  [setSwap, 1],
];

/**
 * The `set` lines of a simulator scenario, after its first comment: a release of the timeline (one
 * with MADV_PAGEOUT and MADV_COLD when the scenario uses them), then some of the other options.
 * Chosen once the statements are known, so the `unmap` flags are cut down to those of the release
 * — all but a few, kept to be refused (a refused statement must change nothing).
 */
function simulatorHeader(w: World): void {
  const releases = timelinePoints().filter(
    (k) => !w.newAdvice || rulesFor(parseRelease(k))['madvise-cold-pageout'],
  );
  const kernel = w.pick(releases);
  const rules = rulesFor(parseRelease(kernel));
  const kept = new Set<string>(
    TTU_FLAG_TABLE.filter((f) => ttuFlagValue(rules, f) !== null).map((f) => f.name),
  );
  for (let i = 0; i < w.lines.length; i++) {
    const words = w.lines[i].split(' ');
    if (words[1] === 'unmap')
      w.lines[i] = words.filter((x, j) => j < 4 || kept.has(x) || w.rnd() < 0.02).join(' ');
  }
  const sets = [`set kernel ${kernel}`];
  const maybe = (line: string) => {
    if (w.rnd() < 0.5) sets.push(line);
  };
  maybe(`set swap ${w.pick(SWAP_SIZES)}`);
  maybe(`set zero-page ${w.pick(['on', 'off'])}`);
  maybe(`set fault-around ${w.pick([1, 4, 16, 64, 512])}`);
  maybe(`set ksm-max-sharing ${w.pick([2, 3, 256])}`);
  maybe(`set readahead ${w.pick([0, 2, 32])}`);
  w.lines.splice(1, 0, ...sets);
}
