/**
 * Everything a command touches outside itself, so the commands run the same in the binary and
 * in-process in tests (no global process state, no exit calls below `main`).
 */
import { closeSync, fstatSync, openSync, readSync, statSync, writeSync } from 'node:fs';
import { MAX_SCENARIO_BYTES, ScenarioError } from '@rmaplab/scenario';

export interface Io {
  /** Write to standard output; throws OutputClosed once it cannot be written any more. */
  stdout(text: string): void;
  /** Write to standard error; a failure there is ignored (there is nowhere left to report it). */
  stderr(text: string): void;
  /**
   * The bytes of FILE, or of standard input for `-`: at most `max` + 1, so that more than `max`
   * says the input is too long without reading it all. Throws a Node fs error when FILE cannot
   * be read.
   */
  read(file: string, max: number): Promise<Buffer>;
  /** Whether FILE is a FIFO: opening one for reading waits until a writer opens it. */
  isFifo(file: string): boolean;
  env: Record<string, string | undefined>;
  stdinIsTTY: boolean;
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
  /** Milliseconds, for progress reports only (never printed into results). */
  now(): number;
}

/** Standard output cannot be written: the reader went away (EPIPE), the disk is full (ENOSPC)... */
export class OutputClosed extends Error {
  constructor(readonly code: string) {
    super(`stdout: ${code}`);
    this.name = 'OutputClosed';
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * Write all of `text` to `fd`, synchronously, so a failure is known at the write that failed (a
 * closed pipe then ends the run at once, instead of an 'error' event after the whole run).
 * A non-blocking descriptor (shared with a parent that set O_NONBLOCK) is waited on.
 */
function writeAll(fd: number, text: string): void {
  const buf = Buffer.from(text, 'utf8');
  for (let at = 0; at < buf.length; ) {
    try {
      at += writeSync(fd, buf, at);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      Atomics.wait(sleeper, 0, 0, 1);
    }
  }
}

/**
 * At most `max` + 1 bytes of the file at `path`, read in place into one buffer (sized from the
 * file's length when it has one; grown by doubling for devices, FIFOs and /proc files, which say 0).
 */
export function readBounded(path: string, max: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    let buf = Buffer.allocUnsafe(Math.min(max + 1, size > 0 ? size + 1 : 1 << 16));
    let n = 0;
    for (;;) {
      if (n === buf.length) {
        if (n > max) break;
        const bigger = Buffer.allocUnsafe(Math.min(max + 1, n * 2));
        buf.copy(bigger, 0, 0, n);
        buf = bigger;
      }
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
    }
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/** At most `max` + 1 bytes of standard input. */
async function readStdin(max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    n += (chunk as Buffer).length;
    if (n > max) break;
  }
  return Buffer.concat(chunks).subarray(0, max + 1);
}

/** The real process's streams and files. */
export function processIo(): Io {
  return {
    stdout: (text) => {
      try {
        writeAll(1, text);
      } catch (e) {
        throw new OutputClosed((e as NodeJS.ErrnoException).code ?? 'EIO');
      }
    },
    stderr: (text) => {
      try {
        writeAll(2, text);
      } catch {
        // stderr is gone too: nothing can be reported.
      }
    },
    read: async (file, max) => (file === '-' ? readStdin(max) : readBounded(file, max)),
    isFifo: (file) => {
      try {
        return statSync(file).isFIFO();
      } catch {
        return false;
      }
    },
    env: process.env,
    stdinIsTTY: process.stdin.isTTY === true,
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

/**
 * Colour on a terminal unless NO_COLOR is set to a non-empty value (no-color.org) or TERM is
 * dumb; FORCE_COLOR forces it on anywhere (off when `0` or `false`), over both, as in Node's own
 * tty.getColorDepth. Machine output (--json) is never coloured.
 */
export function colorsFor(io: Io, stream: 'stdout' | 'stderr', machineOutput = false): Colors {
  const tty = stream === 'stdout' ? io.stdoutIsTTY : io.stderrIsTTY;
  const force = io.env.FORCE_COLOR;
  const on =
    !machineOutput &&
    (force !== undefined
      ? force !== '0' && force !== 'false'
      : tty && !io.env.NO_COLOR && io.env.TERM !== 'dumb');
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

const LF = 10;
const CR = 13;

/**
 * Where byte `end` of `bytes` is, as the parser counts: lines end at LF, CR or CRLF; columns are
 * UTF-16 code units (a 4-byte UTF-8 sequence is two), after a leading byte-order mark.
 */
export function positionOf(bytes: Buffer, end: number): { line: number; column: number } {
  let line = 1;
  let start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  for (let i = start; i < end; i++) {
    const c = bytes[i];
    if (c === LF || (c === CR && bytes[i + 1] !== LF)) {
      line++;
      start = i + 1;
    }
  }
  let column = 1;
  for (let i = start; i < end; i++) {
    const b = bytes[i];
    if ((b & 0xc0) !== 0x80) column += b >= 0xf0 ? 2 : 1;
  }
  return { line, column };
}

/**
 * The text of FILE (`-`: standard input), at most MAX_SCENARIO_BYTES: more is a located limit
 * error at the first byte past the limit, found without reading further. A file that cannot be
 * read is a usage error. On a terminal, says what it waits for before it may block: a FIFO
 * without a writer, or standard input typed at the terminal.
 */
export async function readInput(io: Io, file: string, command: string): Promise<string> {
  if (io.stderrIsTTY) {
    if (file === '-' && io.stdinIsTTY)
      io.stderr('rmaplab: reading standard input until end of file (Ctrl-D)\n');
    else if (file !== '-' && io.isFifo(file)) io.stderr(`rmaplab: waiting for a writer on FIFO ${file}\n`);
  }
  let bytes: Buffer;
  try {
    bytes = await io.read(file, MAX_SCENARIO_BYTES);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : String(code);
    throw new UsageError(`cannot read ${file}: ${why}`, command);
  }
  if (bytes.length > MAX_SCENARIO_BYTES) {
    const { line, column } = positionOf(bytes, MAX_SCENARIO_BYTES);
    throw new ScenarioError({
      line,
      column,
      message: `the input is longer than ${MAX_SCENARIO_BYTES / (1024 * 1024)} MiB, the most rmaplab reads`,
      expected: `at most ${MAX_SCENARIO_BYTES} bytes`,
      kind: 'limit',
    });
  }
  return bytes.toString('utf8');
}
