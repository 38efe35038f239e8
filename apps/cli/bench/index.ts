/**
 * The CLI's speed targets, measured (issue 7, "Performance"):
 *  1. parse and run a generated scenario of 1,000,000 single-page `write`/`read` statements
 *     (target ≥ 500,000 statements/s), through the same path as `rmaplab run --json`, and the
 *     peak resident memory of the process while doing so (statements are streamed, never collected);
 *  2. `write heap 0..262143` then `fork` as a scenario vs the same work as direct @rmaplab/mm
 *     calls (target: within 20%).
 * Each figure is the median of --rounds runs after a warm-up (--fork-rounds for target 2).
 *
 *   pnpm bench [--statements 1000000] [--pages 262144] [--rounds 5] [--fork-rounds 21]
 */
import {
  MAP_PRIVATE,
  MmSystem,
  PAGE_SIZE,
  PROT_READ,
  PROT_WRITE,
  readPte,
  sysFork,
  sysMmap,
  userAccess,
} from '@rmaplab/mm';
import { iterateScenario, runScenario } from '@rmaplab/scenario';
import { cliRun, median, numArg, timeCli, timeOnce } from './common.js';

const statements = numArg('statements', 1_000_000);
const pages = numArg('pages', 262_144);
const rounds = numArg('rounds', 5);
const forkRounds = numArg('fork-rounds', 21);

/** Peak resident memory of this process so far. */
const rssMiB = () => (process.resourceUsage().maxRSS / 1024).toFixed(0);

/** Time fn over a warm-up and `rounds` runs; the median in ms. */
function measure(fn: () => void): number {
  fn();
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) times.push(timeOnce(fn));
  return median(times);
}

/**
 * 2 setup lines, then alternating single-page writes and reads over a 4096-page region. Built a
 * chunk of lines at a time, so the peak memory measured is the scenario's, not an array of its lines.
 */
function accessScenario(n: number): string {
  const chunks = ['spawn A\nA: mmap heap 4096 anon private\n'];
  let lines: string[] = [];
  for (let i = 2; i < n; i++) {
    lines.push(`A: ${i % 2 ? 'read' : 'write'} heap ${(i * 7) % 4096}`);
    if (lines.length === 4096 || i === n - 1) {
      chunks.push(`${lines.join('\n')}\n`);
      lines = [];
    }
  }
  return chunks.join('');
}

/** Parse every statement, keeping none. */
function parseAll(text: string): void {
  for (const _ of iterateScenario(text)) {
    // each statement is parsed as the generator is pulled
  }
}

function runAll(text: string): void {
  for (const _ of runScenario(text)) {
    // each statement runs as the generator is pulled
  }
}

const text = accessScenario(statements);
const textRssMiB = rssMiB();
const parseMs = measure(() => parseAll(text));
const runMs = measure(() => runAll(text));
let cliMs = 0;
{
  const times: number[] = [];
  await cliRun(text);
  for (let r = 0; r < rounds; r++) times.push(await timeCli(text));
  cliMs = median(times);
}

const statementsRssMiB = rssMiB();

const forkScenario = `spawn A\nA: mmap heap ${pages} anon private\nA: write heap 0..${pages - 1}\nA: fork B\n`;
/** The same work as direct API calls: what the runner does for these four statements. */
function directFork(): void {
  const sys = new MmSystem();
  const mm = sys.newMm('A');
  const addr = 0x100_0000_0000;
  sysMmap(sys, mm, {
    addr,
    len: pages * PAGE_SIZE,
    prot: PROT_READ | PROT_WRITE,
    flags: MAP_PRIVATE,
  });
  for (let i = 0; i < pages; i++) {
    const a = addr + i * PAGE_SIZE;
    userAccess(sys, mm, a, true);
    sys.mem.content[readPte(mm, a).pfn] = sys.newContent();
  }
  sysFork(sys, mm, 'B');
}

/**
 * Scenario and direct calls alternate within each round (the machine's load drifts between
 * rounds, not within one); the ratio is the median of the rounds' ratios.
 */
function compareFork(): { scenario: number; direct: number; ratio: number } {
  const scenarioRun = () => runAll(forkScenario);
  scenarioRun();
  directFork();
  const scenario: number[] = [];
  const direct: number[] = [];
  const ratio: number[] = [];
  for (let r = 0; r < forkRounds; r++) {
    scenario.push(timeOnce(scenarioRun));
    direct.push(timeOnce(directFork));
    ratio.push(scenario[r] / direct[r]);
  }
  return { scenario: median(scenario), direct: median(direct), ratio: median(ratio) };
}
const fork = compareFork();

const perSec = (n: number, ms: number) => Math.round((n * 1000) / ms).toLocaleString('en-US');
console.log(`rmaplab CLI benchmark (median of ${rounds} runs after a warm-up; node ${process.version})`);
console.log(`  ${statements.toLocaleString('en-US')} write/read statements of single pages:`);
console.log(
  `    parse only:              ${parseMs.toFixed(0)} ms  ${perSec(statements, parseMs)} statements/s`,
);
console.log(
  `    parse + run:             ${runMs.toFixed(0)} ms  ${perSec(statements, runMs)} statements/s (target ≥ 500,000)`,
);
console.log(`    rmaplab run --json:      ${cliMs.toFixed(0)} ms  ${perSec(statements, cliMs)} statements/s`);
console.log(
  `    peak RSS so far:         ${statementsRssMiB} MiB (${textRssMiB} MiB once the scenario text was built)`,
);
console.log(`  write heap 0..${pages - 1} + fork (median of ${forkRounds} alternating rounds):`);
console.log(`    scenario:                ${fork.scenario.toFixed(0)} ms`);
console.log(`    direct @rmaplab/mm calls: ${fork.direct.toFixed(0)} ms`);
console.log(`    ratio scenario/direct:   ${fork.ratio.toFixed(2)} (target ≤ 1.20)`);
console.log(
  `  peak RSS of this process:  ${rssMiB()} MiB (the fork scenario's ${pages.toLocaleString('en-US')} pages included)`,
);
