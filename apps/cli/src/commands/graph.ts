/** `rmaplab graph FILE`: the rmap structures after a step, as Graphviz dot, Mermaid or JSON. */

import {
  buildStateGraph,
  graphToDot,
  graphToMermaid,
  iterateScenario,
  ScenarioRunner,
  type SetValue,
} from '@rmaplab/scenario';
import { type Io, readInput, UsageError } from '../io.js';
import { displayName, reportScenarioError } from './common.js';

export const GRAPH_FORMATS = ['dot', 'mermaid', 'json'] as const;
export type GraphFormat = (typeof GRAPH_FORMATS)[number];

export interface GraphFlags {
  format: GraphFormat;
  /** Stop after this step; the whole scenario when absent. */
  step?: number;
  /** `--set` / `--kernel`: options that replace the scenario's own `set` lines for their keys. */
  overrides: readonly SetValue[];
}

export async function graphCommand(io: Io, file: string, flags: GraphFlags): Promise<number> {
  const runner = new ScenarioRunner({ overrides: flags.overrides });
  let last = 0;
  try {
    for (const st of iterateScenario(await readInput(io, file, 'graph'))) {
      if (flags.step !== undefined && st.step > flags.step) break;
      runner.exec(st);
      last = st.step;
    }
  } catch (e) {
    return reportScenarioError(io, e, displayName(file));
  }
  if (flags.step !== undefined && last < flags.step)
    throw new UsageError(`--step ${flags.step}: ${displayName(file)} has only ${last} steps`, 'graph');
  const g = buildStateGraph(runner.sys, runner.procs.values());
  if (flags.format === 'dot') io.stdout(graphToDot(g));
  else if (flags.format === 'mermaid') io.stdout(graphToMermaid(g));
  else io.stdout(`${JSON.stringify({ step: last, ...g }, null, 2)}\n`);
  return 0;
}
