/** What the CLI's benchmarks share: arguments, timing, and `rmaplab run - --json` run in-process. */
import { main } from '../src/cli.js';
import type { Io } from '../src/io.js';

/** `--NAME N` on the command line, or `fallback`. */
export function numArg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} needs a positive number`);
  return v;
}

/** A full collection (the benchmarks run with --expose-gc), so that one run's garbage is not the next's. */
export const gc = () => (globalThis as { gc?: () => void }).gc?.();

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** One timed run of fn in ms, after a full GC. */
export function timeOnce(fn: () => void): number {
  gc();
  const t = performance.now();
  fn();
  return performance.now() - t;
}

/** How long one run took, in ms: on the clock, and on this process's CPUs (user + system). */
export interface Timing {
  wall: number;
  cpu: number;
}

/**
 * fn's wall-clock and CPU time, after a full GC and a pause in which its concurrent sweeping ends
 * (the CPU time counts the GC's helper threads too). On a machine shared with other work, the
 * wall clock also counts the time spent waiting for a core; the CPU time does not.
 */
export async function timed(fn: () => unknown): Promise<Timing> {
  gc();
  await new Promise((resolve) => setTimeout(resolve, 50));
  const cpu = process.cpuUsage();
  const t = performance.now();
  await fn();
  const wall = performance.now() - t;
  const used = process.cpuUsage(cpu);
  return { wall, cpu: (used.user + used.system) / 1000 };
}

/** `rmaplab run - --json` in-process on scenario text, output discarded. */
export async function cliRun(text: string): Promise<void> {
  const io: Io = {
    stdout: () => {},
    stderr: (t) => process.stderr.write(t),
    read: async () => Buffer.from(text),
    isFifo: () => false,
    env: {},
    stdinIsTTY: false,
    stdoutIsTTY: false,
    stderrIsTTY: false,
    now: () => performance.now(),
  };
  if ((await main(['run', '-', '--json'], io)) !== 0) throw new Error('the scenario failed');
}

/** One timed `cliRun` in ms, after a full GC. */
export async function timeCli(text: string): Promise<number> {
  gc();
  const t = performance.now();
  await cliRun(text);
  return performance.now() - t;
}
