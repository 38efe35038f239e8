/**
 * `rmaplab verify FILE` / `rmaplab verify --random A..B`: run a scenario (or the random
 * generator's scenario of each seed) in the model and on this machine's kernel and compare every
 * observation (@rmaplab/verify). Exit 0 only when all are equal; 1 on a difference or a scenario
 * error; 3 when the comparison could not be made (the kernel cannot be read: not Linux, not root,
 * no kpagecount, no KSM, no C compiler; or a setup error: bad --tmpdir, a helper that cannot
 * start, a limit of the helper), so scripts can tell "different" from "could not check".
 */
import { ScenarioError, type SetValue } from '@rmaplab/scenario';
import {
  formatReport,
  formatSettings,
  KernelUnavailable,
  type ReportColors,
  type SeedResult,
  type SeedsReport,
  VerifyRefused,
  VerifySetupError,
  verifyScenario,
  verifySeeds,
} from '@rmaplab/verify';
import { colorsFor, type Io, readInput } from '../io.js';
import { Progress } from '../progress.js';
import { displayName, reportScenarioError } from './common.js';

export interface VerifyFlags {
  /** `auto`: the model takes the kernel's own settings; `scenario`: the scenario's `set` lines. */
  kernelOptions: 'auto' | 'scenario';
  strict: boolean;
  json: boolean;
  /** `--set` / `--kernel`: model options that win over the scenario's `set` lines and over auto. */
  overrides: readonly SetValue[];
  tmpdir?: string;
  /** The scenario to verify, or the generator's seeds. */
  file?: string;
  random?: { first: number; last: number; ksmEvery: number };
}

/** Exit status when the kernel cannot be compared with. */
export const EXIT_UNAVAILABLE = 3;

export async function verifyCommand(io: Io, flags: VerifyFlags): Promise<number> {
  const err = colorsFor(io, 'stderr', flags.json);
  const name = flags.file === undefined ? 'verify' : displayName(flags.file);
  const options = {
    kernelOptions: flags.kernelOptions,
    strict: flags.strict,
    overrides: flags.overrides,
    check: true,
    ...(flags.tmpdir !== undefined ? { tmpdir: flags.tmpdir } : {}),
  };
  try {
    if (flags.random) return await verifyRandom(io, flags, { ...options, ...flags.random });
    const text = await readInput(io, flags.file!, 'verify');
    const report = await verifyScenario(text, options);
    const out = colorsFor(io, 'stdout', flags.json);
    io.stdout(flags.json ? `${JSON.stringify(report)}\n` : formatReport(report, { color: out }));
    return report.equal ? 0 : 1;
  } catch (e) {
    if (e instanceof KernelUnavailable) {
      io.stderr(`${err.red(`rmaplab verify: cannot read this machine's kernel: ${e.message}`)}\n`);
      return EXIT_UNAVAILABLE;
    }
    if (e instanceof VerifySetupError) {
      io.stderr(`${err.red(`rmaplab verify: could not check: ${e.message}`)}\n`);
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

/** `--random`: each seed that is not equal as it is found, then the count; or one JSON object. */
async function verifyRandom(
  io: Io,
  flags: VerifyFlags,
  options: Parameters<typeof verifySeeds>[0],
): Promise<number> {
  const out = colorsFor(io, 'stdout', flags.json);
  const progress = new Progress(io);
  const print = (text: string) => {
    progress.clear();
    io.stdout(text);
  };
  const report = await verifySeeds({
    ...options,
    onProgress: (p) => {
      if (p.phase === 'start') {
        if (p.settings && !flags.json) print(`${formatSettings(p.settings, out)}\n`);
      } else if (p.phase === 'shrink')
        progress.bar(
          p.seed - options.first,
          options.last - options.first + 1,
          `shrinking the difference of seed ${p.seed} (${p.tried} tried)`,
        );
      else {
        if (p.result && !flags.json) print(formatSeedResult(p.result, out));
        progress.bar(p.done, p.total, `${p.notEqual} not equal`);
      }
    },
  });
  progress.clear();
  if (flags.json) io.stdout(`${JSON.stringify(seedsJson(report))}\n`);
  else io.stdout(`${seedsSummary(report)}\n`);
  const has = (o: SeedResult['outcome']) => report.results.some((r) => r.outcome === o);
  return has('different') || has('stopped') ? 1 : has('not-checked') ? EXIT_UNAVAILABLE : 0;
}

function indent(text: string, by: string): string {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => by + l)
    .join('\n');
}

/** One seed that was not equal: what happened, the (shrunk) scenario and its report. */
export function formatSeedResult(r: SeedResult, c: ReportColors): string {
  switch (r.outcome) {
    case 'different':
      return `${c.red(`seed ${r.seed}: different`)} (shrunk from ${r.statements} statements):\n${indent(r.shrunk, '    ')}\n${indent(formatReport(r.report, { color: c, settings: false }), '  ')}\n`;
    case 'stopped':
      return `${c.yellow(`seed ${r.seed}: both sides stopped at line ${r.report.bothStoppedAt}`)} (the generator emitted a statement both refuse):\n${indent(r.text, '    ')}\n${indent(formatReport(r.report, { color: c, settings: false }), '  ')}\n`;
    case 'not-checked':
      return `${c.yellow(`seed ${r.seed}: not checked`)}: ${r.message}\n`;
  }
}

/** `N of M seeds equal`, and what the others were. */
export function seedsSummary(r: SeedsReport): string {
  const count = (o: SeedResult['outcome']) => r.results.filter((x) => x.outcome === o).length;
  const others = [
    [count('different'), 'different'],
    [count('stopped'), 'stopped early on both sides'],
    [count('not-checked'), 'not checked'],
  ]
    .filter(([n]) => n)
    .map(([n, what]) => `${n} ${what}`);
  return `${r.equal} of ${r.total} seeds equal${others.length ? ` (${others.join(', ')})` : ''}`;
}

/** The --json object: the seeds, the equal count, and each other seed with its scenario. */
function seedsJson(r: SeedsReport) {
  const of = <O extends SeedResult['outcome']>(o: O) =>
    r.results.filter((x): x is Extract<SeedResult, { outcome: O }> => x.outcome === o);
  return {
    seeds: { first: r.first, last: r.last },
    total: r.total,
    equal: r.equal,
    differences: of('different').map(({ seed, ksm, shrunk, statements, report }) => ({
      seed,
      ksm,
      shrunk,
      statements,
      report,
    })),
    stopped: of('stopped').map(({ seed, ksm, text, report }) => ({ seed, ksm, text, report })),
    notChecked: of('not-checked').map(({ seed, ksm, message }) => ({ seed, ksm, message })),
  };
}
