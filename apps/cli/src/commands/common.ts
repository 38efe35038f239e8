/** What the commands share: how a scenario failure is reported. */
import { ScenarioError } from '@rmaplab/scenario';
import { colorsFor, type Io, OutputClosed, UsageError } from '../io.js';

/** How FILE is named in messages (`-` is standard input). */
export function displayName(file: string): string {
  return file === '-' ? '<stdin>' : file;
}

/**
 * A scenario error as the one line `FILE:LINE:COL: error: ...` on stderr, exit status 1. Anything
 * else is a bug in rmaplab: one line too, and the stack only when RMAPLAB_DEBUG is set.
 */
export function reportScenarioError(io: Io, e: unknown, file: string): number {
  // Not the scenario's: main reports these (exit 2), or ends the command quietly.
  if (e instanceof UsageError || e instanceof OutputClosed) throw e;
  const c = colorsFor(io, 'stderr');
  if (e instanceof ScenarioError) {
    io.stderr(`${c.red(e.format(file))}\n`);
    return 1;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  io.stderr(`${c.red(`${file}: internal error: ${err.message}`)}\n`);
  if (io.env.RMAPLAB_DEBUG) io.stderr(`${err.stack}\n`);
  return 1;
}
