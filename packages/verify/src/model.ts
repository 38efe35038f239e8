/**
 * The model side of `rmaplab verify`: the kernel-executable statements of a scenario run through
 * @rmaplab/scenario's runner, step numbers unchanged, with the matching options applied first.
 */
import {
  formatStatement,
  KERNEL_EXECUTABLE_OPS,
  type Observation,
  parseLine,
  ScenarioError,
  ScenarioRunner,
  type SetValue,
  type Statement,
} from '@rmaplab/scenario';

export interface ModelRun {
  observations: Observation[];
  /** The statement the model refused, when the run stopped early. */
  error?: { line: number; message: string };
}

export interface ModelOptions {
  /**
   * Options applied before the first statement, as if these `set` lines were prepended; when
   * given, the scenario's own `set` lines are skipped (the kernel does not honour them either).
   */
  settings?: readonly SetValue[];
  /** Options that win over both the scenario's `set` lines and `settings` (`rmaplab verify --set`). */
  overrides?: readonly SetValue[];
  /** Run the invariant checker after every statement. */
  check?: boolean;
}

/** Statements verify leaves out on both sides: those only a simulator can execute. */
export function isSimulatorOnly(st: Statement): boolean {
  return st.op !== 'set' && !KERNEL_EXECUTABLE_OPS.has(st.op);
}

/** Run the kernel-executable part of `statements` in the model. */
export function runOnModel(statements: readonly Statement[], opts: ModelOptions = {}): ModelRun {
  const runner = new ScenarioRunner({ check: opts.check ?? false, overrides: opts.overrides ?? [] });
  for (const set of opts.settings ?? []) {
    // Through the runner's own `set`, so the option means what the scenario line would mean.
    const st = parseLine(formatStatement({ op: 'set', set }), 0, 0);
    if (st) runner.exec(st);
  }
  const observations: Observation[] = [];
  for (const st of statements) {
    if (isSimulatorOnly(st) || (st.op === 'set' && opts.settings)) continue;
    try {
      const r = runner.exec(st);
      if (r.observation) observations.push(r.observation);
    } catch (e) {
      // A model bug is a finding like any other difference: report it at its line, keep the
      // observations so far.
      const message = e instanceof ScenarioError ? e.message : `internal error: ${(e as Error).message}`;
      return { observations, error: { line: st.span.line, message } };
    }
  }
  return { observations };
}
