/**
 * The reliability soak: random sequences from the generator with the simulator's own statements
 * (rmap statements, `set` lines of every release of the timeline), run statement by statement.
 * After every statement: the invariant checker, and rmap completeness on a sample of pages — each
 * page the statement's process maps in the statement's region (or the page the rmap statement
 * acted on), plus a few random ones — checked against every PTE by brute force (pteMappers). A
 * statement the runner refuses (no page there, a call the kernel would BUG on) must leave the state
 * exactly as it was; the sequence then goes on without it. Anything else that throws is an
 * internal error.
 */
import { type MmSystem, PAGE_SIZE, PageKsm, stateFingerprint, timelinePoints } from '@rmaplab/mm';
import { kernelWarnings, pteMappers, walkMismatch } from '@rmaplab/rmap';
import {
  parseScenario,
  ScenarioError,
  ScenarioRunner,
  type Statement,
  type StepResult,
} from '@rmaplab/scenario';
import { generateScenario, prng } from '../src/generate.js';

/** The generator's options for `seed`: KSM for every third, small regions (more sharing) for every other. */
export function soakScenario(seed: number): string {
  return generateScenario(seed, { simulator: true, ksm: seed % 3 === 0, maxPages: seed % 2 ? 16 : 6 });
}

/** What broke: the seed, the statement, and a scenario that reproduces it under `rmaplab run`. */
export interface SoakFailure {
  seed: number;
  kind: 'internal error' | 'invariant' | 'rmap completeness' | 'refused statement changed the state';
  statement: string;
  message: string;
  /** The sequence up to the failing statement, without the refused statements (they changed nothing). */
  scenario: string;
}

export interface SoakFigures {
  sequences: number;
  statements: number;
  /** Statements refused (no page there to act on, a call the kernel refuses, ...): each changed nothing. */
  refused: number;
  /** Of those, refused because the kernel would hit an assertion. */
  kernelAssertions: number;
  /** Kernel warnings raised (each leaves a leaked mapping the checker counts). */
  warnings: number;
  /** Walks checked against the brute force. */
  walks: number;
  /** The releases the sequences ran under, with how many sequences each. */
  releases: Map<string, number>;
  milliseconds: number;
}

export interface SoakResult {
  figures: SoakFigures;
  failures: SoakFailure[];
}

/** Random pages checked after each statement besides those it touched. */
const RANDOM_WALKS = 3;

/** Run the sequences of seeds `first` .. `first + count - 1`. */
export function soak(first: number, count: number): SoakResult {
  const releases = new Map(timelinePoints().map((k) => [k, 0]));
  const figures: SoakFigures = {
    sequences: 0,
    statements: 0,
    refused: 0,
    kernelAssertions: 0,
    warnings: 0,
    walks: 0,
    releases,
    milliseconds: 0,
  };
  const failures: SoakFailure[] = [];
  const start = performance.now();
  for (let seed = first; seed < first + count; seed++) {
    const failure = runSequence(seed, figures);
    if (failure) failures.push(failure);
    figures.sequences++;
  }
  figures.milliseconds = performance.now() - start;
  return { figures, failures };
}

function runSequence(seed: number, figures: SoakFigures): SoakFailure | null {
  const runner = new ScenarioRunner();
  const rnd = prng(seed ^ 0x5eed);
  const kept: string[] = [];
  let before = fingerprint(runner.sys);
  const fail = (kind: SoakFailure['kind'], statement: string, message: string): SoakFailure => ({
    seed,
    kind,
    statement,
    message,
    scenario: `${[...kept, statement].join('\n')}\n`,
  });
  for (const st of parseScenario(soakScenario(seed))) {
    figures.statements++;
    let result: StepResult;
    try {
      result = runner.exec(st);
    } catch (e) {
      if (!(e instanceof ScenarioError)) return fail('internal error', st.text, (e as Error).message);
      figures.refused++;
      if (e.kind === 'kernel' && / would hit /.test(e.message)) figures.kernelAssertions++;
      const after = fingerprint(runner.sys);
      if (after !== before) return fail('refused statement changed the state', st.text, e.message);
      continue;
    }
    kept.push(st.text);
    if (st.op === 'set' && st.set.key === 'kernel')
      figures.releases.set(st.set.value, (figures.releases.get(st.set.value) ?? 0) + 1);
    figures.warnings += result.report?.raw.op === 'unmap' ? result.report.raw.report.warnings.length : 0;
    try {
      runner.checkInvariants();
    } catch (e) {
      return fail('invariant', st.text, (e as Error).message);
    }
    const wrong = checkWalks(runner, st, result, rnd, figures);
    if (wrong) return fail('rmap completeness', st.text, wrong);
    before = fingerprint(runner.sys);
  }
  return null;
}

/**
 * rmap completeness on the sample of pages after one statement: a description of the first walk
 * that differs from the brute force, or null. A KSM page's walk is only held to finding nothing
 * that does not map it. It may find a PTE twice, as rmap_walk_ksm does: once through the rmap_item
 * of the PTE's own mm, and again, in its search for new forks, through the item of the mm it was
 * forked from. Which PTEs it must reach, given the kernel's own blind spots, the invariant checker
 * has already checked (checkKsmWalkReach).
 */
function checkWalks(
  runner: ScenarioRunner,
  st: Statement,
  result: StepResult,
  rnd: () => number,
  figures: SoakFigures,
): string | null {
  const sys = runner.sys;
  const mappers = pteMappers(sys);
  if (mappers.size === 0) return null;
  const sample = new Set<number>();
  if (result.report?.pfn !== undefined) sample.add(result.report.pfn);
  if ('region' in st) {
    const p = runner.procs.get(st.proc);
    const r = p?.regions.get(st.region);
    if (p?.alive && r)
      for (const [pfn, keys] of mappers)
        for (const k of keys) {
          const [mm, address] = k.split(':').map(Number);
          if (mm === p.mm.id && address >= r.addr && address < r.addr + r.pages * PAGE_SIZE) sample.add(pfn);
        }
  }
  const pfns = [...mappers.keys()];
  for (let i = 0; i < RANDOM_WALKS; i++) sample.add(pfns[Math.floor(rnd() * pfns.length)]);
  for (const pfn of sample) {
    const keys = mappers.get(pfn);
    if (!keys) continue;
    figures.walks++;
    const m = walkMismatch(sys, pfn, keys);
    if (!m || (PageKsm(sys.mem, pfn) && !m.invented.length)) continue;
    return `walk of pfn ${pfn}: missed ${m.missed.join(' ') || 'none'}, invented ${m.invented.join(' ') || 'none'}, twice ${m.twice.join(' ') || 'none'}`;
  }
  return null;
}

/** The state as far as a statement can change it, with the warnings logged so far. */
function fingerprint(sys: MmSystem): string {
  return `${stateFingerprint(sys)},warnings,${kernelWarnings(sys).length}`;
}

/** The figures as the soak prints them. */
export function formatFigures(f: SoakFigures): string {
  const used = [...f.releases].filter(([, n]) => n > 0).length;
  return [
    `soak: ${f.sequences} sequences, ${f.statements} statements in ${(f.milliseconds / 1000).toFixed(1)} s`,
    `  refused (state unchanged): ${f.refused}, of which ${f.kernelAssertions} would hit a kernel assertion`,
    `  kernel warnings (leaked mappings counted by the checker): ${f.warnings}`,
    `  rmap walks checked against every PTE: ${f.walks}`,
    `  releases: ${used} of ${f.releases.size} timeline points`,
  ].join('\n');
}

/** The failures as the soak prints them: each with a scenario that reproduces it. */
export function formatFailures(failures: readonly SoakFailure[]): string {
  return failures
    .map((x) => `seed ${x.seed}: ${x.kind} at \`${x.statement}\`: ${x.message}\n${x.scenario}`)
    .join('\n');
}
