/**
 * Everything a command touches outside itself, so the commands run the same in the binary and
 * in-process in tests (no global process state, no exit calls below `main`).
 */
import { readFileSync } from 'node:fs';

export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  /** The whole of standard input (for `-`). */
  readStdin(): Promise<string>;
  /** A file's text; throws a Node fs error when it cannot be read. */
  readFile(path: string): string;
  env: Record<string, string | undefined>;
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
  /** Milliseconds, for progress reports only (never printed into results). */
  now(): number;
}

/** The real process's streams and files. */
export function processIo(): Io {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
    readFile: (path) => readFileSync(path, 'utf8'),
    env: process.env,
    stdoutIsTTY: process.stdout.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    now: () => performance.now(),
  };
}

/** ANSI styles, or identity functions when colour is off. */
export interface Colors {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
}

/** Colour only on a terminal, never with NO_COLOR (any value, per no-color.org) or machine output. */
export function colorsFor(io: Io, stream: 'stdout' | 'stderr', machineOutput = false): Colors {
  const tty = stream === 'stdout' ? io.stdoutIsTTY : io.stderrIsTTY;
  const on = tty && !machineOutput && io.env.NO_COLOR === undefined && io.env.TERM !== 'dumb';
  const wrap = (open: number, close: number) =>
    on ? (s: string) => `\x1b[${open}m${s}\x1b[${close}m` : (s: string) => s;
  return {
    bold: wrap(1, 22),
    dim: wrap(2, 22),
    red: wrap(31, 39),
    green: wrap(32, 39),
    yellow: wrap(33, 39),
    cyan: wrap(36, 39),
  };
}

/** A command-line mistake: exit status 2, with a pointer to the command's --help. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Read FILE, or standard input for `-`; a file that cannot be read is a usage error. */
export async function readInput(io: Io, file: string, command: string): Promise<string> {
  if (file === '-') return io.readStdin();
  try {
    return io.readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : String(code);
    throw new UsageError(`cannot read ${file}: ${why}`, command);
  }
}
