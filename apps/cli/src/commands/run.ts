/** `rmaplab run FILE`: run a scenario, printing each statement's result as it happens. */
import { observationJson, runScenario, type SetValue, type StepResult } from '@rmaplab/scenario';
import { colorsFor, type Io, readInput } from '../io.js';
import { Progress } from '../progress.js';
import { renderEvent, renderStep } from '../render.js';
import { displayName, reportScenarioError } from './common.js';

export interface RunFlags {
  json: boolean;
  trace: boolean;
  check: boolean;
  /** `--set` / `--kernel`: options that replace the scenario's own `set` lines for their keys. */
  overrides: readonly SetValue[];
}

/** Output is gathered into chunks: a million statements must not mean a million writes. */
const FLUSH_AT = 1 << 16;

export async function runCommand(io: Io, file: string, flags: RunFlags): Promise<number> {
  const out = colorsFor(io, 'stdout', flags.json);
  const err = colorsFor(io, 'stderr', flags.json);
  const progress = new Progress(io);
  let buffer = '';
  const flush = () => {
    if (!buffer) return;
    progress.clear();
    io.stdout(buffer);
    buffer = '';
  };
  const emit = (r: StepResult) => {
    if (flags.json) {
      if (flags.trace) for (const e of r.events) io.stderr(`${renderEvent(e, err)}\n`);
      if (r.observation) buffer += `${observationJson(r.observation)}\n`;
    } else buffer += renderStep(r, out, flags.trace);
    if (buffer.length >= FLUSH_AT) flush();
  };
  try {
    const text = await readInput(io, file, 'run');
    const steps = runScenario(text, {
      check: flags.check,
      trace: flags.trace,
      overrides: flags.overrides,
    });
    for (const r of steps) {
      emit(r);
      progress.tick(r.step);
    }
  } catch (e) {
    flush();
    progress.clear();
    return reportScenarioError(io, e, displayName(file));
  }
  flush();
  progress.clear();
  return 0;
}
