/**
 * The scenario runner: drives @rmaplab/mm and @rmaplab/rmap statement by statement. Every statement
 * is checked against the current state before anything changes, so a refused statement (unknown
 * process or region, page out of range, a call the kernel refuses, an access the process would die
 * of) leaves the state as it was and reports the line and column.
 */
import {
  checkInvariants,
  extendFile,
  HPAGE_PMD_ORDER,
  hex,
  KernelError,
  linearPageIndex,
  MAP_PRIVATE,
  MAP_SHARED,
  type Mm,
  type MmOptions,
  MmSystem,
  openFile,
  PAGE_SIZE,
  PMD_SIZE,
  PROT_READ,
  PROT_WRITE,
  readPte,
  ruleById,
  sysExit,
  sysFork,
  sysMadvise,
  sysMlock,
  sysMmap,
  sysMprotect,
  sysMremap,
  sysMunlock,
  sysMunmap,
  THP_ORDERS,
  type TraceEvent,
  userAccess,
  VM_READ,
  VM_WRITE,
  vmaAt,
} from '@rmaplab/mm';
import { installRmap, rmapExternalRefs } from '@rmaplab/rmap';
import type { SetKey, SetValue, Span, Statement, StatementOf } from './ast.js';
import { ScenarioError } from './errors.js';
import { type Observation, observe } from './observation.js';
import { iterateScenario } from './parser.js';
import { type OpReport, type RmapOp, runKsm, runRmapStatement, type WhereFn } from './rmap-ops.js';
import { addressName, type ProcState, type RegionState } from './state.js';

/** Size limits that turn a runaway scenario into a clear error instead of an exhausted heap. */
export interface Limits {
  /** Processes spawned or forked, in total. */
  processes: number;
  /** Pages of one region. */
  regionPages: number;
  /** Physical page frames in use. */
  frames: number;
  /** Statements run. */
  statements: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = {
  processes: 100_000,
  regionPages: 1 << 24,
  frames: 50_000_000,
  statements: 100_000_000,
};

export interface RunnerOptions {
  /** Run the invariant checker after every statement. */
  check?: boolean;
  /** Collect the trace events of every statement in its StepResult. */
  trace?: boolean;
  /** Options before any `set` (the scenario's `set` lines override them). */
  options?: Partial<MmOptions>;
  /**
   * Options that override the scenario's own `set` lines for their keys (`rmaplab run --set
   * kernel=6.18`): applied before the first statement; a `set` line for such a key then changes
   * nothing.
   */
  overrides?: readonly SetValue[];
  limits?: Partial<Limits>;
}

/** What one statement did. */
export interface StepResult {
  step: number;
  statement: Statement;
  /** Trace events, when tracing (otherwise an empty array, shared and frozen). */
  events: TraceEvent[];
  /** For `observe`. */
  observation?: Observation;
  /** For `walk`, `unmap`, `reclaim`, `referenced`, `migrate`, `mkclean`, `ksm`. */
  report?: OpReport;
  /** For a `set` line that an override (RunnerOptions.overrides) replaced: it changed nothing. */
  overridden?: true;
}

/** The events of every step when not tracing: nothing is ever added, so nothing is allocated per step. */
const NO_EVENTS = Object.freeze([]) as unknown as TraceEvent[];

/** First address handed to regions: each gets a fresh 2 MiB-aligned slot with room to grow. */
const REGION_BASE = 0x100_0000_0000;
const MIN_SLOT = 64 * 1024 * 1024;

export class ScenarioRunner {
  sys: MmSystem;
  readonly procs = new Map<string, ProcState>();
  /** The processes by mm id, for naming the places a walk visited. */
  private readonly byMm = new Map<number, ProcState>();
  /** How many times a region has moved or changed size (mremap): the version of the places' names. */
  private layoutVersion = 0;
  /** The layout version of the latest report (-1: none yet). */
  private reportedAt = -1;
  /**
   * Earlier layouts of the regions that mremap moved or resized, oldest first, each with the last
   * layout version it held for; only those that a report made then may still name (a report names
   * its places when read, perhaps after such a move).
   */
  private readonly pastLayouts = new Map<RegionState, { until: number; addr: number; pages: number }[]>();
  readonly limits: Limits;
  private readonly opts: RunnerOptions;
  private nextSlot = REGION_BASE;
  private started = false;
  private spawned = 0;
  private steps = 0;
  /** This statement's trace events; without tracing, one frozen empty array that every step shares. */
  private events: TraceEvent[] = NO_EVENTS;
  /** The keys of `opts.overrides`: the scenario's `set` lines for them are ignored. */
  private readonly overridden: ReadonlySet<SetKey>;

  /** Throws RangeError for an override the model cannot take (a release it does not represent). */
  constructor(opts: RunnerOptions = {}) {
    this.opts = opts;
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.sys = this.newSystem(opts.options ?? {});
    for (const v of opts.overrides ?? []) this.apply(v);
    this.overridden = new Set((opts.overrides ?? []).map((v) => v.key));
  }

  private newSystem(options: Partial<MmOptions>): MmSystem {
    const sys = new MmSystem(options);
    installRmap(sys);
    if (this.opts.trace) sys.setTrace((e) => this.events.push(e));
    return sys;
  }

  /** Run one statement. Throws ScenarioError (state unchanged) when it is refused. */
  exec(st: Statement): StepResult {
    if (++this.steps > this.limits.statements)
      throw this.error(st.span, 'limit', `more than ${this.limits.statements} statements`);
    if (this.opts.trace) this.events = [];
    const result: StepResult = { step: st.step, statement: st, events: this.events };
    try {
      this.run(st, result);
    } catch (e) {
      if (e instanceof KernelError) throw this.error(st.span, 'kernel', kernelMessage(st, e));
      throw e;
    }
    if (st.op !== 'set') this.started = true;
    if (this.sys.mem.allocated > this.limits.frames)
      throw this.error(st.span, 'limit', `more than ${this.limits.frames} page frames in use`);
    if (this.opts.check) this.checkInvariants(st);
    return result;
  }

  /** The invariant checker, with the external references KSM holds. */
  checkInvariants(st?: Statement): void {
    try {
      checkInvariants(this.sys, rmapExternalRefs(this.sys));
    } catch (e) {
      if (st && e instanceof Error)
        throw this.error(st.span, 'semantic', `internal error after this statement: ${e.message}`);
      throw e;
    }
  }

  /** The observation of the current state (what `observe` emits). */
  observe(step: number): Observation {
    return observe(this.sys, this.procs.values(), step);
  }

  private run(st: Statement, result: StepResult): void {
    switch (st.op) {
      case 'set':
        if (this.overridden.has(st.set.key)) result.overridden = true;
        else this.apply(st.set, st.valueSpan);
        return;
      case 'spawn': {
        this.newProcName(st.proc, st.procSpan);
        this.addProc({ name: st.proc, mm: this.sys.newMm(st.proc), regions: new Map(), alive: true });
        return;
      }
      case 'observe':
        result.observation = this.observe(st.step);
        return;
      case 'ksm':
        result.report = runKsm(this.sys);
        return;
      case 'mmap':
        this.mmap(st);
        return;
      case 'read':
      case 'write':
        this.access(st);
        return;
      case 'fork': {
        const p = this.proc(st);
        this.newProcName(st.child, st.childSpan);
        const mm = sysFork(this.sys, p.mm, st.child);
        const regions = new Map<string, RegionState>();
        for (const [k, r] of p.regions) regions.set(k, { ...r });
        this.addProc({ name: st.child, mm, regions, alive: true });
        return;
      }
      case 'exit': {
        const p = this.proc(st);
        sysExit(this.sys, p.mm);
        p.alive = false;
        return;
      }
      case 'munmap': {
        const [p, r] = this.region(st);
        const first = st.range?.page ?? 0;
        const count = st.range?.count ?? r.pages;
        if (st.range) this.checkRange(r, st.range.page, st.range.count, st.range.pageSpan);
        sysMunmap(this.sys, p.mm, r.addr + first * PAGE_SIZE, count * PAGE_SIZE);
        return;
      }
      case 'mprotect': {
        const [p, r] = this.region(st);
        this.checkRange(r, st.page, st.count, st.pageSpan);
        const prot = st.prot === 'none' ? 0 : st.prot === 'r' ? PROT_READ : PROT_READ | PROT_WRITE;
        sysMprotect(this.sys, p.mm, r.addr + st.page * PAGE_SIZE, st.count * PAGE_SIZE, prot);
        return;
      }
      case 'mremap': {
        const [p, r] = this.region(st);
        this.checkRegionPages(st.pages, st.pagesSpan);
        const oldLen = r.pages * PAGE_SIZE;
        const newLen = st.pages * PAGE_SIZE;
        const moveTo = newLen > oldLen && r.addr + newLen > r.slotEnd ? this.slot(newLen) : undefined;
        const addr = sysMremap(this.sys, p.mm, r.addr, oldLen, newLen, moveTo?.addr);
        this.relayout(r);
        r.addr = addr;
        if (moveTo) r.slotEnd = moveTo.end;
        r.pages = st.pages;
        return;
      }
      case 'mremap-move': {
        const [p, r] = this.region(st);
        const len = r.pages * PAGE_SIZE;
        const to = this.slot(len);
        const addr = sysMremap(this.sys, p.mm, r.addr, len, len, to.addr);
        this.relayout(r);
        r.addr = addr;
        r.slotEnd = to.end;
        return;
      }
      case 'mlock':
      case 'munlock': {
        const [p, r] = this.region(st);
        (st.op === 'mlock' ? sysMlock : sysMunlock)(this.sys, p.mm, r.addr, r.pages * PAGE_SIZE);
        return;
      }
      case 'madvise': {
        const [p, r] = this.region(st);
        sysMadvise(this.sys, p.mm, r.addr, r.pages * PAGE_SIZE, st.advice);
        return;
      }
      case 'walk':
      case 'unmap':
      case 'reclaim':
      case 'referenced':
      case 'migrate':
      case 'mkclean': {
        const [p, r] = this.region(st);
        this.checkRange(r, st.page, 1, st.pageSpan);
        result.report = runRmapStatement(
          this.sys,
          st as RmapOp,
          p.mm,
          r.addr + st.page * PAGE_SIZE,
          this.placeNames(),
          (span, msg, kind) => this.error(span, kind ?? 'semantic', msg),
        );
        return;
      }
    }
  }

  /** Apply one option; `span` locates the `set` line it came from (none for an override). */
  private apply(s: SetValue, span?: Span): void {
    const o = this.sys.options;
    switch (s.key) {
      case 'kernel':
        if (this.started && s.value !== o.kernel && span)
          throw this.error(span, 'semantic', '`set kernel` must come before the first statement that runs', {
            expected: 'set kernel on the first lines of the scenario',
          });
        if (s.value !== o.kernel) {
          // max_page_sharing restarts at the new release's default (none before ksm-max-page-sharing).
          const { ksmMaxSharing: _, ...kept } = o;
          const sys = this.newSystem({ ...kept, kernel: s.value });
          this.checkThp(sys, kept.thpOrders, span);
          this.sys = sys;
        }
        return;
      case 'zero-page':
        o.zeroPage = s.value;
        return;
      case 'fault-around':
        // fault_around_bytes is rounded down to a power of two (fault_around_bytes_set).
        o.faultAround = 2 ** Math.floor(Math.log2(s.value));
        return;
      case 'swap':
        o.swapPages = s.value === 'unlimited' ? Number.POSITIVE_INFINITY : s.value;
        this.sys.swap.size = o.swapPages;
        return;
      case 'ksm-max-sharing':
        // Before ksm-max-page-sharing (4.13) there is no max_page_sharing: the option has no effect.
        if (this.sys.rules['ksm-max-page-sharing']) o.ksmMaxSharing = s.value;
        return;
      case 'readahead':
        o.readahead = s.value;
        return;
      case 'thp':
        this.checkThp(this.sys, s.value, span);
        o.thpOrders = s.value;
        return;
      case 'max-map-count':
        o.maxMapCount = s.value;
        return;
    }
  }

  /**
   * Folio sizes below 2M exist from anon-mthp (6.8) on; before it only the PMD-mapped THP does.
   * `span` locates the `set` line being applied (none for an override, checked at `set kernel`).
   */
  private checkThp(sys: MmSystem, orders: number, span?: Span): void {
    if (sys.rules['anon-mthp'] || (orders & ~(1 << HPAGE_PMD_ORDER)) === 0) return;
    const sizes = Object.entries(THP_ORDERS)
      .filter(([, order]) => order !== HPAGE_PMD_ORDER && orders & (1 << order))
      .map(([size]) => size);
    const msg = `kernel ${sys.options.kernel} has no anonymous folios of ${sizes.join(', ')}: only 2M, sizes below it came in ${ruleById('anon-mthp').since} (anon-mthp)`;
    if (span) throw this.error(span, 'semantic', msg, { expected: 'never or 2M' });
    throw new RangeError(msg);
  }

  private mmap(st: StatementOf<'mmap'>): void {
    const p = this.proc(st);
    if (p.regions.has(st.region))
      throw this.error(st.regionSpan, 'semantic', `${st.proc} already has a region named ${st.region}`, {
        expected: 'a new region name',
      });
    this.checkRegionPages(st.pages, st.pagesSpan);
    const len = st.pages * PAGE_SIZE;
    let file = null;
    if (st.backing.type === 'file') {
      const existing = this.sys.files.get(st.backing.file);
      file = existing
        ? extendFile(this.sys, existing, st.pages)
        : openFile(this.sys, st.backing.file, st.pages);
    }
    const { addr, end: slotEnd } = this.slot(len);
    sysMmap(this.sys, p.mm, {
      addr,
      len,
      prot: PROT_READ | PROT_WRITE,
      flags: st.shared ? MAP_SHARED : MAP_PRIVATE,
      file,
    });
    // While THP is `never` (the contract's default) the region is marked MADV_NOHUGEPAGE by its
    // mmap, as rmaplab-kcheck's worker does right after the mmap; with some size enabled it is not.
    if (this.sys.options.thpOrders === 0) sysMadvise(this.sys, p.mm, addr, len, 'nohugepage');
    p.regions.set(st.region, {
      name: st.region,
      addr,
      slotEnd,
      pages: st.pages,
      shared: st.shared,
      ...(st.backing.type === 'file' ? { file: st.backing.file } : {}),
    });
  }

  /**
   * read / write of one page or a range: every page is checked before any is touched. The checks
   * go VMA by VMA (one lookup per VMA the range crosses, not one per page), and each refusal names
   * the first page, in page order, that the page-by-page access would have died on.
   */
  private access(st: StatementOf<'read' | 'write'>): void {
    const [p, r] = this.region(st);
    this.checkRange(r, st.first, st.last - st.first + 1, st.pageSpan);
    const write = st.op === 'write';
    const end = r.addr + (st.last + 1) * PAGE_SIZE;
    for (let addr = r.addr + st.first * PAGE_SIZE; addr < end; ) {
      const vma = vmaAt(p.mm, addr);
      if (!vma)
        throw this.error(
          st.pageSpan,
          'kernel',
          `${pageName(st, r, addr)} is not mapped: the access would kill ${st.proc} (SIGSEGV)`,
        );
      if (!(vma.vmFlags & (write ? VM_WRITE : VM_READ)))
        throw this.error(
          st.pageSpan,
          'kernel',
          `${pageName(st, r, addr)} is not ${write ? 'writable' : 'readable'}: the access would kill ${st.proc} (SIGSEGV)`,
        );
      const spanEnd = Math.min(end, vma.vmEnd);
      const file = vma.vmFile;
      // The file offset grows with the address, so only the span's last page can be past EOF.
      if (file && linearPageIndex(vma, spanEnd - PAGE_SIZE) >= file.sizePages) {
        const eof = vma.vmStart + (file.sizePages - vma.vmPgoff) * PAGE_SIZE;
        throw this.error(
          st.pageSpan,
          'kernel',
          `${pageName(st, r, Math.max(addr, eof))} is beyond the end of ${file.name} (SIGBUS)`,
        );
      }
      addr = spanEnd;
    }
    touchPages(this.sys, p.mm, r.addr + st.first * PAGE_SIZE, end, write, write ? st.value : undefined);
  }

  private addProc(p: ProcState): void {
    this.procs.set(p.name, p);
    this.byMm.set(p.mm.id, p);
  }

  /** `PROCESS:REGION:PAGE` of an address in a process, for reports (the address itself when no region has it). */
  where(mmId: number, address: number): string {
    return this.placeAt(mmId, address, this.layoutVersion);
  }

  /**
   * How the report of the statement being run names its places: as they are now, also when the
   * report is read (and its names built) after later statements moved a region. The report keeps
   * this runner, and so its system, alive as long as it is kept.
   */
  private placeNames(): WhereFn {
    const version = this.layoutVersion;
    this.reportedAt = version;
    return (mm, address) => this.placeAt(mm, address, version);
  }

  private placeAt(mmId: number, address: number, version: number): string {
    const p = this.byMm.get(mmId);
    if (!p) return `mm${mmId}:${hex(address)}`;
    if (version === this.layoutVersion) return addressName(p, address);
    // Regions mapped since then are not rewound: each has a fresh slot, which no earlier place was in.
    const regions = new Map<string, RegionState>();
    for (const [name, r] of p.regions) {
      const then = this.pastLayouts.get(r)?.find((l) => l.until >= version);
      regions.set(name, then ? { ...r, addr: then.addr, pages: then.pages } : r);
    }
    return addressName({ ...p, regions }, address);
  }

  /**
   * mremap is about to move or resize `r`: keep its layout if a report was made since the last
   * layout kept (it may be this one's); either way the names of places change version.
   */
  private relayout(r: RegionState): void {
    const past = this.pastLayouts.get(r) ?? [];
    if (this.reportedAt > (past.at(-1)?.until ?? -1)) {
      past.push({ until: this.layoutVersion, addr: r.addr, pages: r.pages });
      this.pastLayouts.set(r, past);
    }
    this.layoutVersion++;
  }

  /** A fresh 2 MiB-aligned slot for `len` bytes, with room to grow to at least twice that. */
  private slot(len: number): { addr: number; end: number } {
    const size = Math.max(MIN_SLOT, Math.ceil((2 * len) / PMD_SIZE) * PMD_SIZE);
    const addr = this.nextSlot;
    this.nextSlot += size;
    return { addr, end: addr + size };
  }

  private newProcName(name: string, span: Span): void {
    if (this.procs.has(name))
      throw this.error(
        span,
        'semantic',
        `a process named ${name} already exists${this.procs.get(name)!.alive ? '' : ' (it has exited)'}`,
        {
          expected: 'a new process name',
        },
      );
    if (++this.spawned > this.limits.processes)
      throw this.error(span, 'limit', `more than ${this.limits.processes} processes`);
  }

  private proc(st: { proc: string; procSpan: Span }): ProcState {
    const p = this.procs.get(st.proc);
    if (!p)
      throw this.error(st.procSpan, 'semantic', `unknown process ${st.proc}`, {
        expected: this.procs.size
          ? `one of ${[...this.procs.keys()].join(', ')}`
          : 'a process created by spawn',
        found: st.proc,
      });
    if (!p.alive)
      throw this.error(st.procSpan, 'semantic', `process ${st.proc} has exited`, { found: st.proc });
    return p;
  }

  private region(st: {
    proc: string;
    procSpan: Span;
    region: string;
    regionSpan: Span;
  }): [ProcState, RegionState] {
    const p = this.proc(st);
    const r = p.regions.get(st.region);
    if (!r)
      throw this.error(st.regionSpan, 'semantic', `${st.proc} has no region named ${st.region}`, {
        expected: p.regions.size ? `one of ${[...p.regions.keys()].join(', ')}` : 'a region created by mmap',
        found: st.region,
      });
    return [p, r];
  }

  private checkRegionPages(pages: number, span: Span): void {
    if (pages > this.limits.regionPages)
      throw this.error(span, 'limit', `more than ${this.limits.regionPages} pages in one region`);
  }

  private checkRange(r: RegionState, page: number, count: number, span: Span): void {
    if (page + count > r.pages)
      throw this.error(
        span,
        'semantic',
        `page ${page + count - 1} is outside region ${r.name} (${r.pages} pages)`,
        {
          expected: `pages 0..${r.pages - 1}`,
        },
      );
  }

  error(
    span: Span,
    kind: 'semantic' | 'kernel' | 'limit',
    message: string,
    extra: { expected?: string; found?: string } = {},
  ): ScenarioError {
    return new ScenarioError({
      line: span.line,
      column: span.column,
      endColumn: span.endColumn,
      message,
      kind,
      ...extra,
    });
  }
}

/**
 * The accesses of a checked read / write, page by page from `start` to `end`: each faults like the
 * process's own load or store; a write then gives the page `value`'s content, or new content.
 * Kept apart from the checks so that this loop stays small enough to be compiled as tightly as
 * direct calls.
 */
function touchPages(
  sys: MmSystem,
  mm: Mm,
  start: number,
  end: number,
  write: boolean,
  value: string | undefined,
): void {
  // Every page written with one VALUE gets the same content: look it up once, not per page.
  const named = write && value !== undefined ? sys.contentFor(value) : 0;
  for (let addr = start; addr < end; addr += PAGE_SIZE) {
    userAccess(sys, mm, addr, write);
    if (write) {
      const pfn = readPte(mm, addr).pfn; // present after the write fault
      sys.mem.content[pfn] = value === undefined ? sys.newContent() : named;
    }
  }
}

/** `PROCESS:REGION:PAGE` of an address inside a statement's region. */
function pageName(st: { proc: string; region: string }, r: RegionState, addr: number): string {
  return `${st.proc}:${st.region}:${(addr - r.addr) / PAGE_SIZE}`;
}

function kernelMessage(st: Statement, e: KernelError): string {
  return `the kernel refuses \`${st.text.replace(/\s*#.*$/, '')}\`: ${e.message}`;
}

/** Run a whole scenario lazily: yields each statement's result; a bad line throws after the earlier ones. */
export function* runScenario(
  text: string,
  opts: RunnerOptions = {},
): Generator<StepResult, ScenarioRunner, void> {
  const runner = new ScenarioRunner(opts);
  for (const st of iterateScenario(text)) yield runner.exec(st);
  return runner;
}
