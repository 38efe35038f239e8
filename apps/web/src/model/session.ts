/**
 * Runs a scenario once, start to end, and keeps an immutable snapshot of every step: its trace events,
 * its observation, its report and the state graph after it. Stepping backwards or jumping is then an
 * index into exact snapshots, never an approximation, and a failing statement leaves every earlier
 * step on screen.
 */
import { DEFAULT_OPTIONS, type TraceEvent, timelinePoints } from '@rmaplab/mm';
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
  type Statement,
} from '@rmaplab/scenario';
import type { GraphData } from './graph';

/** The app's own size limits, on top of the runner's. */
export interface SessionLimits {
  /** Statements run; a longer scenario stops at this line with a message. */
  statements: number;
  /** Objects in one state graph; a larger state is run and observed, but not drawn. */
  graphNodes: number;
  /** Limits handed to the runner (processes, frames, region size). */
  runner: Partial<Limits>;
}

export const DEFAULT_SESSION_LIMITS: SessionLimits = {
  statements: 2_000,
  graphNodes: 2_500,
  runner: { processes: 500, regionPages: 1 << 16, frames: 200_000 },
};

export interface Snapshot {
  /** 1-based statement number (the contract's `step`). */
  step: number;
  line: number;
  source: string;
  statement: Statement;
  events: TraceEvent[];
  observation?: Observation;
  /** The observation exactly as `rmaplab --json` prints it. */
  observationJson?: string;
  /** The operation report of walk/unmap/reclaim/referenced/migrate/mkclean/ksm. */
  report?: OpReport;
  /** What the CLI prints for this step (observation table, report lines); '' when it prints nothing. */
  output: string;
  /** The state after this step; null when it has more objects than the graph limit. */
  graph: GraphData | null;
  /** Objects in the state (also when the graph is not kept). */
  graphSize: number;
  /** Lock-order reports (lockdep splats) raised during this step. */
  lockReports: string[];
}

export interface SessionProblem {
  kind: 'scenario' | 'internal' | 'limit';
  message: string;
  line: number;
  column: number;
  endColumn: number;
  /** The statement number it happened at. */
  step: number;
}

export interface Session {
  /** The state before the first statement. */
  initial: GraphData;
  steps: Snapshot[];
  /** Why the run stopped before the end, if it did. */
  problem: SessionProblem | null;
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

export function runSession(text: string, limits: SessionLimits = DEFAULT_SESSION_LIMITS): Session {
  const runner = new ScenarioRunner({ trace: true, limits: limits.runner });
  const graphOf = () => buildStateGraph(runner.sys, runner.procs.values());
  const session: Session = { initial: graphOf(), steps: [], problem: null };
  let reportsSeen = 0;
  let line = 1;
  try {
    for (const st of iterateScenario(text)) {
      line = st.span.line;
      if (session.steps.length >= limits.statements) {
        session.problem = {
          kind: 'limit',
          message: `the lab runs at most ${limits.statements} statements; the rest of the scenario is not run`,
          line,
          step: st.step,
          ...lineAt(text, line),
        };
        break;
      }
      const r = runner.exec(st);
      const graph = graphOf();
      const reports = runner.sys.locks.reports;
      session.steps.push({
        step: st.step,
        line: st.span.line,
        source: st.text,
        statement: st,
        events: r.events,
        ...(r.observation
          ? { observation: r.observation, observationJson: observationJson(r.observation) }
          : {}),
        ...(r.report !== undefined ? { report: r.report } : {}),
        output: outputOf(r.observation, r.report),
        graph: graph.nodes.length <= limits.graphNodes ? graph : null,
        graphSize: graph.nodes.length,
        lockReports: reports.slice(reportsSeen).map((rep) => rep.message),
      });
      reportsSeen = reports.length;
    }
  } catch (e) {
    if (e instanceof ScenarioError) {
      session.problem = {
        kind: e.kind === 'limit' ? 'limit' : 'scenario',
        message: e.format(),
        line: e.line,
        column: e.column,
        endColumn: e.endColumn,
        // Parse errors and refused statements both stop at the statement after the last good one.
        step: session.steps.length + 1,
      };
    } else {
      // A bug in the model: say where, keep every earlier step.
      const at = session.steps.length + 1;
      session.problem = {
        kind: 'internal',
        message: `internal error at step ${at} (line ${line}): ${errorMessage(e)}`,
        line,
        step: at,
        ...lineAt(text, line),
      };
    }
  }
  return session;
}

/** The human lines of a step: the CLI's observation table, or the operation's result and visits. */
export function outputOf(obs: Observation | undefined, report: OpReport | undefined): string {
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
