/**
 * Hostile input at the edges: larger than the 64 MiB rmaplab reads (in bounded memory, stopped
 * at a located error), a FIFO without a writer and a terminal on standard input (say what is
 * awaited), CR-only line ends, megabyte-long lines.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_SCENARIO_BYTES, sourceLines } from '@rmaplab/scenario';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { positionOf } from '../src/io.js';
import { BIN, ROOT, rmaplab } from './helpers.js';

const SMALL = 'spawn A\nA: mmap heap 4 anon private\nA: write heap 0..1\nA: fork B\nobserve\n';
const LIMIT_MESSAGE = `error: the input is longer than 64 MiB, the most rmaplab reads (expected at most ${MAX_SCENARIO_BYTES} bytes)`;

const dir = mkdtempSync(join(tmpdir(), 'rmaplab-input-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('input larger than 64 MiB', () => {
  it('is an error at the line and column of the first byte past the limit, before anything runs', async () => {
    // 8-byte lines: the limit falls at the start of line 2^23 + 1.
    const stdin = Buffer.alloc(MAX_SCENARIO_BYTES + 8, '# seven\n');
    const r = await rmaplab(['run', '-'], { stdin });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`<stdin>:${2 ** 23 + 1}:1: ${LIMIT_MESSAGE}\n`);
    // Exactly the limit is fine.
    const at = await rmaplab(['run', '-', '--json'], { stdin: stdin.subarray(0, MAX_SCENARIO_BYTES) });
    expect(at).toEqual({ status: 0, stdout: '', stderr: '' });
  });

  it('positionOf counts lines and UTF-16 columns as the parser does', () => {
    const text = fc.string({ unit: fc.constantFrom('a', ' ', '\n', '\r', 'é', '€', '😀') });
    fc.assert(
      fc.property(text, fc.nat(), (t, cut) => {
        const chars = [...t];
        const prefix = chars.slice(0, cut % (chars.length + 1)).join('');
        // The parser's view of the same prefix: its last line and how many lines.
        const lines = [...sourceLines(`\uFEFF${prefix}`)];
        const at = positionOf(Buffer.from(`\uFEFF${t}`), Buffer.byteLength(`\uFEFF${prefix}`));
        // A prefix ending in CR may still become CRLF: the parser then sees one line end, not two.
        if (prefix.endsWith('\r') && t.slice(prefix.length).startsWith('\n')) return;
        expect(at).toEqual({ line: lines.length, column: lines[lines.length - 1].length + 1 });
      }),
      { numRuns: 2000 },
    );
  });

  /** Run the built binary under a 1.5 GB address-space limit; its status, stderr and peak RSS. */
  function bounded(args: string[], stdinFile?: string) {
    const rss = join(dir, `rss-${args[0]}-${stdinFile ? 'stdin' : 'file'}`);
    const preload = join(ROOT, 'apps/cli/test/fixtures/report-maxrss.mjs');
    const stdin = stdinFile ? openSync(stdinFile, 'r') : 'ignore';
    const r = spawnSync(
      'sh',
      ['-c', 'ulimit -v 1500000; exec "$@"', 'sh', process.execPath, '--import', preload, BIN, ...args],
      {
        stdio: [stdin, 'pipe', 'pipe'],
        encoding: 'utf8',
        env: { ...process.env, MAXRSS_FILE: rss },
        timeout: 60_000,
      },
    );
    if (typeof stdin === 'number') closeSync(stdin);
    return { status: r.status, stderr: r.stderr, maxRssMiB: Number(readFileSync(rss, 'utf8')) / 1024 };
  }

  it.each([
    ['run /dev/zero', ['run', '/dev/zero'], undefined, '/dev/zero'],
    ['graph /dev/zero', ['graph', '/dev/zero'], undefined, '/dev/zero'],
    ['verify /dev/zero', ['verify', '/dev/zero'], undefined, '/dev/zero'],
    ['maps /dev/zero', ['maps', '/dev/zero'], undefined, '/dev/zero'],
    ['run - < /dev/zero', ['run', '-'], '/dev/zero', '<stdin>'],
  ])('rmaplab %s stops in bounded memory', (_, args, stdinFile, name) => {
    const r = bounded(args, stdinFile);
    expect(r.stderr).toBe(`${name}:1:${MAX_SCENARIO_BYTES + 1}: ${LIMIT_MESSAGE}\n`);
    expect(r.status).toBe(1);
    // Node itself and rmaplab's modules are ~60 MiB; the input is read into one 64 MiB buffer.
    expect(r.maxRssMiB).toBeLessThan(320);
  });
});

describe('waiting for input', () => {
  it('a FIFO on a terminal: says it waits for a writer, then reads what the writer writes', async () => {
    const fifo = join(dir, 'scenario.fifo');
    const file = join(dir, 'scenario.rmap');
    execFileSync('mkfifo', [fifo]);
    writeFileSync(file, SMALL);
    // The writer opens the FIFO only later: `run` blocks in open() until then.
    const writer = spawn('sh', ['-c', 'sleep 0.3; cat "$0" > "$1"', file, fifo]);
    const r = await rmaplab(['run', fifo, '--json'], { tty: true });
    await new Promise((res) => writer.on('close', res));
    expect(r.stderr).toBe(`rmaplab: waiting for a writer on FIFO ${fifo}\n`);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).step).toBe(5);
  });

  it('standard input on a terminal: says it reads until end of file; never in a pipe', async () => {
    const tty = await rmaplab(['run', '-', '--json'], { stdin: SMALL, tty: true });
    expect(tty.stderr).toBe('rmaplab: reading standard input until end of file (Ctrl-D)\n');
    expect(tty.status).toBe(0);
    expect((await rmaplab(['run', '-', '--json'], { stdin: SMALL })).stderr).toBe('');
  });
});

describe('line ends and long lines', () => {
  it('a CR-only (old Mac) file runs as the same lines as with LF', async () => {
    const lf = await rmaplab(['run', '-'], { stdin: SMALL });
    const cr = await rmaplab(['run', '-'], { stdin: SMALL.replaceAll('\n', '\r') });
    expect(cr.stderr).toBe('');
    expect(cr.stdout).toBe(lf.stdout);
    const bad = await rmaplab(['run', '-'], { stdin: 'spawn A\rA: read heap 9x\r' });
    expect(bad.stderr).toMatch(/^<stdin>:2:14: error: bad page index/);
  });

  it('a 1 MB offending line gives one short error line', async () => {
    const r = await rmaplab(['run', '-'], { stdin: `spawn A\nA: exit ${'x'.repeat(1 << 20)}\n` });
    expect(r.status).toBe(1);
    expect(r.stderr.split('\n')).toHaveLength(2);
    expect(r.stderr.length).toBeLessThan(300);
    expect(r.stderr).toMatch(
      /^<stdin>:2:9: error: unexpected extra argument after "exit"; .*found "x{64}…"\)\n$/,
    );
  });
});
