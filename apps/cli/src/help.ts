/**
 * The help of `rmaplab` and of each command. Every example line is run by the tests
 * (test/help.test.ts), from the repository root, so each names files that exist.
 */

import { GRAPH_PAGE_LIMIT } from './commands/graph.js';

export const COMMANDS = ['run', 'graph', 'maps', 'demo', 'verify', 'rules'] as const;
export type Command = (typeof COMMANDS)[number];

export const HELP: Record<'' | Command, string> = {
  '': `rmaplab — a simulator of the Linux kernel's reverse mapping (rmap)

Usage: rmaplab <command> [options]

Commands:
  run FILE      run a scenario: observations, rmap walks, their results as the release has them
  graph FILE    the rmap structures after a step, as dot, mermaid or json
  maps PID|FILE turn /proc/PID/maps into a scenario of mmap statements
  demo          kswapd unmaps a page shared by a parent and its forked children, step by step
  verify FILE   run a scenario in the model and on this machine's kernel, compare observations
  rules         the timeline: every behaviour that changed between releases, with its commit

Options:
  -h, --help     help (also of a command: rmaplab --help run, rmaplab run --help)
  -V, --version  the version

Examples:
  rmaplab demo
  rmaplab run examples/01-fork-cow.rmap
  rmaplab run examples/02-kswapd-reclaim.rmap --json
  rmaplab graph examples/01-fork-cow.rmap --step 5 --format dot | dot -Tsvg > fork.svg
  rmaplab maps $$ > shell.rmap
  rmaplab run examples/14-anon-vma-reuse-4.9.rmap --set kernel=6.18
  rmaplab rules --kernel 6.12

FILE may be a FIFO, or - for standard input; at most 64 MiB of it is read.
Exit status: 0 ok, 1 scenario error (FILE:LINE:COL on stderr) or standard output could not be
written (disk full), 2 usage error, 3 verify could not check. A closed standard output (| head)
ends the command quietly with status 0.
Colour only on a terminal or with FORCE_COLOR, never with a non-empty NO_COLOR or with --json.`,
  run: `Usage: rmaplab run FILE [--json] [--trace] [--check] [--set KEY=VALUE]... [--kernel V]

Run a scenario (FILE, or - for standard input). Each statement is printed with its step number,
followed by what it produced: an observation table for observe, the report of walk, unmap,
reclaim, referenced, migrate, mkclean and ksm.

Options:
  --json          only the observations, one JSON object a line on stdout (the contract's format)
  --trace         every kernel function the statements run, as "[task] fn: msg"
                  (on stderr with --json)
  --check         run the invariant checker after every statement
  --set KEY=VALUE option KEY as "set KEY VALUE" would set it, replacing the scenario's own
                  "set KEY" lines (repeatable: --set kernel=6.18 --set swap=0)
  --kernel V      the same as --set kernel=V: the release whose rules apply (4.9 to 6.18)

Examples:
  rmaplab run examples/01-fork-cow.rmap
  rmaplab run examples/02-kswapd-reclaim.rmap --trace
  rmaplab run - --json < examples/04-zero-page.rmap
  rmaplab run examples/02-kswapd-reclaim.rmap --set kernel=5.9`,
  graph: `Usage: rmaplab graph FILE [--step N] [--format dot|mermaid|json] [--set KEY=VALUE]... [--kernel V]

The state after step N (default: the last step) as a graph: processes, VMAs, anon_vma_chains,
anon_vmas (with root and parent), address spaces and their i_mmap trees, KSM stable nodes, pages.
The live processes' regions may span at most ${GRAPH_PAGE_LIMIT} pages in all; beyond that graph stops with a
limit error at the last step run (stop earlier with --step, or map a smaller region).

Options:
  --step N        stop after statement N (1-based, as in "rmaplab run")
  --format F      dot (default, Graphviz), mermaid, or json
  --set KEY=VALUE option KEY as "set KEY VALUE" would set it, replacing the scenario's own
                  "set KEY" lines (repeatable: --set kernel=6.18 --set swap=0)
  --kernel V      the same as --set kernel=V: the release whose rules apply (4.9 to 6.18)

Examples:
  rmaplab graph examples/01-fork-cow.rmap --step 5 | dot -Tsvg > fork.svg
  rmaplab graph examples/14-anon-vma-reuse-4.9.rmap --format mermaid`,
  maps: `Usage: rmaplab maps PID|FILE [--name P]

Read /proc/PID/maps (a process of this machine) or a saved maps FILE (- for standard input) and
print it as a scenario: a spawn line, then for each VMA the original line as a comment and an
mmap statement (anonymous, file-backed, [heap], [stack]; private or shared from the permissions),
with an mprotect when the VMA is not read/write. Kernel-installed mappings ([vdso], [vvar],
[vsyscall]) and regions larger than a scenario allows stay comments; every scenario it prints runs.
A line that is not a maps line is an error at its FILE:LINE:COL.

Options:
  --name P        the process name in the scenario (default P)

Examples:
  rmaplab maps $$ > shell.rmap && rmaplab run shell.rmap
  rmaplab maps /proc/self/maps --name rmaplab`,
  verify: `Usage: rmaplab verify FILE [--kernel-options auto|scenario] [--strict] [--json] [--tmpdir DIR] [--set KEY=VALUE]...
       rmaplab verify --random A..B [--ksm-every N] [--kernel-options auto|scenario] [--json] [--tmpdir DIR]

Run the kernel-executable statements of a scenario twice: in the model, and on this machine's
Linux kernel (real processes, real mmap; kernel-check/rmaplab-kcheck.c in @rmaplab/verify, built with cc on first
use). Each observe is compared page by page (pages are matched by the mappings that share them):
equal, or each difference named (which mapping, which mapcount, which flag). Simulator-only
statements (walk, unmap, reclaim, referenced, migrate, mkclean) are skipped on both sides and named.
Needs Linux and root (/proc/kpagecount); KSM scenarios need /sys/kernel/mm/ksm. See docs/verify.md.

With --random, the scenarios are the random generator's for seeds A to B; each difference is
printed with its seed and shrunk to the shortest scenario that still differs, and the run ends
with the line "N of M seeds equal". A progress bar shows on a terminal.

Options:
  --kernel-options auto      the model takes this kernel's settings (its release, zero page,
                             fault-around, swap, ksm max_page_sharing), printed, instead of the
                             scenario's "set" lines
  --kernel-options scenario  the model takes the scenario's own "set" lines (default)
  --strict                   refuse a scenario with simulator-only statements
  --json                     the whole report as one JSON object
  --tmpdir DIR               where the scenario's files are created (not tmpfs; default /var/tmp)
  --random A..B              verify the generator's scenarios of seeds A to B instead of FILE
  --ksm-every N              with --random: every seed that is a multiple of N uses KSM
                             (default 5; 0: none; each ksm statement waits for ksmd's scans)
  --set KEY=VALUE            a model option that wins over the scenario's "set" lines and over
                             --kernel-options auto (repeatable); --kernel V is --set kernel=V

Exit status: 0 every observation equal, 1 a difference or a scenario error, 2 usage error,
3 could not check: this machine's kernel cannot be read, or the comparison cannot be made on it
(a bad --tmpdir, a helper that cannot start, a limit of the helper), the reason on stderr.

Examples:
  sudo rmaplab verify examples/01-fork-cow.rmap --kernel-options auto
  sudo rmaplab verify --random 1..200 --kernel-options auto`,
  demo: `Usage: rmaplab demo [--kernel V] [--trace]

The story rmap exists for, narrated: a parent writes an anonymous page and forks children that
share it; kswapd's try_to_unmap() walks the anon_vma's interval tree and unmaps the page from every
process. Each rmap_walk_anon step is printed with the VMA, the address and the result.

Options:
  --kernel V      the release whose rules apply, 4.9 (default) to 6.18
  --trace         also every kernel function the demo runs

Examples:
  rmaplab demo
  rmaplab demo --kernel 6.12 --trace`,
  rules: `Usage: rmaplab rules [--kernel V] [--json]

The kernel as a timeline: every behaviour of the model that changed between Linux 4.9 and 6.18,
oldest first, each a named rule with the release that brought it, its commit and what changed.
Code in the model asks whether a rule is in force; "set kernel V" (or --set kernel=V) decides.

Options:
  --kernel V      mark which rules are in force in release V
  --json          one JSON object a rule (id, since, commit, title, change, area, evidence[, inForce])

Examples:
  rmaplab rules
  rmaplab rules --kernel 5.10
  rmaplab rules --json | head -3`,
};
