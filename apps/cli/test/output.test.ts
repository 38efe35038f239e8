/**
 * Standard output that goes away: a reader that stops reading (`rmaplab run big.rmap | head -1`,
 * EPIPE) ends the run quietly with status 0; a full disk (ENOSPC, /dev/full) ends it with one
 * line on stderr and status 1. In-process, and with the built binary on a real pipe and /dev/full.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, rmaplab } from './helpers.js';

/** Many statements, each printing a table, and at the very end a statement the runner refuses. */
function bigScenario(observes: number): string {
  const lines = ['spawn A', 'A: mmap heap 64 anon private', 'A: write heap 0..63'];
  for (let i = 0; i < observes; i++) lines.push('observe');
  lines.push('A: write heap 99');
  return `${lines.join('\n')}\n`;
}

const dir = mkdtempSync(join(tmpdir(), 'rmaplab-output-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const BIG = join(dir, 'big.rmap');
writeFileSync(BIG, bigScenario(20_000));

describe('in-process', () => {
  it('EPIPE: the run stops at the failed write, nothing on stderr, status 0', async () => {
    const r = await rmaplab(['run', '-'], {
      stdin: bigScenario(2000),
      closeStdout: { after: 0, code: 'EPIPE' },
    });
    // Had the run gone on, it would have reached the bad last line: status 1 and an error.
    expect(r).toEqual({ status: 0, stdout: '', stderr: '' });
  });

  it('ENOSPC: one line on stderr, status 1; also for help and for other commands', async () => {
    const full = { closeStdout: { after: 0, code: 'ENOSPC' } };
    const line = 'rmaplab: stdout: no space left on device\n';
    expect(await rmaplab(['run', '-'], { stdin: bigScenario(2000), ...full })).toEqual({
      status: 1,
      stdout: '',
      stderr: line,
    });
    expect((await rmaplab(['--help'], full)).stderr).toBe(line);
    expect((await rmaplab(['demo'], full)).stderr).toBe(line);
    expect((await rmaplab(['graph', '-'], { stdin: 'spawn A\n', ...full })).stderr).toBe(line);
    expect((await rmaplab(['maps', String(process.pid)], full)).stderr).toBe(line);
  });
});

describe('the built binary', () => {
  it('rmaplab run big.rmap | head -1: ends quietly, status 0', async () => {
    const child = spawn(process.execPath, [BIN, 'run', BIG], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    // Read the first line, then close the pipe as head does.
    const first = await new Promise<string>((res) => {
      let got = '';
      child.stdout.setEncoding('utf8').on('data', (s: string) => {
        got += s;
        if (got.includes('\n')) {
          child.stdout.destroy();
          res(got.split('\n')[0]);
        }
      });
    });
    const status = await new Promise<number | null>((res) => child.on('close', (code) => res(code)));
    expect(first).toBe('[1] spawn A');
    expect(stderr).toBe('');
    expect(status).toBe(0);
  });

  it('rmaplab run big.rmap > /dev/full: one line on stderr, status 1', () => {
    const full = openSync('/dev/full', 'w');
    const r = spawnSync(process.execPath, [BIN, 'run', BIG], {
      stdio: ['ignore', full, 'pipe'],
      encoding: 'utf8',
    });
    closeSync(full);
    expect(r.stderr).toBe('rmaplab: stdout: no space left on device\n');
    expect(r.status).toBe(1);
  });

  it('reads standard input for -, and exits with the status main returned', () => {
    const run = (args: string[], input?: string) =>
      spawnSync(process.execPath, [BIN, ...args], {
        input,
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1' },
      });
    const ok = run(['run', '-', '--json'], 'spawn A\nA: mmap h 1 anon private\nobserve\nobserve\n');
    expect(ok.status).toBe(0);
    expect(ok.stdout.trimEnd().split('\n')).toHaveLength(2);
    const bad = run(['run', '-'], 'spawn A\nA: frob\n');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^<stdin>:2:4: error: unknown statement/);
    expect(run(['run']).status).toBe(2);
  });
});
