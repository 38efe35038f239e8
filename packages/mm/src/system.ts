import { IntervalTree } from '@rmaplab/interval-tree';
import { type LockEvent, LockSystem, RwSemaphore, SpinLock, type Task } from '@rmaplab/locks';
import { PhysMem } from './page.js';
import { PageTable } from './pgtable.js';
import { formatRelease, parseRelease, type Release } from './release.js';
import { lockOrderFor, namesFor, type RuleSet, rulesFor } from './rules.js';
import { SwapInfo } from './swapfile.js';
import type { TraceEvent, TraceRefs, TraceSink } from './trace.js';
import { AddressSpace, AnonVma, type AnonVmaChain, File, Mm, type VmArea } from './types.js';

/** Model options (the scenario language's `set` keys). */
export interface MmOptions {
  /** The kernel release whose rules apply (`MAJOR.MINOR[.PATCH]`, 4.9 to 6.18; see rules.ts). */
  kernel: string;
  /** A read fault on untouched private anonymous memory maps the shared zero page. */
  zeroPage: boolean;
  /** fault_around_bytes / PAGE_SIZE (1 turns fault-around off). */
  faultAround: number;
  /** Swap space in pages (Infinity: unlimited; 0: no swap). */
  swapPages: number;
  /** KSM max_page_sharing: 256 unless given, from the release that has it (ksm-max-page-sharing); no limit before. */
  ksmMaxSharing: number;
  /**
   * file_ra_state.ra_pages — include/linux/fs.h (4.9 to 6.18): the mmap read-around window of a miss,
   * in pages (the device's read_ahead_kb / 4; 0 reads only the missing page).
   */
  readahead: number;
  /**
   * huge_anon_orders_always — mm/huge_memory.c (6.8 on): bit N is set when anonymous folios of
   * order N are enabled (hugepages-NkB/enabled = always; before 6.8 only order 9, as
   * transparent_hugepage/enabled = always). 0 is `never`, the contract's default.
   */
  thpOrders: number;
  /**
   * sysctl_max_map_count — mm/mmap.c (4.9; mm/util.c later), vm.max_map_count: the most VMAs one mm
   * may have. mmap refuses when map_count is already above it, a split when it is at it (ENOMEM).
   */
  maxMapCount: number;
  /** Lock-order violations throw (true) or are only recorded (false). */
  strictLocking: boolean;
}

export const DEFAULT_OPTIONS: Readonly<MmOptions> = {
  kernel: '4.9',
  zeroPage: true,
  faultAround: 16,
  swapPages: Number.POSITIVE_INFINITY,
  ksmMaxSharing: Number.POSITIVE_INFINITY,
  // VM_READAHEAD_PAGES — include/linux/mm.h: the default read_ahead_kb, 128 KiB.
  readahead: 32,
  thpOrders: 0,
  // DEFAULT_MAX_MAP_COUNT — include/linux/mm.h: USHRT_MAX - 5.
  maxMapCount: 65530,
  strictLocking: true,
};

/** ksm_max_page_sharing's default — mm/ksm.c (4.13 on). */
const KSM_MAX_PAGE_SHARING_DEFAULT = 256;

/** The functions that take, release and try each kind of lock (an rwsem's add its mode). */
const LOCK_FN: Record<string, [string, string, string]> = {
  rwsem: ['down_', 'up_', 'down_'],
  mutex: ['mutex_lock', 'mutex_unlock', 'mutex_trylock'],
  spinlock: ['spin_lock', 'spin_unlock', 'spin_trylock'],
  bitlock: ['lock_page', 'unlock_page', 'trylock_page'],
};

/**
 * The simulated machine: physical memory, swap, files, every mm, the lock validator and the trace.
 * `current` is the task on whose behalf the running operation executes, as the kernel's `current`.
 */
export class MmSystem {
  readonly options: MmOptions;
  /** The release `options.kernel` names. */
  readonly release: Release;
  /** The rules in force in that release (rules.ts): what the model's code asks. */
  readonly rules: RuleSet;
  /**
   * The release's spelling of each name it spells differently from 4.9 (rules.ts namesFor). The
   * model's code writes 4.9's names; trace events are translated as they are emitted, and reports
   * and lock names through name().
   */
  readonly names: ReadonlyMap<string, string>;
  readonly mem: PhysMem;
  readonly locks: LockSystem;
  readonly swap: SwapInfo;
  /** Every live mm, in creation order. */
  readonly mms = new Set<Mm>();
  /** Files by name (shmem files too, named after their mapping). */
  readonly files = new Map<string, File>();
  /** Kernel threads. */
  readonly kswapd: Task = { id: 0, name: 'kswapd0' };
  readonly ksmd: Task = { id: 0, name: 'ksmd' };
  /** The running task (the kernel's `current`). */
  current: Task;
  private sink: TraceSink | null = null;
  /** True while somebody listens to the trace: callers build event text only then. */
  tracing = false;
  private ids = 0;
  private pids = 0;
  /**
   * try_to_munlock() — mm/rmap.c. munlock_vma_page() calls it for a page that other PTEs still map;
   * the rmap walk lives in @rmaplab/rmap, which installs it here (installRmap()).
   */
  tryToMunlock: ((pfn: number) => void) | null = null;
  /**
   * reclaim_pages() — mm/vmscan.c (6.12), for one page: shrink_folio_list() with ignore_references,
   * so try_to_unmap() and a swap entry (or a dropped clean page-cache page) whatever the page's
   * young bits say. MADV_PAGEOUT (madvise.ts) hands it the pages that the calling process alone
   * maps; the rmap walk lives in @rmaplab/rmap, which installs it here.
   */
  reclaimPage: ((pfn: number) => void) | null = null;
  /**
   * page_mkclean() — mm/rmap.c: write-protect and clean every shared PTE of a locked page-cache
   * page, as clear_page_dirty_for_io() does before writeback (filemap.ts syncs a file it extends);
   * returns the PTEs cleaned. The rmap walk lives in @rmaplab/rmap, which installs it here.
   */
  pageMkclean: ((pfn: number) => number) | null = null;
  /** Every anon_vma allocated and not yet freed (for the invariant checker and viewers). */
  readonly anonVmas = new Set<AnonVma>();

  /** Throws ReleaseError (a RangeError) for a release the model cannot represent. */
  constructor(options: Partial<MmOptions> = {}) {
    this.release = parseRelease(options.kernel ?? DEFAULT_OPTIONS.kernel);
    this.rules = rulesFor(this.release);
    this.names = namesFor(this.rules);
    this.options = {
      ...DEFAULT_OPTIONS,
      ...options,
      kernel: formatRelease(this.release),
      ksmMaxSharing: this.rules['ksm-max-page-sharing']
        ? (options.ksmMaxSharing ?? KSM_MAX_PAGE_SHARING_DEFAULT)
        : Number.POSITIVE_INFINITY,
    };
    this.mem = new PhysMem();
    this.locks = new LockSystem({
      order: lockOrderFor(this.release),
      strict: this.options.strictLocking,
    });
    this.swap = new SwapInfo(this.options.swapPages);
    this.current = this.kswapd;
  }

  /** Install (or remove) the trace sink; lock events are forwarded to it as `lock` events. */
  setTrace(sink: TraceSink | null): void {
    this.sink = sink;
    this.tracing = sink !== null;
    this.locks.onEvent = sink ? (e) => this.lockEvent(e) : undefined;
  }

  private lockEvent(e: LockEvent): void {
    const [take, release, trylock] = LOCK_FN[e.lock.kind];
    let fn: string;
    if (e.lock.kind === 'rwsem') fn = (e.type === 'release' ? release : take) + e.mode;
    else fn = e.type === 'release' ? release : take;
    if (e.type === 'trylock-failed' || e.trylock)
      fn = e.lock.kind === 'rwsem' ? `${trylock}${e.mode}_trylock` : trylock;
    const what = e.type === 'acquire' ? 'took' : e.type === 'release' ? 'released' : e.type;
    this.emit({
      kind: 'lock',
      fn,
      task: taskName(e.task),
      msg: `${what} ${e.lock.name}${e.lock.kind === 'rwsem' ? ` (${e.mode})` : ''}`,
      refs: { lock: e.lock.name },
    });
  }

  /** `name` (4.9's, as the model's code writes it) as this release spells it. */
  name(name: string): string {
    return this.names.get(name) ?? name;
  }

  /**
   * Record a trace event, its function named as the release names it (cheap no-op without a sink;
   * callers check `tracing` before building text).
   */
  emit(e: TraceEvent): void {
    const sink = this.sink;
    if (!sink) return;
    const fn = this.names.get(e.fn);
    sink(fn === undefined ? e : { ...e, fn });
  }

  /** Shorthand for a `call` event of the current task. */
  trace(fn: string, msg: string, refs?: TraceRefs): void {
    this.sink?.({ kind: 'call', fn: this.name(fn), task: taskName(this.current), msg, refs });
  }

  /**
   * Run `fn` with the trace off: the model's own stand-in for work the release does another way
   * (5.18's mlock_count, which the model finds by an rmap walk) stays out of the release's trace.
   */
  untraced<T>(fn: () => T): T {
    const sink = this.sink;
    if (!sink) return fn();
    this.setTrace(null);
    try {
      return fn();
    } finally {
      this.setTrace(sink);
    }
  }

  nextId(): number {
    return ++this.ids;
  }

  private contents = 0;
  private readonly named = new Map<string, number>();
  /** A content identity never used before (a write without a value, a new file page). */
  newContent(): number {
    return ++this.contents;
  }
  /** The content identity of a page filled with `value`: equal values give identical pages. */
  contentFor(value: string): number {
    let c = this.named.get(value);
    if (c === undefined) {
      c = this.newContent();
      this.named.set(value, c);
    }
    return c;
  }

  /** A new, empty mm owned by a new task (mm_alloc + the task of copy_process). */
  newMm(name: string): Mm {
    const id = this.nextId();
    const owner: Task = { id: ++this.pids, name };
    const mm = new Mm(
      id,
      owner,
      new IntervalTree<VmArea>(),
      new PageTable(),
      new RwSemaphore(this.locks, `mm->${this.name('mmap_sem')}`, `mm${id}->${this.name('mmap_sem')}`),
      new SpinLock(this.locks, 'mm->page_table_lock', `mm${id}->page_table_lock`),
    );
    this.mms.add(mm);
    return mm;
  }

  /** A split page-table lock for a new PTE table of `mm`. */
  newPtl(mm: Mm, pmdNo: number): SpinLock {
    return new SpinLock(this.locks, 'pte_lock', `mm${mm.id}->pte[${pmdNo}]`);
  }

  /** anon_vma_alloc()'s allocation part (kmem_cache_alloc + anon_vma_ctor). */
  newAnonVma(): AnonVma {
    const id = this.nextId();
    const av = new AnonVma(
      id,
      new IntervalTree<AnonVmaChain>(),
      new RwSemaphore(this.locks, 'anon_vma->rwsem', `AV${id}->rwsem`),
    );
    this.anonVmas.add(av);
    return av;
  }

  /** A new file object with an empty page cache (filemap.ts fills it). */
  newFile(name: string, pages: number, shmem: boolean): File {
    if (this.files.has(name)) throw new Error(`file ${name} exists`);
    const id = this.nextId();
    const mapping = new AddressSpace(
      id,
      name,
      new IntervalTree<VmArea>(),
      new RwSemaphore(this.locks, 'mapping->i_mmap_rwsem', `${name}->i_mmap_rwsem`),
    );
    const file = new File(name, mapping, pages, shmem);
    this.files.set(name, file);
    return file;
  }

  /** Run `fn` as task `t` (sets `current`), restoring the previous task afterwards. */
  as<T>(t: Task, fn: () => T): T {
    const prev = this.current;
    this.current = t;
    try {
      return fn();
    } finally {
      this.current = prev;
    }
  }
}

export function taskName(t: Task): string {
  return `${t.id}:${t.name}`;
}
