/**
 * The rmap statements at the speed of the walk (issue 13 §3): `walk`, `unmap` and `reclaim` of
 * pages mapped by 1,001 processes, run as `rmaplab run - --json` runs them (the CLI's main()
 * in-process, output discarded), in ns per visited VMA (target ≤ 200 for each).
 *
 * Method: each figure is (time of a scenario with the statements − time of the same scenario
 * without them) / the VMAs those statements visited. Both scenarios of a pair share one setup: A
 * writes every page of a region, forks B and exits, and B forks 1,000 children, so that B and its
 * children (1,001 processes) map every page through one anon_vma. A's exit leaves every PTE old
 * (fork gives a child old PTEs; only the writer's were young): a plain `unmap` (no
 * TTU_IGNORE_ACCESS) then unmaps every PTE instead of stopping with SWAP_FAIL at a young one, and
 * `reclaim`'s page_referenced finds no reference and goes on to try_to_unmap, pageout and free.
 *  - walk: a 1-page region, then `B: walk heap 0` N times (a walk changes nothing).
 *  - unmap, reclaim: an N-page region, then `B: unmap heap i` / `B: reclaim heap i` for i in
 *    0..N-1. Each repetition acts on a page that is still mapped by all 1,001 processes, so no page
 *    is faulted back in between repetitions: the baseline writes and forks the same N pages and the
 *    setup cancels out. (Re-faulting one page would not isolate the statement: after an unmap each
 *    re-read is a swap-in fault, but without the unmap it is a hit on a present PTE, so the
 *    subtraction would charge 1,001 faults to every unmap; and the re-read PTEs are young, so the
 *    next plain unmap would stop at the first with SWAP_FAIL.)
 * The VMAs visited are counted in an untimed run of the same scenario through the runner (the
 * walks of each statement's report: reclaim has two, page_referenced's and try_to_unmap's), which
 * also checks each statement's result (SWAP_AGAIN, SWAP_SUCCESS, freed). Each round runs the two
 * scenarios of a pair back to back (the machine's load drifts between rounds, not within one);
 * the figure is the median of the rounds' differences. Times are this process's CPU time: the
 * machine is shared, and the wall clock (printed beside it) also counts the waits for a core.
 *
 * Beside it, the library's figure in the same run: the @rmaplab/rmap entry point that the runner
 * calls for the statement (walkAt, unmapAt, reclaimAt), timed directly, N calls on the state the
 * setup built, per visited VMA (median of the rounds).
 *
 * Run by `pnpm bench`; alone, from apps/cli:
 *   tsx --expose-gc bench/rmap-statements.ts [--repeat 2000] [--children 1000] [--rounds 5]
 *     [--ops walk,unmap,reclaim]
 */
import { type Mm, type MmSystem, PAGE_SIZE } from '@rmaplab/mm';
import { reclaimAt, unmapAt, walkAt } from '@rmaplab/rmap';
import { iterateScenario, type OpReport, ScenarioRunner } from '@rmaplab/scenario';
import { cliRun, median, numArg, type Timing, timed } from './common.js';

const repeat = numArg('repeat', 2000);
const children = numArg('children', 1000);
const rounds = numArg('rounds', 5);

const OPS = ['walk', 'unmap', 'reclaim'] as const;
type Op = (typeof OPS)[number];
const opsArg = process.argv.indexOf('--ops');
const ops = opsArg < 0 ? OPS : OPS.filter((op) => process.argv[opsArg + 1].split(',').includes(op));

/** What each statement must report, or the figure measures something else. */
const EXPECTED: Record<Op, string> = { walk: 'SWAP_AGAIN', unmap: 'SWAP_SUCCESS', reclaim: 'freed' };

/** The pages the region needs: a walk repeats on page 0, unmap and reclaim take a fresh page each time. */
const pagesFor = (op: Op) => (op === 'walk' ? 1 : repeat);

/** The setup both scenarios of a pair share: `pages` pages mapped by B and its children. */
function setup(pages: number): string[] {
  const lines = ['spawn A', `A: mmap heap ${pages} anon private`, `A: write heap 0..${pages - 1}`];
  lines.push('A: fork B', 'A: exit');
  for (let i = 1; i <= children; i++) lines.push(`B: fork C${i}`);
  return lines;
}

function statements(op: Op): string[] {
  return Array.from({ length: repeat }, (_, i) => `B: ${op} heap ${op === 'walk' ? 0 : i}`);
}

const text = (lines: string[]) => `${lines.join('\n')}\n`;

/** VMAs visited by the walks of one statement's report. */
function visited(rep: OpReport): number {
  const raw = rep.raw;
  if (raw.op === 'reclaim')
    return raw.report.referencedWalk.visits.length + raw.report.unmapWalk.visits.length;
  if (raw.op === 'walk' || raw.op === 'unmap') return raw.report.walk.visits.length;
  throw new Error(`unexpected ${raw.op} report`);
}

/** A runner that has run `lines`. */
function runnerAfter(lines: string[]): ScenarioRunner {
  const runner = new ScenarioRunner();
  for (const st of iterateScenario(text(lines))) runner.exec(st);
  return runner;
}

/** The untimed run: VMAs visited by the statements, each statement's result checked. */
function countVisits(op: Op): number {
  const runner = runnerAfter(setup(pagesFor(op)));
  let n = 0;
  for (const st of iterateScenario(text(statements(op)))) {
    const rep = runner.exec(st).report!;
    if (rep.result !== EXPECTED[op]) throw new Error(`${st.text}: ${rep.result}, not ${EXPECTED[op]}`);
    n += visited(rep);
  }
  return n;
}

const LIBRARY: Record<Op, (sys: MmSystem, mm: Mm, addr: number) => unknown> = {
  walk: walkAt,
  unmap: (sys, mm, addr) => unmapAt(sys, mm, addr, 0),
  reclaim: reclaimAt,
};

/** The library's time for the N statements' calls on a freshly built state. */
function timeLibrary(op: Op): Promise<Timing> {
  const runner = runnerAfter(setup(pagesFor(op)));
  const b = runner.procs.get('B')!;
  const base = b.regions.get('heap')!.addr;
  const call = LIBRARY[op];
  return timed(() => {
    for (let i = 0; i < repeat; i++) call(runner.sys, b.mm, base + (op === 'walk' ? 0 : i) * PAGE_SIZE);
  });
}

/** ns per visited VMA, by the CPU and by the clock. */
interface PerVisit {
  cpu: number;
  wall: number;
}

interface Figure {
  visits: number;
  cli: PerVisit;
  library: PerVisit;
  /** The scenarios with and without the statements, CPU ms. */
  withMs: number;
  withoutMs: number;
}

async function measure(op: Op): Promise<Figure> {
  const visits = countVisits(op);
  const base = setup(pagesFor(op));
  const withText = text([...base, ...statements(op)]);
  const withoutText = text(base);
  await cliRun(withText);
  await cliRun(withoutText);
  await timeLibrary(op);
  const withs: Timing[] = [];
  const withouts: Timing[] = [];
  const library: Timing[] = [];
  for (let r = 0; r < rounds; r++) {
    withs.push(await timed(() => cliRun(withText)));
    withouts.push(await timed(() => cliRun(withoutText)));
    library.push(await timeLibrary(op));
  }
  const perVisit = (ms: (t: keyof Timing) => number[]): PerVisit => ({
    cpu: (median(ms('cpu')) * 1e6) / visits,
    wall: (median(ms('wall')) * 1e6) / visits,
  });
  return {
    visits,
    cli: perVisit((t) => withs.map((w, r) => w[t] - withouts[r][t])),
    library: perVisit((t) => library.map((l) => l[t])),
    withMs: median(withs.map((w) => w.cpu)),
    withoutMs: median(withouts.map((w) => w.cpu)),
  };
}

console.log(
  `rmap statements through rmaplab run --json, pages mapped by ${children + 1} processes ` +
    `(CPU time, medians of ${rounds} rounds after a warm-up; node ${process.version}):`,
);
for (const op of ops) {
  const f = await measure(op);
  const ns = (v: PerVisit) => `${v.cpu.toFixed(1)} ns (wall clock ${v.wall.toFixed(1)})`;
  console.log(
    `  ${repeat} × ${op.padEnd(7)} ${f.visits} VMAs visited; scenario ${f.withMs.toFixed(0)} ms CPU, ` +
      `without the statements ${f.withoutMs.toFixed(0)} ms: ${ns(f.cli)} per visited VMA (target ≤ 200); ` +
      `library ${op}At ${ns(f.library)}`,
  );
}
