import { describe, expect, it } from 'vitest';
import { version } from '../src/cli.js';
import { GRAPH_PAGE_LIMIT } from '../src/commands/graph.js';
import { rmaplab } from './helpers.js';

const SMALL = `spawn A
A: mmap heap 4 anon private
A: write heap 0..1
A: fork B
observe
B: write heap 0
observe
`;

const BROKEN = `${SMALL}B: write heap 9
observe
`;

describe('rmaplab run', () => {
  it('prints each statement with its step, then the observation table', async () => {
    const r = await rmaplab(['run', '-'], { stdin: SMALL });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('[1] spawn A');
    expect(lines).toContain('[5] observe');
    expect(lines).toContain('    observe (step 5): 2 pages mapped');
    expect(r.stdout).toMatch(/ 2 +anon,swapbacked +AV\d+ +A:heap:0 B:heap:0\n/);
  });

  it('--json prints exactly one observation a line on stdout and nothing else', async () => {
    const r = await rmaplab(['run', '-', '--json', '--trace'], { stdin: SMALL });
    expect(r.status).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.map((l) => JSON.parse(l).step)).toEqual([5, 7]);
    // With --json the trace goes to stderr.
    expect(r.stderr).toMatch(/^\[\d+:A\] do_anonymous_page: new page pfn \d+/m);
  });

  it('a scenario error: the observations so far stay printed, one line with the location on stderr, status 1', async () => {
    const r = await rmaplab(['run', '-', '--json'], { stdin: BROKEN });
    expect(r.status).toBe(1);
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(2);
    expect(r.stderr).toBe(
      '<stdin>:8:15: error: page 9 is outside region heap (4 pages) (expected pages 0..3)\n',
    );
  });

  it('names the file in errors as given', async () => {
    const r = await rmaplab(['run', 'apps/cli/test/fixtures/bad.rmap']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^apps\/cli\/test\/fixtures\/bad\.rmap:3:1: error: /);
    expect(r.stderr.split('\n')).toHaveLength(2);
  });

  it('--trace prints every event as [task] fn: msg under its statement', async () => {
    const r = await rmaplab(['run', '-', '--trace'], { stdin: SMALL });
    const afterFork = r.stdout.split('[4] A: fork B\n')[1].split('[5]')[0];
    expect(afterFork).toMatch(/^ {4}\[\d+:\w+\] anon_vma_fork: /m);
    expect(afterFork).toMatch(/^ {4}\[\d+:\w+\] copy_page_range: /m);
  });

  it('--kernel chooses the rule set the scenario starts with', async () => {
    // history.md §6: 4.9 lets D reuse B's anon_vma while B's VMA still uses it; 6.12 does not.
    const text = [
      'spawn P',
      'P: mmap heap 4 anon private',
      'P: write heap 0',
      'P: fork A',
      'A: fork B',
      'A: exit',
      'B: fork C',
      'C: fork D',
      'B: write heap 1',
      'D: write heap 2',
      'observe',
    ].join('\n');
    const anonVmas = async (args: string[]) => {
      const r = await rmaplab(['run', '-', '--json', ...args], { stdin: text });
      const pages: { mappings: string[]; anonVma: string }[] = JSON.parse(r.stdout).pages;
      const of = (where: string) => pages.find((p) => p.mappings.includes(where))!.anonVma;
      return [of('B:heap:1'), of('D:heap:2')];
    };
    const [b49, d49] = await anonVmas([]);
    expect(d49).toBe(b49);
    const [b612, d612] = await anonVmas(['--kernel', '6.12']);
    expect(d612).not.toBe(b612);
  });

  it('--check runs the invariant checker after every statement', async () => {
    const r = await rmaplab(['run', '-', '--check'], { stdin: SMALL });
    expect(r.status).toBe(0);
  });
});

describe('usage', () => {
  it.each([
    [['run'], 'rmaplab run: error: missing FILE (see rmaplab run --help)'],
    [['run', 'a', 'b'], 'rmaplab run: error: unexpected argument "b" (see rmaplab run --help)'],
    [
      ['run', '-', '--kernel', '4.21'],
      'rmaplab run: error: --kernel 4.21: there is no Linux 4.21; the nearest the model can represent: 4.20, 5.0 (see rmaplab run --help)',
    ],
    [
      ['run', '-', '--frobnicate'],
      'rmaplab run: error: unknown option "--frobnicate" (see rmaplab run --help)',
    ],
    [
      ['run', '-', '--jsn'],
      'rmaplab run: error: unknown option "--jsn"; did you mean --json? (see rmaplab run --help)',
    ],
    [
      ['run', '-', '-j'],
      'rmaplab run: error: unknown option "-j"; did you mean --json? (see rmaplab run --help)',
    ],
    [
      ['run', '-', '--Trace'],
      'rmaplab run: error: unknown option "--Trace"; did you mean --trace? (see rmaplab run --help)',
    ],
    [
      ['graph', '-', '--json'],
      'rmaplab graph: error: unknown option "--json" (it is an option of rmaplab run, rmaplab verify and rmaplab rules) (see rmaplab graph --help)',
    ],
    [['run', '-', '--kernel'], 'rmaplab run: error: --kernel needs a value (see rmaplab run --help)'],
    [['run', '-', '--json=yes'], 'rmaplab run: error: --json takes no value (see rmaplab run --help)'],
    [
      ['--jsno'],
      'rmaplab: error: unknown option "--jsno" (options of a command come after it) (see rmaplab --help)',
    ],
    [['--hepl'], 'rmaplab: error: unknown option "--hepl"; did you mean --help? (see rmaplab --help)'],
    [['rn', '-'], 'rmaplab: error: unknown command "rn"; did you mean run? (see rmaplab --help)'],
    [['verfy'], 'rmaplab: error: unknown command "verfy"; did you mean verify? (see rmaplab --help)'],
    [['help', 'grph'], 'rmaplab: error: unknown command "grph"; did you mean graph? (see rmaplab --help)'],
    [
      ['run', 'no/such/file.rmap'],
      'rmaplab run: error: cannot read no/such/file.rmap: no such file (see rmaplab run --help)',
    ],
    [
      ['graph', '-', '--format', 'png'],
      'rmaplab graph: error: --format must be one of dot, mermaid, json, not "png" (see rmaplab graph --help)',
    ],
    [
      ['graph', '-', '--step', 'x'],
      'rmaplab graph: error: --step must be a statement number, not "x" (see rmaplab graph --help)',
    ],
    [['maps'], 'rmaplab maps: error: missing PID or FILE (see rmaplab maps --help)'],
    [['demo', 'x'], 'rmaplab demo: error: unexpected argument "x" (see rmaplab demo --help)'],
    [['frob'], 'rmaplab: error: unknown command "frob" (see rmaplab --help)'],
  ])('%j → status 2 and one line: %s', async (args, message) => {
    const r = await rmaplab(args, { stdin: SMALL });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`${message}\n`);
  });

  it('no command: the overview on stderr, status 2', async () => {
    const r = await rmaplab([]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^rmaplab — /);
  });

  it.each(['run', 'graph', 'maps', 'demo'])('%s --help has usage and examples', async (cmd) => {
    const r = await rmaplab([cmd, '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Usage: rmaplab ${cmd}`));
    expect(r.stdout).toMatch(/\nExamples?:\n {2}rmaplab /);
  });

  it('--help and --version', async () => {
    expect((await rmaplab(['--help'])).stdout).toMatch(/Commands:\n {2}run FILE/);
    expect((await rmaplab(['help', 'graph'])).stdout).toMatch(/^Usage: rmaplab graph/);
    for (const args of [
      ['--help', 'run'],
      ['-h', 'run'],
      ['run', '--help'],
      ['run', '-', '--json', '-h'],
    ]) {
      const r = await rmaplab(args);
      expect(r.status, args.join(' ')).toBe(0);
      expect(r.stdout, args.join(' ')).toMatch(/^Usage: rmaplab run FILE/);
    }
    const v = await rmaplab(['--version']);
    expect(v.stdout).toBe(`rmaplab ${version()}\n`);
    expect(version()).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('colour', () => {
  const ESC = '\x1b[';
  const coloured = async (tty: boolean, env: Record<string, string> = {}) =>
    (await rmaplab(['run', '-'], { stdin: SMALL, tty, env })).stdout.includes(ESC);

  it('on a terminal only, and never with a non-empty NO_COLOR or --json', async () => {
    expect(await coloured(true)).toBe(true);
    expect(await coloured(false)).toBe(false);
    expect(await coloured(true, { NO_COLOR: '1' })).toBe(false);
    expect(await coloured(true, { TERM: 'dumb' })).toBe(false);
    // no-color.org: only a non-empty value disables colour.
    expect(await coloured(true, { NO_COLOR: '' })).toBe(true);
    const json = await rmaplab(['run', '-', '--json', '--trace'], { stdin: SMALL, tty: true });
    expect(json.stdout + json.stderr).not.toContain(ESC);
  });

  it('FORCE_COLOR forces it on (over NO_COLOR and TERM=dumb), 0 or false forces it off; --json stays plain', async () => {
    for (const v of ['', '1', '3', 'true']) {
      expect(await coloured(false, { FORCE_COLOR: v }), `FORCE_COLOR=${v}`).toBe(true);
      expect(await coloured(false, { FORCE_COLOR: v, NO_COLOR: '1', TERM: 'dumb' })).toBe(true);
    }
    for (const v of ['0', 'false']) expect(await coloured(true, { FORCE_COLOR: v })).toBe(false);
    const json = await rmaplab(['run', '-', '--json', '--trace'], {
      stdin: SMALL,
      env: { FORCE_COLOR: '1' },
    });
    expect(json.stdout + json.stderr).not.toContain(ESC);
    // Errors on stderr follow the same rule.
    expect((await rmaplab(['frob'], { env: { FORCE_COLOR: '1' } })).stderr).toContain(ESC);
  });
});

describe('rmaplab graph', () => {
  it('dot, mermaid and json of the state after a step', async () => {
    const dot = await rmaplab(['graph', '-', '--step', '4'], { stdin: SMALL });
    expect(dot.status).toBe(0);
    expect(dot.stdout).toMatch(/^digraph rmap \{/);
    expect(dot.stdout).toContain('[label="anon_vma_chain"]');
    const mermaid = await rmaplab(['graph', '-', '--format', 'mermaid'], { stdin: SMALL });
    expect(mermaid.stdout).toMatch(/^flowchart LR\n/);
    const json = JSON.parse(
      (await rmaplab(['graph', '-', '--format', 'json', '--step', '4'], { stdin: SMALL })).stdout,
    );
    expect(json.step).toBe(4);
    const kinds = new Set(json.nodes.map((n: { kind: string }) => n.kind));
    expect([...kinds].sort()).toEqual(['anon_vma', 'avc', 'page', 'process', 'vma']);
    // After the fork both pages are shared: each page node has two pte edges.
    const ptes = json.edges.filter((e: { kind: string }) => e.kind === 'pte');
    expect(ptes).toHaveLength(4);
  });

  it('step 0 is the empty state; a step past the end is a usage error', async () => {
    const empty = JSON.parse(
      (await rmaplab(['graph', '-', '--format', 'json', '--step', '0'], { stdin: SMALL })).stdout,
    );
    expect(empty.nodes).toEqual([]);
    const r = await rmaplab(['graph', '-', '--step', '99'], { stdin: SMALL });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      'rmaplab graph: error: --step 99: <stdin> has only 7 steps (see rmaplab graph --help)\n',
    );
  });

  it('a scenario error before the step is reported with its location', async () => {
    const r = await rmaplab(['graph', '-'], { stdin: BROKEN });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^<stdin>:8:15: error: /);
  });

  it('refuses a graph beyond GRAPH_PAGE_LIMIT pages with a located limit error, and draws one at it', async () => {
    const big = (pages: number) => `spawn A\nA: mmap h ${pages} anon private\nA: read h 0..3\n`;
    const over = await rmaplab(['graph', '-'], { stdin: big(GRAPH_PAGE_LIMIT + 1) });
    expect(over.status).toBe(1);
    expect(over.stdout).toBe('');
    expect(over.stderr).toMatch(/^<stdin>:3:1: error: graph: the mapped regions span more than 65536 pages/);
    expect(over.stderr).toContain('--step');
    const at = await rmaplab(['graph', '-'], { stdin: big(GRAPH_PAGE_LIMIT) });
    expect(at.status).toBe(0);
    const early = await rmaplab(['graph', '-', '--step', '1'], { stdin: big(GRAPH_PAGE_LIMIT + 1) });
    expect(early.status).toBe(0);
  });
});
