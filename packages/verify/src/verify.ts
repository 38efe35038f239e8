/**
 * `rmaplab verify`: one scenario run in the model and on the running kernel, every observation
 * compared (compare.ts), and whether both runs stopped at the same statement.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { parseScenario, type SetValue, type Statement, sourceLines } from '@rmaplab/scenario';
import { compareObservations, type Difference, formatDifference } from './compare.js';
import {
  checkKernelAccess,
  type HelperOptions,
  type KernelRun,
  KernelUnavailable,
  runOnKernel,
} from './kernel.js';
import { isSimulatorOnly, type ModelRun, runOnModel } from './model.js';
import { type KernelSettings, readKernelSettings, settingLines } from './settings.js';

export interface VerifyOptions extends HelperOptions {
  /** `auto`: the model runs with the kernel's own settings; `scenario` (default): with the scenario's `set` lines. */
  kernelOptions?: 'auto' | 'scenario';
  /** Run the model's invariant checker after every statement. */
  check?: boolean;
  /** The settings `auto` applies (default: read from this machine). */
  settings?: KernelSettings;
  /** Model options that win over the scenario's `set` lines and over `auto` (`--set KEY=VALUE`). */
  overrides?: readonly SetValue[];
}

/** A statement that verify did not run on either side, or ran on one side only. */
export interface SkippedStatement {
  line: number;
  text: string;
}

/** The comparison of one `observe`. */
export interface StepComparison {
  step: number;
  line: number;
  differences: Difference[];
  /** Set when one side stopped before this step: which one. */
  missing?: 'kernel' | 'model' | 'both';
}

export interface RunEnd {
  line?: number;
  message: string;
}

export interface VerifyReport {
  /** Under `auto`: the settings applied to the model. */
  settings?: KernelSettings;
  /** Simulator-only statements, left out on both sides. */
  skipped: SkippedStatement[];
  /** Under `auto`: the scenario's own `set` lines, not applied to the model. */
  overridden: SkippedStatement[];
  steps: StepComparison[];
  kernelError?: RunEnd;
  modelError?: RunEnd;
  /** The helper's remarks (e.g. `set` lines it cannot honour). */
  kernelNotes: string[];
  /** Every observation equal, and both sides ran to the end or stopped at the same statement. */
  equal: boolean;
  /**
   * Set when both sides refused the statement at this line: what comes after it was compared on
   * neither side, so `equal` only covers the statements before it.
   */
  bothStoppedAt?: number;
}

/**
 * The comparison could not be made, though this machine's kernel can be read: the temporary
 * directory is unusable, the helper cannot start or refuses its input, or the scenario exceeds
 * one of the helper's limits (processes, regions, files, address slots, region size, the wait for
 * KSM). Neither "equal" nor "different": the CLI exits 3, as for KernelUnavailable.
 */
export class VerifySetupError extends Error {
  constructor(
    readonly reason: 'tmpdir' | 'helper' | 'limit',
    message: string,
  ) {
    super(message);
    this.name = 'VerifySetupError';
  }
}

/** `--strict` and the scenario has simulator-only statements: nothing was run. */
export class VerifyRefused extends Error {
  constructor(readonly statements: SkippedStatement[]) {
    super(
      `the scenario has statements only the simulator offers (refused with --strict): ${statements
        .map((s) => `line ${s.line} \`${s.text}\``)
        .join(', ')}`,
    );
    this.name = 'VerifyRefused';
  }
}

function sourceText(st: Statement): SkippedStatement {
  return { line: st.span.line, text: st.text.replace(/\s*#.*$/, '') };
}

/** Whether running `statements` needs /sys/kernel/mm/ksm. */
export function usesKsm(statements: readonly Statement[]): boolean {
  return statements.some(
    (st) =>
      st.op === 'ksm' || (st.op === 'madvise' && (st.advice === 'mergeable' || st.advice === 'unmergeable')),
  );
}

/** Throws VerifySetupError unless `dir` is a directory the helper can create its files in. */
export function checkTmpdir(dir: string): void {
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new VerifySetupError(
      'tmpdir',
      `the temporary directory ${dir} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code})`}`,
    );
  }
  if (!isDir) throw new VerifySetupError('tmpdir', `the temporary directory ${dir} is not a directory`);
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch {
    throw new VerifySetupError('tmpdir', `the temporary directory ${dir} is not writable`);
  }
}

/**
 * The messages of the helper's own limits (rmaplab-kcheck.c: MAXPROC, MAXREG, MAXFILE, NSLOTS,
 * SLOT_SIZE, --ksm-timeout): the kernel did not refuse anything, the helper gave up.
 */
const HELPER_LIMITS = [
  /^too many (processes|regions|files)$/,
  /^out of address slots/,
  /^region too large/,
  /^ksm: no fixed point after/,
];

/**
 * A kernel-side stop that is not the kernel's answer to a statement: the helper stopped before
 * the scenario (no line: its temporary directory, its address reservation, a signal), or at a
 * limit of its own.
 */
function setupFailure(error: KernelRun['error']): VerifySetupError | undefined {
  if (!error) return undefined;
  if (error.line === undefined)
    return new VerifySetupError('helper', `the kernel-check helper stopped: ${error.message}`);
  if (HELPER_LIMITS.some((re) => re.test(error.message)))
    return new VerifySetupError(
      'limit',
      `line ${error.line}: a limit of the kernel-check helper: ${error.message}`,
    );
  return undefined;
}

/**
 * The text the helper reads: it splits lines at LF only and knows no byte-order mark, so the
 * scenario's lines go to it LF-terminated (same line numbers, whatever the file's line ends).
 */
function helperText(text: string): string {
  let out = '';
  for (const line of sourceLines(text)) out += `${line}\n`;
  return out;
}

/** The kernel run, with every way the helper can fail to make one turned into a VerifySetupError. */
async function kernelRunOf(text: string, opts: HelperOptions): Promise<KernelRun> {
  let run: KernelRun;
  try {
    run = await runOnKernel(helperText(text), opts);
  } catch (e) {
    if (e instanceof KernelUnavailable) throw e;
    throw new VerifySetupError('helper', `the kernel-check helper failed: ${(e as Error).message}`);
  }
  const setup = setupFailure(run.error);
  if (setup) throw setup;
  return run;
}

/**
 * Verify one scenario. Throws ScenarioError for a scenario that does not parse,
 * KernelUnavailable when this machine cannot be read, VerifySetupError when the comparison cannot
 * be made on it, VerifyRefused under `strict`.
 */
export async function verifyScenario(text: string, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const statements = parseScenario(text);
  const skipped = statements.filter(isSimulatorOnly).map(sourceText);
  if (opts.strict && skipped.length) throw new VerifyRefused(skipped);
  checkKernelAccess(usesKsm(statements));
  if (opts.tmpdir !== undefined) checkTmpdir(opts.tmpdir);
  const settings = opts.kernelOptions === 'auto' ? (opts.settings ?? readKernelSettings()) : undefined;
  const kernelRun = kernelRunOf(text, opts);
  // The model runs while the helper does (KSM scans on the kernel side take seconds).
  const modelRun = runOnModel(statements, {
    settings: settings?.sets,
    check: opts.check,
    overrides: opts.overrides ?? [],
  });
  return compareRuns(statements, await kernelRun, modelRun, settings, skipped);
}

/** The report for two finished runs of `statements`. */
export function compareRuns(
  statements: readonly Statement[],
  kernel: KernelRun,
  model: ModelRun,
  settings: KernelSettings | undefined,
  skipped: SkippedStatement[] = statements.filter(isSimulatorOnly).map(sourceText),
): VerifyReport {
  const k = new Map(kernel.observations.map((o) => [o.step, o]));
  const m = new Map(model.observations.map((o) => [o.step, o]));
  const steps: StepComparison[] = [];
  for (const st of statements) {
    if (st.op !== 'observe') continue;
    const ko = k.get(st.step);
    const mo = m.get(st.step);
    const cmp: StepComparison = { step: st.step, line: st.span.line, differences: [] };
    if (ko && mo) cmp.differences = compareObservations(ko, mo);
    else cmp.missing = !ko && !mo ? 'both' : !ko ? 'kernel' : 'model';
    steps.push(cmp);
  }
  const report: VerifyReport = {
    skipped,
    overridden: settings ? statements.filter((st) => st.op === 'set').map(sourceText) : [],
    steps,
    // Skipped statements are listed by verify itself, and under `auto` so are the `set` lines.
    kernelNotes: kernel.notes.filter(
      (n) => !/skipping simulator-only statement/.test(n) && !(settings && /is not honoured/.test(n)),
    ),
    equal: false,
  };
  if (settings) report.settings = settings;
  if (kernel.error) report.kernelError = kernel.error;
  if (model.error) report.modelError = model.error;
  report.equal =
    sameEnd(report) &&
    steps.every((s) => s.differences.length === 0 && s.missing !== 'kernel' && s.missing !== 'model');
  if (report.kernelError && sameEnd(report)) report.bothStoppedAt = report.kernelError.line;
  return report;
}

/** Both ran to the end, or both stopped at the same statement. */
function sameEnd(r: VerifyReport): boolean {
  if (!r.kernelError || !r.modelError) return !r.kernelError && !r.modelError;
  return r.kernelError.line !== undefined && r.kernelError.line === r.modelError.line;
}

/** Options of formatReport. */
export interface FormatOptions {
  /** At most this many differences per observation (default 20; the rest are counted). */
  maxPerStep?: number;
  /** Wrap status words in colour. */
  color?: ReportColors;
  /** Print the settings `auto` applied (default true; a run of many seeds prints them once). */
  settings?: boolean;
}

export interface ReportColors {
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  dim(s: string): string;
}

const plain: ReportColors = {
  green: (s: string) => s,
  red: (s: string) => s,
  yellow: (s: string) => s,
  dim: (s: string) => s,
};

/** The settings `--kernel-options auto` applies, where each comes from, and warnings (no final newline). */
export function formatSettings(s: KernelSettings, c: ReportColors = plain): string {
  const out = [`model options (--kernel-options auto, Linux ${s.release}): ${settingLines(s).join('; ')}`];
  for (const n of s.notes) out.push(c.dim(`  ${n}`));
  for (const w of s.warnings) out.push(c.yellow(`  warning: ${w}`));
  return out.join('\n');
}

/** The report as the CLI prints it. */
export function formatReport(r: VerifyReport, opts: FormatOptions = {}): string {
  const c = opts.color ?? plain;
  const max = opts.maxPerStep ?? 20;
  const out: string[] = [];
  if (r.settings && opts.settings !== false) out.push(formatSettings(r.settings, c));
  if (r.settings)
    for (const s of r.overridden)
      out.push(c.dim(`  line ${s.line}: \`${s.text}\` replaced by the kernel's settings`));
  for (const n of r.kernelNotes) out.push(c.dim(`kernel: ${n}`));
  for (const s of r.skipped) out.push(c.yellow(`skipped (simulator only): line ${s.line}: \`${s.text}\``));
  for (const s of r.steps) {
    const head = `observe step ${s.step} (line ${s.line}):`;
    if (s.missing === 'both') out.push(c.dim(`${head} not reached`));
    else if (s.missing)
      out.push(`${head} ${c.red(`only the ${s.missing === 'kernel' ? 'model' : 'kernel'} reached it`)}`);
    else if (s.differences.length === 0) out.push(`${head} ${c.green('equal')}`);
    else {
      const n = s.differences.length;
      out.push(`${head} ${c.red(`${n} difference${n === 1 ? '' : 's'}`)}`);
      for (const d of s.differences.slice(0, max)) out.push(`  ${formatDifference(d)}`);
      if (n > max) out.push(`  ... and ${n - max} more`);
    }
  }
  const end = (who: string, e: RunEnd) =>
    `${who} stopped${e.line !== undefined ? ` at line ${e.line}` : ''}: ${e.message}`;
  if (r.kernelError) out.push((sameEnd(r) ? c.yellow : c.red)(end('kernel', r.kernelError)));
  if (r.modelError) out.push((sameEnd(r) ? c.yellow : c.red)(end('model', r.modelError)));
  const compared = r.steps.filter((s) => !s.missing);
  const equalSteps = compared.filter((s) => s.differences.length === 0).length;
  const matched = `${equalSteps} of ${r.steps.length} observations match the kernel`;
  if (!r.equal) out.push(c.red(`different: ${matched}`));
  else if (r.bothStoppedAt !== undefined)
    out.push(
      c.yellow(
        `stopped early: both sides refused line ${r.bothStoppedAt}, nothing after it was compared; ${matched}`,
      ),
    );
  else out.push(c.green(`equal: ${matched}`));
  return `${out.join('\n')}\n`;
}
