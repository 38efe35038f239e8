/**
 * `rmaplab verify --random A..B`: the generator's scenario of every seed from A to B verified on
 * this kernel; each difference shrunk to the shortest statement list that still differs.
 */
import { generateScenario } from './generate.js';
import { checkKernelAccess } from './kernel.js';
import { type KernelSettings, readKernelSettings } from './settings.js';
import { shrinkScenario } from './shrink.js';
import {
  checkTmpdir,
  type VerifyOptions,
  type VerifyReport,
  VerifySetupError,
  verifyScenario,
} from './verify.js';

/** Which seeds, and how the generator is asked for them. */
export interface SeedRange {
  first: number;
  last: number;
  /** Seeds that are a multiple of this let the generator use KSM (each `ksm` costs full scans); 0: none. */
  ksmEvery: number;
  /** After each seed, and while a difference is shrunk. */
  onProgress?: (p: SeedsProgress) => void;
}

export interface SeedsOptions extends VerifyOptions, SeedRange {}

export type SeedsProgress =
  /** The checks passed, the first seed is next; `settings` are those `auto` applies. */
  | { phase: 'start'; settings?: KernelSettings }
  /** A seed is done; `result` unless it was equal. */
  | { phase: 'seed'; done: number; total: number; notEqual: number; result?: SeedResult }
  | { phase: 'shrink'; seed: number; tried: number };

/** A seed whose scenario was not equal on both sides. */
export type SeedResult = { seed: number; ksm: boolean } & (
  | {
      outcome: 'different';
      /** The shortest scenario found that still differs (the seed's own when shrinking lost it). */
      shrunk: string;
      /** Statements of the seed's scenario, for scale. */
      statements: number;
      report: VerifyReport;
    }
  | {
      /** Both sides refused the same statement: the generator emitted one it should not have. */
      outcome: 'stopped';
      text: string;
      report: VerifyReport;
    }
  | {
      /** A limit of the helper (e.g. the wait for KSM): neither equal nor different. */
      outcome: 'not-checked';
      message: string;
    }
);

export interface SeedsReport {
  first: number;
  last: number;
  total: number;
  /** Seeds whose scenario ran to the end on both sides with every observation equal. */
  equal: number;
  /** Every other seed, in seed order. */
  results: SeedResult[];
}

/** Whether seed `seed` lets the generator use KSM. */
export function seedUsesKsm(seed: number, ksmEvery: number): boolean {
  return ksmEvery > 0 && seed % ksmEvery === 0;
}

/** A scenario's leading comment and `set` lines: kept while shrinking, as the rest relies on them. */
function splitHeader(lines: string[]): [string[], string[]] {
  let n = 0;
  while (n < lines.length && /^(#|set )/.test(lines[n])) n++;
  return [lines.slice(0, n), lines.slice(n)];
}

/**
 * Verify the generator's scenarios of seeds `first`..`last` on this kernel. Throws
 * KernelUnavailable or VerifySetupError (other than a helper limit of one seed): then nothing can
 * be compared at all.
 */
export async function verifySeeds(opts: SeedsOptions): Promise<SeedsReport> {
  let anyKsm = false;
  for (let seed = opts.first; seed <= opts.last && !anyKsm; seed++) anyKsm = seedUsesKsm(seed, opts.ksmEvery);
  checkKernelAccess(anyKsm);
  if (opts.tmpdir !== undefined) checkTmpdir(opts.tmpdir);
  // The kernel's settings are read once, not once per seed.
  const settings = opts.kernelOptions === 'auto' ? (opts.settings ?? readKernelSettings()) : undefined;
  opts.onProgress?.({ phase: 'start', ...(settings ? { settings } : {}) });
  return checkSeeds(opts, (text) => verifyScenario(text, { ...opts, ...(settings ? { settings } : {}) }));
}

/** The seeds of `range`, each scenario verified by `verify` (verifySeeds: on this kernel). */
export async function checkSeeds(
  range: SeedRange,
  verify: (text: string) => Promise<VerifyReport>,
): Promise<SeedsReport> {
  const { first, last, ksmEvery, onProgress } = range;
  const total = last - first + 1;
  const differs = async (text: string) => {
    try {
      return !(await verify(text)).equal;
    } catch (e) {
      // A smaller scenario that hits a helper limit shows nothing about the difference.
      if (e instanceof VerifySetupError && e.reason === 'limit') return false;
      throw e;
    }
  };
  const results: SeedResult[] = [];
  let equal = 0;
  for (let seed = first; seed <= last; seed++) {
    const ksm = seedUsesKsm(seed, ksmEvery);
    const text = generateScenario(seed, { ksm });
    const result = await checkSeed(seed, ksm, text, verify, differs, onProgress);
    if (result) results.push(result);
    else equal++;
    const done = seed - first + 1;
    onProgress?.({ phase: 'seed', done, total, notEqual: results.length, ...(result ? { result } : {}) });
  }
  return { first, last, total, equal, results };
}

/** One seed's result, or undefined when it is equal. */
async function checkSeed(
  seed: number,
  ksm: boolean,
  text: string,
  verify: (text: string) => Promise<VerifyReport>,
  differs: (text: string) => Promise<boolean>,
  onProgress: SeedRange['onProgress'],
): Promise<SeedResult | undefined> {
  let report: VerifyReport;
  try {
    report = await verify(text);
  } catch (e) {
    if (!(e instanceof VerifySetupError) || e.reason !== 'limit') throw e;
    return { seed, ksm, outcome: 'not-checked', message: e.message };
  }
  if (report.equal)
    return report.bothStoppedAt === undefined ? undefined : { seed, ksm, outcome: 'stopped', text, report };
  const [header, body] = splitHeader(text.trimEnd().split('\n'));
  let tried = 0;
  const small = await shrinkScenario(body, (lines) => {
    onProgress?.({ phase: 'shrink', seed, tried: ++tried });
    return differs(`${[...header, ...lines].join('\n')}\n`);
  });
  const shrunk = `${[...header, ...small].join('\n')}\n`;
  const shrunkReport = await verify(shrunk);
  // A difference that comes and goes (the kernel's timing) may not survive the last run.
  const kept = !shrunkReport.equal;
  return {
    seed,
    ksm,
    outcome: 'different',
    shrunk: kept ? shrunk : text,
    statements: body.length,
    report: kept ? shrunkReport : report,
  };
}
