/**
 * The kernel side of `rmaplab verify`: can this machine be read at all, the native helper
 * (kernel-check/rmaplab-kcheck.c, shipped inside this package and built with the system `cc` on
 * first use into a cache keyed by the source's hash), and one run of a scenario through it.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ComparedObservation } from './compare.js';

/** Why the kernel cannot be compared with, in a form a test can skip on and a person can act on. */
export class KernelUnavailable extends Error {
  constructor(
    readonly reason: 'platform' | 'root' | 'kpagecount' | 'ksm' | 'compiler' | 'build' | 'source' | 'busy',
    message: string,
  ) {
    super(message);
    this.name = 'KernelUnavailable';
  }
}

const KSM_DIR = '/sys/kernel/mm/ksm';

/**
 * Throws KernelUnavailable unless this process can run the helper: Linux, root (PFNs in
 * /proc/PID/pagemap and /proc/kpagecount need CAP_SYS_ADMIN), /proc/kpagecount and
 * /proc/kpageflags readable (CONFIG_PROC_PAGE_MONITOR), and KSM built in when `needsKsm`.
 */
export function checkKernelAccess(needsKsm: boolean): void {
  if (process.platform !== 'linux')
    throw new KernelUnavailable(
      'platform',
      `not Linux (this is ${process.platform}): the comparison runs the scenario on a Linux kernel`,
    );
  if (process.geteuid?.() !== 0)
    throw new KernelUnavailable(
      'root',
      'not root: the physical page numbers in /proc/PID/pagemap and /proc/kpagecount need CAP_SYS_ADMIN (run with sudo)',
    );
  for (const file of ['/proc/kpagecount', '/proc/kpageflags']) {
    try {
      closeSync(openSync(file, 'r'));
    } catch (e) {
      throw new KernelUnavailable(
        'kpagecount',
        `${file} is unreadable (${(e as NodeJS.ErrnoException).code}): the kernel needs CONFIG_PROC_PAGE_MONITOR`,
      );
    }
  }
  if (needsKsm && !existsSync(`${KSM_DIR}/run`))
    throw new KernelUnavailable(
      'ksm',
      `KSM is not built into this kernel (${KSM_DIR} is missing, CONFIG_KSM=n), and the scenario uses ksm or madvise mergeable/unmergeable`,
    );
}

/** The helper's source folder, kernel-check/ at the package root (one level above src/ and dist/). */
export function kernelCheckDir(): string {
  const dir = fileURLToPath(new URL('../kernel-check/', import.meta.url));
  if (!existsSync(join(dir, 'rmaplab-kcheck.c')))
    throw new KernelUnavailable('source', `the helper's source ${join(dir, 'rmaplab-kcheck.c')} is missing`);
  return dir;
}

/**
 * Where built helpers are kept: `RMAPLAB_CACHE_DIR`, else `$XDG_CACHE_HOME/rmaplab` or
 * `~/.cache/rmaplab`, else (no home) the system's temporary folder. Never inside the installed
 * package, which may be read-only or shared between users.
 */
export function helperCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.RMAPLAB_CACHE_DIR) return resolve(env.RMAPLAB_CACHE_DIR);
  const base = env.XDG_CACHE_HOME || (env.HOME ? join(env.HOME, '.cache') : '');
  return base ? join(base, 'rmaplab') : join(tmpdir(), `rmaplab-${process.getuid?.() ?? 'user'}`);
}

const CFLAGS = ['-O2', '-Wall', '-Wextra'];

/**
 * The path of the built helper, compiling it first when the cache has no build of this source
 * (the cache directory is named after a hash of the source and the flags, so an edited source is
 * rebuilt, and concurrent builders rename a finished binary into place).
 */
export function ensureHelper(dir = kernelCheckDir(), cache = helperCacheDir()): string {
  const source = join(dir, 'rmaplab-kcheck.c');
  const cc = process.env.CC || 'cc';
  const hash = createHash('sha256')
    .update(readFileSync(source))
    .update(`${cc} ${CFLAGS.join(' ')}`)
    .digest('hex')
    .slice(0, 16);
  const out = join(cache, 'kcheck', hash, 'rmaplab-kcheck');
  if (isExecutable(out)) return out;
  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  try {
    execFileSync(cc, [...CFLAGS, '-o', tmp, source], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
    if (err.code === 'ENOENT')
      throw new KernelUnavailable(
        'compiler',
        `no C compiler: \`${cc}\` was not found (install gcc or clang, or set CC) to build ${source}`,
      );
    throw new KernelUnavailable(
      'build',
      `building ${source} failed:\n${err.stderr?.toString().trim() ?? err.message}`,
    );
  }
  renameSync(tmp, out);
  return out;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** What the helper printed: one observation per `observe`, and where it stopped if it did. */
export interface KernelRun {
  /** The observation lines, parsed (the contract's JSON with the extra fields pfn, kpf, swapped). */
  observations: KernelObservation[];
  /** The statement the kernel (or the helper) refused, when the run stopped early. */
  error?: { line?: number; message: string };
  /** The helper's notes on stderr (skipped statements, `set` lines it cannot honour, KSM scans). */
  notes: string[];
}

export interface KernelObservation {
  step: number;
  pages: { mapcount: number; flags: string[]; mappings: string[]; pfn?: number; kpf?: string }[];
  absent: string[];
  swapped?: string[];
  /** Contract v2: each live worker's VMAs in its regions, from /proc/PID/smaps. */
  vmas?: ComparedObservation['vmas'];
  /** Contract v2: /sys/kernel/mm/ksm's counters (above the run's baseline), once `ksm` has run. */
  ksm?: ComparedObservation['ksm'];
}

export interface HelperOptions {
  /** The built helper; default: ensureHelper(). */
  helper?: string;
  /** Refuse simulator-only statements instead of skipping them. */
  strict?: boolean;
  /** Where the scenario's files are created (must not be tmpfs). */
  tmpdir?: string;
  /** Give up waiting for a KSM fixed point after this many seconds (the helper's default is 60). */
  ksmTimeout?: number;
  /**
   * Wait this many seconds for another run of the helper to finish (one run at a time on a
   * machine; the helper's default is 180); 0 refuses at once. Still taken: KernelUnavailable 'busy'.
   */
  lockWait?: number;
  /** Kill the helper (which then cleans up) after this many milliseconds. */
  timeoutMs?: number;
}

const PREFIX = 'rmaplab-kcheck: ';

/** The helper's exit status when another run held the machine for its whole `--wait`. */
const HELPER_EXIT_BUSY = 3;

/**
 * Run `text` on the kernel. Resolves when the helper has exited and cleaned up; a refused
 * statement is reported in `error`, not thrown. Throws KernelUnavailable when the helper cannot
 * be built or another run kept the machine busy, and an Error for a usage error of the helper (a
 * bug on our side).
 */
export async function runOnKernel(text: string, opts: HelperOptions = {}): Promise<KernelRun> {
  const helper = opts.helper ?? ensureHelper();
  const args: string[] = [];
  if (opts.strict) args.push('--strict');
  if (opts.tmpdir) args.push('--tmpdir', resolve(opts.tmpdir));
  if (opts.ksmTimeout !== undefined) args.push('--ksm-timeout', String(opts.ksmTimeout));
  if (opts.lockWait !== undefined) args.push('--wait', String(opts.lockWait));
  args.push('-');
  const child = spawn(helper, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
  });
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  const timer =
    opts.timeoutMs !== undefined ? setTimeout(() => child.kill('SIGTERM'), opts.timeoutMs) : undefined;
  child.stdin.end(text);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((res, rej) => {
    child.on('error', rej);
    child.on('close', (c, s) => res([c, s]));
  });
  if (timer) clearTimeout(timer);
  const observations = stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as KernelObservation);
  const lines = stderr
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => (l.startsWith(PREFIX) ? l.slice(PREFIX.length) : l));
  const run: KernelRun = { observations, notes: lines };
  if (code === 0) return run;
  if (code === 2) throw new Error(`rmaplab-kcheck refused its input: ${lines.join('; ')}`);
  if (code === HELPER_EXIT_BUSY)
    throw new KernelUnavailable('busy', lines.at(-1)?.replace(/^busy: /, '') ?? 'another run is busy');
  const last = lines.pop() ?? (signal ? `killed by ${signal}` : `exit status ${code}`);
  run.notes = lines;
  const m = /^line (\d+): (.*)$/s.exec(last);
  run.error = m
    ? { line: Number(m[1]), message: m[2] }
    : { message: signal ? `${last} (timed out or killed by ${signal})` : last };
  return run;
}
