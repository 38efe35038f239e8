/**
 * `rmaplab verify FILE`: run the scenario in the model and on this machine's kernel and compare
 * every observation (@rmaplab/verify). Exit 0 only when all are equal; 1 on a difference or a
 * scenario error; 3 when this machine cannot be read (not Linux, not root, no kpagecount, no KSM,
 * no C compiler), so scripts can tell "different" from "could not check".
 */
import { ScenarioError } from '@rmaplab/scenario';
import { formatReport, KernelUnavailable, VerifyRefused, verifyScenario } from '@rmaplab/verify';
import { colorsFor, type Io, readInput } from '../io.js';
import { displayName, reportScenarioError } from './common.js';

export interface VerifyFlags {
  /** `auto`: the model takes the kernel's own settings; `scenario`: the scenario's `set` lines. */
  kernelOptions: 'auto' | 'scenario';
  strict: boolean;
  json: boolean;
  tmpdir?: string;
}

/** Exit status when the kernel cannot be compared with. */
export const EXIT_UNAVAILABLE = 3;

export async function verifyCommand(io: Io, file: string, flags: VerifyFlags): Promise<number> {
  const text = await readInput(io, file, 'verify');
  const out = colorsFor(io, 'stdout', flags.json);
  const err = colorsFor(io, 'stderr', flags.json);
  const name = displayName(file);
  try {
    const report = await verifyScenario(text, {
      kernelOptions: flags.kernelOptions,
      strict: flags.strict,
      check: true,
      ...(flags.tmpdir ? { tmpdir: flags.tmpdir } : {}),
    });
    io.stdout(flags.json ? `${JSON.stringify(report)}\n` : formatReport(report, { color: out }));
    return report.equal ? 0 : 1;
  } catch (e) {
    if (e instanceof KernelUnavailable) {
      io.stderr(`${err.red(`rmaplab verify: cannot read this machine's kernel: ${e.message}`)}\n`);
      return EXIT_UNAVAILABLE;
    }
    if (e instanceof VerifyRefused) {
      io.stderr(`${err.red(`${name}: error: ${e.message}`)}\n`);
      return 1;
    }
    if (e instanceof ScenarioError) return reportScenarioError(io, e, name);
    throw e;
  }
}
