/**
 * The `rmaplab` command line: sub-commands, their flags and help. `main` returns the exit status
 * (0 ok, 1 scenario error, 2 usage error) and never exits the process itself, so tests call it.
 */
import { readFileSync } from 'node:fs';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { formatRelease, parseRelease, ReleaseError } from '@rmaplab/mm';
import { demoCommand } from './commands/demo.js';
import { GRAPH_FORMATS, type GraphFormat, graphCommand } from './commands/graph.js';
import { mapsCommand } from './commands/maps.js';
import { runCommand } from './commands/run.js';
import { verifyCommand } from './commands/verify.js';
import { colorsFor, type Io, UsageError } from './io.js';

/** The package version, read next to the code (src/ and dist/ both sit beside package.json). */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  return pkg.version;
}

const HELP: Record<string, string> = {
  '': `rmaplab — a simulator of the Linux kernel's reverse mapping (rmap)

Usage: rmaplab <command> [options]

Commands:
  run FILE      run a scenario: observations, rmap walks, SWAP_* results
  graph FILE    the rmap structures after a step, as dot, mermaid or json
  maps PID|FILE turn /proc/PID/maps into a scenario of mmap statements
  demo          kswapd unmaps a page shared by a parent and its forked children, step by step
  verify FILE   run a scenario in the model and on this machine's kernel, compare observations

Options:
  -h, --help     help (also after a command: rmaplab run --help)
  -V, --version  the version

Examples:
  rmaplab demo
  rmaplab run examples/01-fork-cow.rmap
  rmaplab run examples/02-kswapd-reclaim.rmap --json
  rmaplab graph examples/01-fork-cow.rmap --step 5 --format dot | dot -Tsvg > fork.svg
  rmaplab maps $$ > shell.rmap

Exit status: 0 ok, 1 scenario error (FILE:LINE:COL on stderr), 2 usage error.
Colour only on a terminal, never with NO_COLOR or --json.`,
  run: `Usage: rmaplab run FILE [--json] [--trace] [--kernel 4.9|6.12] [--check]

Run a scenario (FILE, or - for standard input). Each statement is printed with its step number,
followed by what it produced: an observation table for observe, the report of walk, unmap,
reclaim, referenced, migrate, mkclean and ksm.

Options:
  --json          only the observations, one JSON object a line on stdout (the contract's format)
  --trace         every kernel function the statements run, as "[task] fn: msg"
                  (on stderr with --json)
  --kernel VER    4.9 (default) or 6.12 before the scenario's own "set" lines
  --check         run the invariant checker after every statement

Examples:
  rmaplab run examples/01-fork-cow.rmap
  rmaplab run examples/02-kswapd-reclaim.rmap --trace
  echo 'spawn A
  A: mmap heap 4 anon private
  A: write heap 0..1
  observe' | rmaplab run - --json`,
  graph: `Usage: rmaplab graph FILE [--step N] [--format dot|mermaid|json] [--kernel 4.9|6.12]

The state after step N (default: the last step) as a graph: processes, VMAs, anon_vma_chains,
anon_vmas (with root and parent), address spaces and their i_mmap trees, KSM stable nodes, pages.

Options:
  --step N        stop after statement N (1-based, as in "rmaplab run")
  --format F      dot (default, Graphviz), mermaid, or json
  --kernel VER    4.9 (default) or 6.12 before the scenario's own "set" lines

Examples:
  rmaplab graph examples/01-fork-cow.rmap --step 5 | dot -Tsvg > fork.svg
  rmaplab graph examples/10-anon-vma-reuse.rmap --format mermaid`,
  maps: `Usage: rmaplab maps PID|FILE [--name P]

Read /proc/PID/maps (a process of this machine) or a saved maps FILE (- for standard input) and
print it as a scenario: a spawn line, then for each VMA the original line as a comment and an
mmap statement (anonymous, file-backed, [heap], [stack]; private or shared from the permissions),
with an mprotect when the VMA is not read/write. Kernel-installed mappings ([vdso], [vvar],
[vsyscall]) stay comments.

Options:
  --name P        the process name in the scenario (default P)

Examples:
  rmaplab maps $$ > shell.rmap && rmaplab run shell.rmap
  rmaplab maps saved-maps.txt --name firefox`,
  verify: `Usage: rmaplab verify FILE [--kernel-options auto|scenario] [--strict] [--json] [--tmpdir DIR]

Run the kernel-executable statements of a scenario twice: in the model, and on this machine's
Linux kernel (real processes, real mmap; kernel-check/rmaplab-kcheck.c in @rmaplab/verify, built with cc on first
use). Each observe is compared page by page (pages are matched by the mappings that share them):
equal, or each difference named (which mapping, which mapcount, which flag). Simulator-only
statements (walk, unmap, reclaim, referenced, migrate, mkclean) are skipped on both sides and named.
Needs Linux and root (/proc/kpagecount); KSM scenarios need /sys/kernel/mm/ksm. See docs/verify.md.

Options:
  --kernel-options auto      the model takes this kernel's settings (kernel rules, zero page,
                             fault-around, swap, ksm max_page_sharing), printed, instead of the
                             scenario's "set" lines
  --kernel-options scenario  the model takes the scenario's own "set" lines (default)
  --strict                   refuse a scenario with simulator-only statements
  --json                     the whole report as one JSON object
  --tmpdir DIR               where the scenario's files are created (not tmpfs; default /var/tmp)

Exit status: 0 every observation equal, 1 a difference or a scenario error, 2 usage error,
3 this machine's kernel cannot be read (the reason on stderr).

Examples:
  sudo rmaplab verify examples/01-fork-cow.rmap --kernel-options auto`,
  demo: `Usage: rmaplab demo [--kernel 4.9|6.12] [--trace]

The story rmap exists for, narrated: a parent writes an anonymous page and forks children that
share it; kswapd's try_to_unmap() walks the anon_vma's interval tree and unmaps the page from every
process. Each rmap_walk_anon step is printed with the VMA, the address and the result.

Options:
  --kernel VER    4.9 (default) or 6.12
  --trace         also every kernel function the demo runs

Example:
  rmaplab demo`,
};

type Options = NonNullable<ParseArgsConfig['options']>;

const COMMON: Options = { help: { type: 'boolean', short: 'h' } };
const KERNEL: Options = { kernel: { type: 'string' } };

const OPTIONS: Record<string, Options> = {
  run: {
    ...COMMON,
    ...KERNEL,
    json: { type: 'boolean' },
    trace: { type: 'boolean' },
    check: { type: 'boolean' },
  },
  graph: { ...COMMON, ...KERNEL, step: { type: 'string' }, format: { type: 'string' } },
  maps: { ...COMMON, name: { type: 'string' } },
  demo: { ...COMMON, ...KERNEL, trace: { type: 'boolean' } },
  verify: {
    ...COMMON,
    'kernel-options': { type: 'string' },
    strict: { type: 'boolean' },
    json: { type: 'boolean' },
    tmpdir: { type: 'string' },
  },
};

/** Exactly `n` positional arguments, named for the message. */
function positionals(command: string, got: string[], names: string[]): string[] {
  if (got.length < names.length) throw new UsageError(`missing ${names[got.length]}`, command);
  if (got.length > names.length)
    throw new UsageError(`unexpected argument ${JSON.stringify(got[names.length])}`, command);
  return got;
}

function kernelFlag(command: string, v: unknown): string | undefined {
  if (v === undefined) return undefined;
  try {
    return formatRelease(parseRelease(String(v)));
  } catch (e) {
    if (!(e instanceof ReleaseError)) throw e;
    throw new UsageError(`--kernel: ${e.message}`, command);
  }
}

function stepFlag(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string' && /^\d+$/.test(v) && Number(v) <= Number.MAX_SAFE_INTEGER) return Number(v);
  throw new UsageError(`--step must be a statement number, not ${JSON.stringify(v)}`, 'graph');
}

function formatFlag(v: unknown): GraphFormat {
  if (v === undefined) return 'dot';
  if ((GRAPH_FORMATS as readonly unknown[]).includes(v)) return v as GraphFormat;
  throw new UsageError(
    `--format must be one of ${GRAPH_FORMATS.join(', ')}, not ${JSON.stringify(v)}`,
    'graph',
  );
}

function nameFlag(v: unknown): string {
  if (v === undefined) return 'P';
  if (typeof v === 'string' && /^[A-Za-z][A-Za-z0-9_.-]*$/.test(v)) return v;
  throw new UsageError(
    `--name must be a scenario name ([A-Za-z][A-Za-z0-9_.-]*), not ${JSON.stringify(v)}`,
    'maps',
  );
}

async function dispatch(io: Io, command: string, rest: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: rest, options: OPTIONS[command], allowPositionals: true, strict: true });
  } catch (e) {
    // node:util reports unknown options and missing values with a message of its own.
    throw new UsageError((e as Error).message.replace(/\. To specify a positional.*$/s, ''), command);
  }
  const { values: v, positionals: p } = parsed;
  if (v.help) {
    io.stdout(`${HELP[command]}\n`);
    return 0;
  }
  switch (command) {
    case 'run': {
      const [file] = positionals(command, p, ['FILE']);
      return runCommand(io, file, {
        json: v.json === true,
        trace: v.trace === true,
        check: v.check === true,
        kernel: kernelFlag(command, v.kernel),
      });
    }
    case 'graph': {
      const [file] = positionals(command, p, ['FILE']);
      return graphCommand(io, file, {
        format: formatFlag(v.format),
        step: stepFlag(v.step),
        kernel: kernelFlag(command, v.kernel),
      });
    }
    case 'maps': {
      const [target] = positionals(command, p, ['PID or FILE']);
      return mapsCommand(io, target, { name: nameFlag(v.name) });
    }
    case 'verify': {
      const [file] = positionals(command, p, ['FILE']);
      const ko = v['kernel-options'] ?? 'scenario';
      if (ko !== 'auto' && ko !== 'scenario')
        throw new UsageError(`--kernel-options must be auto or scenario, not ${JSON.stringify(ko)}`, command);
      return verifyCommand(io, file, {
        kernelOptions: ko,
        strict: v.strict === true,
        json: v.json === true,
        ...(typeof v.tmpdir === 'string' ? { tmpdir: v.tmpdir } : {}),
      });
    }
    default: {
      positionals(command, p, []);
      return demoCommand(io, { kernel: kernelFlag(command, v.kernel) ?? '4.9', trace: v.trace === true });
    }
  }
}

/** Run `rmaplab ARGS`; the exit status. */
export async function main(args: string[], io: Io): Promise<number> {
  const c = colorsFor(io, 'stderr');
  try {
    const [first, ...rest] = args;
    if (first === undefined) {
      io.stderr(`${HELP['']}\n`);
      return 2;
    }
    if (first === '-h' || first === '--help' || first === 'help') {
      io.stdout(`${HELP[first === 'help' && rest[0] in OPTIONS ? rest[0] : '']}\n`);
      return 0;
    }
    if (first === '-V' || first === '--version') {
      io.stdout(`rmaplab ${version()}\n`);
      return 0;
    }
    if (!(first in OPTIONS)) throw new UsageError(`unknown command ${JSON.stringify(first)}`);
    return await dispatch(io, first, rest);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    const help = e.command ? `rmaplab ${e.command} --help` : 'rmaplab --help';
    io.stderr(`${c.red(`rmaplab${e.command ? ` ${e.command}` : ''}: error: ${e.message}`)} (see ${help})\n`);
    return 2;
  }
}
