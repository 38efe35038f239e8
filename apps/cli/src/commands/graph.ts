/** `rmaplab graph FILE`: the rmap structures after a step, as Graphviz dot, Mermaid or JSON. */

import {
  buildStateGraph,
  graphToDot,
  graphToMermaid,
  iterateScenario,
  type ProcState,
  ScenarioRunner,
  type SetValue,
  type Statement,
} from '@rmaplab/scenario';
import { type Io, readInput, UsageError } from '../io.js';
import { displayName, reportScenarioError } from './common.js';

export const GRAPH_FORMATS = ['dot', 'mermaid', 'json'] as const;
export type GraphFormat = (typeof GRAPH_FORMATS)[number];

/**
 * The most pages the mapped regions may span for `graph` to draw them: a graph of millions of
 * page nodes is unreadable and would exhaust the heap, so beyond this `graph` stops with a located
 * limit error instead (stop earlier with `--step`, or map a smaller region).
 */
export const GRAPH_PAGE_LIMIT = 1 << 16;

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
  let lastSt: Statement | undefined;
  try {
    for (const st of iterateScenario(await readInput(io, file, 'graph'))) {
      if (flags.step !== undefined && st.step > flags.step) break;
      runner.exec(st);
      last = st.step;
      lastSt = st;
    }
    if (lastSt && mappedPages(runner.procs.values()) > GRAPH_PAGE_LIMIT)
      throw runner.error(
        lastSt.span,
        'limit',
        `graph: the mapped regions span more than ${GRAPH_PAGE_LIMIT} pages (the graph limit); ` +
          'stop at an earlier step with --step, or map a smaller region',
      );
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

/** Pages spanned by the regions of the live processes: what the graph would draw at most. */
function mappedPages(procs: Iterable<ProcState>): number {
  let n = 0;
  for (const p of procs) if (p.alive) for (const r of p.regions.values()) n += r.pages;
  return n;
}
