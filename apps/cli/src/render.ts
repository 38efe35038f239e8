/**
 * The human output of `rmaplab run`: one header line per statement (its step number and text),
 * then what it produced — an observation table, an rmap statement's report — and, with --trace,
 * the kernel functions it ran. Deterministic: no timings, no paths, colour only through `Colors`.
 */
import type { TraceEvent } from '@rmaplab/mm';
import { formatObservation, type OpReport, type StepResult } from '@rmaplab/scenario';
import type { Colors } from './io.js';

const INDENT = '    ';

/** The statement as written, without a trailing comment. */
export function statementText(r: StepResult): string {
  return r.statement.text.replace(/\s*#.*$/, '');
}

/** One trace event: `[task] fn: msg`. */
export function renderEvent(e: TraceEvent, c: Colors): string {
  return `${c.dim(`[${e.task}]`)} ${c.cyan(e.fn)}: ${e.msg}`;
}

/**
 * An rmap statement's (or ksm's) report: its kernel entry point (as the release names it) and
 * result, every VMA the walk visited, then details.
 */
export function renderReport(rep: OpReport, c: Colors): string {
  const page = rep.pfn === undefined ? '' : `(pfn ${rep.pfn})`;
  const lines = [`${rep.fn}${page}: ${c.bold(rep.result)}`];
  const width = Math.max(0, ...rep.visits.map((v) => v.where.length));
  rep.visits.forEach((v, i) => {
    lines.push(
      `  ${i + 1}. ${v.where.padEnd(width)}  vma ${v.vma} at 0x${v.address.toString(16)}  ${v.result}`,
    );
  });
  for (const d of rep.details) lines.push(`  ${d}`);
  return lines.join('\n');
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => (l ? INDENT + l : l))
    .join('\n');
}

/** Everything one statement printed, ending with a newline. */
export function renderStep(r: StepResult, c: Colors, trace: boolean): string {
  const out = [`${c.bold(`[${r.step}]`)} ${statementText(r)}`];
  if (trace) for (const e of r.events) out.push(INDENT + renderEvent(e, c));
  if (r.observation) out.push(indent(formatObservation(r.observation)));
  if (r.report) out.push(indent(renderReport(r.report, c)));
  if (r.overridden)
    out.push(c.dim(`${INDENT}ignored: an option on the command line (--set, --kernel) sets this`));
  return `${out.join('\n')}\n`;
}
