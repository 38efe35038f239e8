import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../src/cli.js';
import type { Io } from '../src/io.js';

/** The repository root: example paths in goldens and messages are relative to it. */
export const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');

export interface Captured {
  status: number;
  stdout: string;
  stderr: string;
}

/** Run `rmaplab ARGS` in-process, files relative to the repository root, streams captured. */
export async function rmaplab(
  args: string[],
  opts: { stdin?: string; tty?: boolean; env?: Record<string, string> } = {},
): Promise<Captured> {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    readStdin: async () => opts.stdin ?? '',
    readFile: (p) => readFileSync(resolve(ROOT, p), 'utf8'),
    env: opts.env ?? {},
    stdoutIsTTY: opts.tty ?? false,
    stderrIsTTY: opts.tty ?? false,
    now: () => 0,
  };
  const status = await main(args, io);
  return { status, stdout, stderr };
}
