/**
 * Runs a scenario start to end and answers for any step exactly: its trace events, its observation,
 * its report, the state graph and page tables after it, and — for a statement that walks the rmap —
 * the state as the walk changed it, event by event, starting from the state before the statement.
 *
 * Memory is bounded: every step keeps a small record (StepMeta); the bulky part (events, observation,
 * graphs) goes to a cache of about `budgetBytes`, oldest out first. A step whose bulky part was
 * dropped is recomputed on demand by running the scenario again up to it (the run is deterministic)
 * and keeping a window of steps around it. Nothing here touches the DOM: it runs in a Web Worker.
 */
import {
  DEFAULT_OPTIONS,
  formatRelease,
  PAGE_SIZE,
  readPte,
  type TraceEvent,
  timelinePoints,
} from '@rmaplab/mm';
import {
  buildStateGraph,
  formatObservation,
  iterateScenario,
  type Limits,
  type Observation,
  type OpReport,
  observationJson,
  ScenarioError,
  ScenarioRunner,
} from '@rmaplab/scenario';
import { type GraphChanges, graphChanges, NO_CHANGES } from './diff';
import type { GraphData } from './graph';
import { type ProcessTables, pageTablesOf, pteMapsPage } from './pagetable';
import { PROBES, passesOf } from './walk';

/** The app's own size limits, on top of the runner's. */
export interface SessionLimits {
  /** Statements run; a longer scenario stops at this line with a message. */
  statements: number;
  /** Objects in one state graph; a larger state is run and observed, but not drawn. */
  graphNodes: number;
  /** Limits handed to the runner (processes, frames, region size). */
  runner: Partial<Limits>;
  /** About how many bytes of events, observations and graphs to keep before recomputing on demand. */
  budgetBytes: number;
  /** Walk frames kept per statement; later state changes share the last frame. */
  framesPerStep: number;
}

export const DEFAULT_SESSION_LIMITS: SessionLimits = {
  statements: 2_000,
  graphNodes: 2_500,
  runner: { processes: 500, regionPages: 1 << 16, frames: 200_000 },
  budgetBytes: 192 * 1024 * 1024,
  framesPerStep: 120,
};

/** The plain fields of an OpReport (its raw part holds model objects that cannot leave the worker). */
export type StepReport = Pick<OpReport, 'op' | 'pfn' | 'result' | 'visits' | 'details'>;

/** What every step keeps, however large the scenario. */
export interface StepMeta {
  /** 1-based statement number (the contract's `step`). */
  step: number;
  line: number;
  source: string;
  op: string;
  /** The comment on the statement's line, which tells what the step shows. */
  narration: string;
  /** The release whose rules the statement ran under. */
  kernel: string;
  eventCount: number;
  /** Objects in the state after the step; at least this many when the graph was too large to keep. */
  graphSize: number;
  graphKept: boolean;
  /** Rows of the step's observation (0 without one). */
  observationRows: number;
  observed: boolean;
  report?: StepReport;
  /** Lock-order reports (lockdep splats) raised during this step. */
  lockReports: string[];
  /** Whether the statement walked the rmap (its events hold passes). */
  walks: boolean;
}

/** The state at one point of a walk: in force from event `at` on (-1: before the statement). */
export interface Frame {
  at: number;
  graph: GraphData;
  tables: ProcessTables[];
}

interface Heavy {
  events: TraceEvent[];
  observation?: Observation;
  graph: GraphData | null;
  tables: ProcessTables[] | null;
  /** Captured during the statement (walk statements only), in event order. */
  frames: Frame[];
  bytes: number;
}

export interface SessionProblem {
  kind: 'scenario' | 'internal' | 'limit';
  /** `LINE:COL: error: ...`, as the CLI prints it (without a file name). */
  message: string;
  line: number;
  column: number;
  endColumn: number;
  /** The statement number it happened at. */
  step: number;
}

/** A step as the app shows it. */
export interface StepDetail {
  meta: StepMeta;
  events: TraceEvent[];
  observation?: Observation;
  graph: GraphData | null;
  tables: ProcessTables[] | null;
  /** The walk's states: before the statement, then after each change the walk made. Empty for other statements. */
  frames: Frame[];
  /** From the state before the step to the state after it. */
  changes: GraphChanges;
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The columns of a whole source line (for problems that concern the statement, not one word of it). */
function lineAt(text: string, line: number): { column: number; endColumn: number } {
  const src = text.split('\n')[line - 1] ?? '';
  const start = src.length - src.trimStart().length;
  return { column: start + 1, endColumn: Math.max(start + 2, src.trimEnd().length + 1) };
}

/** The comment of a source line, without its `#`. */
export function narrationOf(text: string, line: number): string {
  const src = text.split('\n')[line - 1] ?? '';
  const i = src.indexOf('#');
  return i < 0 ? '' : src.slice(i + 1).trim();
}

/**
 * A lower bound on the objects of the state graph, found without building it, that stops counting
 * once past `limit`: processes, VMAs and distinct mapped frames. Building a 65,536-page graph only
 * to throw it away would cost more than the statement.
 */
function stateAtLeast(runner: ScenarioRunner, limit: number): number {
  let n = 0;
  const pfns = new Set<number>();
  for (const p of runner.procs.values()) {
    if (!p.alive) continue;
    n++;
    for (const vma of p.mm.vmas()) {
      n++;
      if (n + pfns.size > limit) return n + pfns.size;
      for (let a = vma.vmStart; a < vma.vmEnd; a += PAGE_SIZE) {
        const pte = readPte(p.mm, a);
        if (pteMapsPage(pte.bits)) {
          pfns.add(pte.pfn);
          if (n + pfns.size > limit) return n + pfns.size;
        }
      }
    }
  }
  return n + pfns.size;
}

const EVENT_BYTES = 160;
function heavyBytes(h: Omit<Heavy, 'bytes'>): number {
  let b = 256;
  for (const e of h.events) b += EVENT_BYTES + 2 * e.msg.length;
  if (h.observation) b += h.observation.pages.length * 260 + h.observation.absent.length * 40;
  const graph = (g: GraphData | null) => (g ? g.nodes.length * 420 + g.edges.length * 160 : 0);
  const tables = (t: ProcessTables[] | null) =>
    t ? t.reduce((s, p) => s + p.vmas.reduce((v, x) => v + 200 + x.ptes.length * 48, 100), 0) : 0;
  b += graph(h.graph) + tables(h.tables);
  for (const f of h.frames) b += graph(f.graph) + tables(f.tables);
  return b;
}

/**
 * Whether an event can have changed the state, so that a walk frame is taken after it: a call, or
 * a walk event that returns a result, except the PTE probes (they only look).
 */
function changesState(e: TraceEvent): boolean {
  if (e.kind === 'call') return true;
  return e.kind === 'walk' && e.refs?.result !== undefined && !PROBES.has(e.fn);
}

/** The statements whose events the walk view animates, so their walk frames are captured while they run. */
export const WALK_OPS: ReadonlySet<string> = new Set([
  'walk',
  'unmap',
  'reclaim',
  'migrate',
  'referenced',
  'mkclean',
  'munlock',
  'mlock',
  'madvise',
  'munmap',
  'exit',
]);

export interface RunOutcome {
  /** The state before the first statement. */
  initial: GraphData;
  steps: StepMeta[];
  /** Why the run stopped before the end, if it did. */
  problem: SessionProblem | null;
}

export class Session implements RunOutcome {
  initial: GraphData = { nodes: [], edges: [] };
  steps: StepMeta[] = [];
  problem: SessionProblem | null = null;
  /** Bulky parts by step (0: the initial state), least recently used first. */
  private readonly cache = new Map<number, Heavy>();
  private cached = 0;
  /** How often a dropped step was recomputed (for tests and the perf report). */
  reruns = 0;

  constructor(
    readonly text: string,
    readonly limits: SessionLimits = DEFAULT_SESSION_LIMITS,
  ) {}

  /** The first run: every step's record, and the bulky parts as far as the budget goes. */
  run(progress?: (steps: number) => void): this {
    this.execute(() => true, Number.POSITIVE_INFINITY, progress);
    return this;
  }

  /** Bytes the cache holds now (estimated). */
  get cacheBytes(): number {
    return this.cached;
  }

  private keep(step: number, h: Heavy, pinned: ReadonlySet<number>): void {
    const old = this.cache.get(step);
    if (old) {
      this.cached -= old.bytes;
      this.cache.delete(step);
    }
    this.cache.set(step, h);
    this.cached += h.bytes;
    for (const [k, v] of this.cache) {
      if (this.cached <= this.limits.budgetBytes) break;
      if (pinned.has(k)) continue;
      this.cache.delete(k);
      this.cached -= v.bytes;
    }
  }

  private heavy(step: number): Heavy {
    let h = this.cache.get(step);
    if (!h) {
      // Dropped: run again up to it, keeping it, the step before it and a few around.
      this.reruns++;
      const lo = Math.max(0, step - 4);
      const hi = step + 4;
      this.execute((k) => k >= lo && k <= hi, hi, undefined, new Set([step, step - 1]));
      h = this.cache.get(step);
      if (!h) throw new Error(`step ${step} could not be recomputed`);
    }
    // Most recently used last.
    this.cache.delete(step);
    this.cache.set(step, h);
    return h;
  }

  /**
   * Run the scenario; keep the bulky parts of the steps `want` accepts, up to step `until`. The
   * first run (`until` = ∞) also records every step's meta and the problem.
   */
  private execute(
    want: (step: number) => boolean,
    until: number,
    progress?: (steps: number) => void,
    pinned: ReadonlySet<number> = new Set(),
  ): void {
    const first = until === Number.POSITIVE_INFINITY;
    const { text, limits } = this;
    const runner = new ScenarioRunner({ limits: limits.runner });
    const capture = (
      withTables: boolean,
    ): { graph: GraphData | null; tables: ProcessTables[] | null; size: number } => {
      const atLeast = stateAtLeast(runner, limits.graphNodes);
      if (atLeast > limits.graphNodes) return { graph: null, tables: null, size: atLeast };
      const graph = buildStateGraph(runner.sys, runner.procs.values());
      const kept = graph.nodes.length <= limits.graphNodes;
      return {
        graph: kept ? graph : null,
        tables: kept && withTables ? pageTablesOf(runner.procs.values()) : null,
        size: graph.nodes.length,
      };
    };
    if (want(0)) {
      const c = capture(true);
      if (first) this.initial = c.graph ?? { nodes: [], edges: [] };
      this.keep(0, withBytes({ events: [], graph: c.graph, tables: c.tables, frames: [] }), pinned);
    }
    let reportsSeen = 0;
    let line = 1;
    let count = 0;
    let lastProgress = performance.now();
    try {
      for (const st of iterateScenario(text)) {
        line = st.span.line;
        if (count >= limits.statements) {
          if (first)
            this.problem = this.located(
              'limit',
              line,
              st.step,
              `the lab runs at most ${limits.statements} statements; the rest of the scenario is not run`,
            );
          break;
        }
        if (st.step > until) break;
        const keep = want(st.step);
        const events: TraceEvent[] = [];
        const frames: Frame[] = [];
        let eventCount = 0;
        // Walk statements are known by their op before they run; passes tell afterwards.
        const walking = keep && WALK_OPS.has(st.op);
        if (keep || first) {
          runner.sys.setTrace((e) => {
            eventCount++;
            if (!keep) return;
            events.push(e);
            if (walking && changesState(e) && frames.length < limits.framesPerStep) {
              const c = capture(true);
              if (c.graph) frames.push({ at: events.length - 1, graph: c.graph, tables: c.tables ?? [] });
            }
          });
        } else runner.sys.setTrace(null);
        const r = runner.exec(st);
        runner.sys.setTrace(null);
        count++;
        const after = keep || first ? capture(keep) : null;
        const reports = runner.sys.locks.reports;
        if (first) {
          this.steps.push({
            step: st.step,
            line: st.span.line,
            source: st.text.replace(/\s+#.*$/, ''),
            op: st.op,
            narration: narrationOf(text, st.span.line),
            kernel: formatRelease(runner.sys.release),
            eventCount,
            graphSize: after!.size,
            graphKept: after!.graph !== null,
            observationRows: r.observation?.pages.length ?? 0,
            observed: r.observation !== undefined,
            ...(r.report ? { report: plainReport(r.report) } : {}),
            lockReports: reports.slice(reportsSeen).map((rep) => rep.message),
            walks: passesOf(events).length > 0,
          });
          reportsSeen = reports.length;
        }
        if (keep) {
          this.keep(
            st.step,
            withBytes({
              events,
              ...(r.observation ? { observation: r.observation } : {}),
              graph: after!.graph,
              tables: after!.tables,
              frames,
            }),
            pinned,
          );
        }
        if (progress && performance.now() - lastProgress > 100) {
          lastProgress = performance.now();
          progress(count);
        }
      }
    } catch (e) {
      if (!first) throw e;
      if (e instanceof ScenarioError) {
        this.problem = {
          kind: e.kind === 'limit' ? 'limit' : 'scenario',
          message: e.format(),
          line: e.line,
          column: e.column,
          endColumn: e.endColumn,
          // Parse errors and refused statements both stop at the statement after the last good one.
          step: this.steps.length + 1,
        };
      } else {
        // A bug in the model: say where, keep every earlier step.
        const at = this.steps.length + 1;
        this.problem = this.located('internal', line, at, `internal error at step ${at}: ${errorMessage(e)}`);
      }
    }
  }

  private located(kind: SessionProblem['kind'], line: number, step: number, msg: string): SessionProblem {
    const cols = lineAt(this.text, line);
    return { kind, message: `${line}:${cols.column}: error: ${msg}`, line, step, ...cols };
  }

  /** Everything the app shows for step `n` (0: the initial state). */
  detail(n: number): StepDetail {
    const meta = n > 0 ? this.steps[n - 1] : INITIAL_META;
    if (!meta) throw new Error(`no step ${n}`);
    const h = this.heavy(n);
    const before = n > 0 ? this.heavy(n - 1) : h;
    const frames =
      meta.walks && before.graph
        ? [{ at: -1, graph: before.graph, tables: before.tables ?? [] }, ...h.frames]
        : [];
    return {
      meta,
      events: h.events,
      ...(h.observation ? { observation: h.observation } : {}),
      graph: h.graph,
      tables: h.tables,
      frames,
      changes: n > 0 && before.graph && h.graph ? graphChanges(before.graph, h.graph) : NO_CHANGES,
    };
  }

  /** The observation exactly as `rmaplab run --json` prints it. */
  observationJson(n: number): string | undefined {
    const o = this.heavy(n).observation;
    return o && observationJson(o);
  }

  /** What the CLI prints for step `n` (observation table, report lines); '' when it prints nothing. */
  output(n: number): string {
    const meta = this.steps[n - 1];
    if (!meta.observed && !meta.report) return '';
    return outputOf(meta.observed ? this.heavy(n).observation : undefined, meta.report);
  }
}

const INITIAL_META: StepMeta = {
  step: 0,
  line: 0,
  source: '',
  op: '',
  narration: '',
  kernel: DEFAULT_OPTIONS.kernel,
  eventCount: 0,
  graphSize: 0,
  graphKept: true,
  observationRows: 0,
  observed: false,
  lockReports: [],
  walks: false,
};

function withBytes(h: Omit<Heavy, 'bytes'>): Heavy {
  return { ...h, bytes: heavyBytes(h) };
}

function plainReport(r: OpReport): StepReport {
  return {
    op: r.op,
    ...(r.pfn !== undefined ? { pfn: r.pfn } : {}),
    result: r.result,
    visits: r.visits.map((v) => ({ where: v.where, vma: v.vma, address: v.address, result: v.result })),
    details: [...r.details],
  };
}

/** Run a whole scenario (the first run of a Session). */
export function runSession(text: string, limits: SessionLimits = DEFAULT_SESSION_LIMITS): Session {
  return new Session(text, limits).run();
}

/** The human lines of a step: the CLI's observation table, or the operation's result and visits. */
export function outputOf(obs: Observation | undefined, report: StepReport | undefined): string {
  const out: string[] = [];
  if (obs) out.push(formatObservation(obs));
  if (report) {
    out.push(`${report.op}${report.pfn !== undefined ? ` pfn ${report.pfn}` : ''}: ${report.result}`);
    report.visits.forEach((v, i) => {
      out.push(`  ${i + 1}. vma ${v.vma} at ${v.where} (0x${v.address.toString(16)}): ${v.result}`);
    });
    for (const d of report.details) out.push(`  ${d}`);
  }
  return out.join('\n');
}

/** The `set kernel` value the scenario ends with (the default release when it never sets one). */
export function kernelOf(text: string): string {
  let kernel = DEFAULT_OPTIONS.kernel;
  for (const raw of text.split('\n')) {
    const m = /^\s*set\s+kernel\s+(\d+(?:\.\d+)+)\s*(#.*)?$/.exec(raw);
    if (m) kernel = m[1];
  }
  return kernel;
}

/** The releases the kernel selector offers: where a rule of the timeline changes, and `current`. */
export function kernelChoices(current: string): string[] {
  const points = timelinePoints();
  return points.includes(current) ? points : [...points, current];
}

/**
 * The scenario with its kernel choice set to `kernel`: the first `set kernel` line is rewritten, or
 * one is put before the first statement.
 */
export function withKernel(text: string, kernel: string): string {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => /^\s*set\s+kernel\b/.test(l));
  if (i >= 0) {
    lines[i] = lines[i].replace(/^(\s*set\s+kernel\s+)\S*/, `$1${kernel}`);
    return lines.join('\n');
  }
  const first = lines.findIndex((l) => l.trim() !== '' && !l.trim().startsWith('#'));
  lines.splice(first < 0 ? lines.length : first, 0, `set kernel ${kernel}`);
  return lines.join('\n');
}
