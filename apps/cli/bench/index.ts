/**
 * The CLI's speed targets, measured (issue 7, "Performance"):
 *  1. parse and run a generated scenario of 1,000,000 single-page `write`/`read` statements
 *     (target ≥ 500,000 statements/s), through the same path as `rmaplab run --json`, and the
 *     peak resident memory of the process;
 *  2. `write heap 0..262143` then `fork` as a scenario vs the same work as direct @rmaplab/mm
 *     calls (target: within 20%).
 * Each figure is the median of --rounds runs after a warm-up.
 *
 *   pnpm bench [--statements 1000000] [--pages 262144] [--rounds 5]
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
import { parseScenario, runScenario } from '@rmaplab/scenario';
import { main } from '../src/cli.js';
import type { Io } from '../src/io.js';

function numArg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
}

const statements = numArg('statements', 1_000_000);
const pages = numArg('pages', 262_144);
const rounds = numArg('rounds', 5);

const gc = () => (globalThis as { gc?: () => void }).gc?.();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Time fn over a warm-up and `rounds` runs; the median in ms. */
function measure(fn: () => void): number {
  fn();
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    gc();
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  return median(times);
}

/** 3 setup lines, then alternating single-page writes and reads over a 4096-page region. */
function accessScenario(n: number): string {
  const lines = ['spawn A', 'A: mmap heap 4096 anon private'];
  for (let i = lines.length; i < n; i++) lines.push(`A: ${i % 2 ? 'read' : 'write'} heap ${(i * 7) % 4096}`);
  return `${lines.join('\n')}\n`;
}

/** `rmaplab run FILE --json` in-process on scenario text, output discarded. */
async function cliRun(text: string): Promise<void> {
  const io: Io = {
    stdout: () => {},
    stderr: (t) => process.stderr.write(t),
    readStdin: async () => text,
    readFile: () => text,
    env: {},
    stdoutIsTTY: false,
    stderrIsTTY: false,
    now: () => performance.now(),
  };
  if ((await main(['run', '-', '--json'], io)) !== 0) throw new Error('the scenario failed');
}

function runAll(text: string): void {
  for (const _ of runScenario(text)) {
    // each statement runs as the generator is pulled
  }
}

const text = accessScenario(statements);
const parseMs = measure(() => parseScenario(text));
const runMs = measure(() => runAll(text));
let cliMs = 0;
{
  const times: number[] = [];
  await cliRun(text);
  for (let r = 0; r < rounds; r++) {
    gc();
    const t = performance.now();
    await cliRun(text);
    times.push(performance.now() - t);
  }
  cliMs = median(times);
}

const forkScenario = `spawn A\nA: mmap heap ${pages} anon private\nA: write heap 0..${pages - 1}\nA: fork B\n`;
const scenarioForkMs = measure(() => runAll(forkScenario));
/** The same work as direct API calls: what the runner does for these four statements. */
const directForkMs = measure(() => {
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
});

const perSec = (n: number, ms: number) => Math.round((n * 1000) / ms).toLocaleString('en-US');
const rssMiB = (process.resourceUsage().maxRSS / 1024).toFixed(0);
console.log(`rmaplab CLI benchmark (median of ${rounds} runs after a warm-up; node ${process.version})`);
console.log(`  ${statements.toLocaleString('en-US')} write/read statements of single pages:`);
console.log(
  `    parse only:              ${parseMs.toFixed(0)} ms  ${perSec(statements, parseMs)} statements/s`,
);
console.log(
  `    parse + run:             ${runMs.toFixed(0)} ms  ${perSec(statements, runMs)} statements/s (target ≥ 500,000)`,
);
console.log(`    rmaplab run --json:      ${cliMs.toFixed(0)} ms  ${perSec(statements, cliMs)} statements/s`);
console.log(`  write heap 0..${pages - 1} + fork:`);
console.log(`    scenario:                ${scenarioForkMs.toFixed(0)} ms`);
console.log(`    direct @rmaplab/mm calls: ${directForkMs.toFixed(0)} ms`);
console.log(`    ratio scenario/direct:   ${(scenarioForkMs / directForkMs).toFixed(2)} (target ≤ 1.20)`);
console.log(`  peak RSS of this process:  ${rssMiB} MiB`);
