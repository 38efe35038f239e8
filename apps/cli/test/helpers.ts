import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { main } from '../src/cli.js';
import { type Io, OutputClosed, readBounded } from '../src/io.js';

/** The repository root: example paths in goldens and messages are relative to it. */
export const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');

/** The built binary (tests that spawn it need `pnpm build` first, as `pnpm test` does). */
export const BIN = resolve(ROOT, 'apps/cli/dist/bin.js');

export interface Captured {
  status: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  stdin?: string | Buffer;
  /** stdin, stdout and stderr are terminals. */
  tty?: boolean;
  env?: Record<string, string>;
  /** Files that exist only for this run (read before the real ones). */
  files?: Record<string, string>;
  /** Standard output fails with this code once this many characters were written to it. */
  closeStdout?: { after: number; code: string };
  /** The clock (default: always 0). */
  now?: () => number;
}

/** Run `rmaplab ARGS` in-process, files relative to the repository root, streams captured. */
export async function rmaplab(args: string[], opts: RunOptions = {}): Promise<Captured> {
  let stdout = '';
  let stderr = '';
  const path = (p: string) => resolve(ROOT, p);
  const io: Io = {
    stdout: (t) => {
      if (opts.closeStdout && stdout.length + t.length > opts.closeStdout.after)
        throw new OutputClosed(opts.closeStdout.code);
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    read: async (file, max) => {
      if (file === '-') return Buffer.from(opts.stdin ?? '').subarray(0, max + 1);
      const virtual = opts.files?.[file];
      return virtual !== undefined ? Buffer.from(virtual) : readBounded(path(file), max);
    },
    isFifo: (file) => {
      try {
        return statSync(path(file)).isFIFO();
      } catch {
        return false;
      }
    },
    env: opts.env ?? {},
    stdinIsTTY: opts.tty ?? false,
    stdoutIsTTY: opts.tty ?? false,
    stderrIsTTY: opts.tty ?? false,
    now: opts.now ?? (() => 0),
  };
  const status = await main(args, io);
  return { status, stdout, stderr };
}

/** A clock that moves `step` ms each time it is read. */
export function steppingClock(step: number): () => number {
  let t = 0;
  return () => {
    t += step;
    return t;
  };
}

/**
 * `actual` against the golden file at `path` (absolute); UPDATE_GOLDEN=1 writes it first. Read the
 * difference before regenerating.
 */
export function compareGolden(path: string, actual: string): void {
  if (process.env.UPDATE_GOLDEN) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, actual);
  }
  expect(existsSync(path), `${path} is missing: run with UPDATE_GOLDEN=1`).toBe(true);
  expect(actual).toBe(readFileSync(path, 'utf8'));
}

/** What a run printed, as the per-release goldens keep it: stdout, then stderr, then the exit status. */
export function runRecord(r: Captured): string {
  const tail = r.stderr ? `--- stderr\n${r.stderr}` : '';
  return `${r.stdout}${tail}--- exit status ${r.status}\n`;
}
