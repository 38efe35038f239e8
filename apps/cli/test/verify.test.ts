/**
 * `rmaplab verify`: its usage, "could not check" (exit 3) for every setup error, and
 * `--random A..B` on this machine's kernel (skipped, with the reason printed, where it cannot be read).
 */
import { checkKernelAccess, ensureHelper } from '@rmaplab/verify';
import { describe, expect, it } from 'vitest';
import { rmaplab, steppingClock } from './helpers.js';

function unavailable(): string | null {
  try {
    checkKernelAccess(false);
    ensureHelper();
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

const reason = unavailable();
if (reason) console.log(`rmaplab verify on this kernel skipped: ${reason}`);

const SMALL = 'spawn A\nA: mmap heap 2 anon private\nA: write heap 0\nA: fork B\nobserve\n';

describe('rmaplab verify usage', () => {
  it.each([
    [['verify'], 'missing FILE (or --random A..B)'],
    [['verify', '--random', '5..3'], '--random 5..3: the first seed is after the last'],
    [['verify', '--random', '1-5'], '--random must be a seed range A..B of 0..4294967295, not "1-5"'],
    [
      ['verify', '--random', '1..4294967296'],
      '--random must be a seed range A..B of 0..4294967295, not "1..4294967296"',
    ],
    [
      ['verify', '--random', '1..2', 'x.rmap'],
      'unexpected argument "x.rmap": --random generates the scenarios',
    ],
    [['verify', 'x.rmap', '--ksm-every', '3'], '--ksm-every needs --random'],
    [
      ['verify', '--random', '1..2', '--ksm-every', 'often'],
      '--ksm-every must be a whole number, not "often"',
    ],
    [['verify', '--random'], '--random needs a value'],
    [['verify', '--randmo', '1..2'], 'unknown option "--randmo"; did you mean --random?'],
  ])('%j → status 2: %s', async (args, message) => {
    const r = await rmaplab(args);
    expect(r.stderr).toBe(`rmaplab verify: error: ${message} (see rmaplab verify --help)\n`);
    expect(r.status).toBe(2);
  });

  it('a --tmpdir that does not exist is "could not check", status 3, for a file and for --random', async () => {
    for (const args of [['-'], ['--random', '1..2']]) {
      const r = await rmaplab(['verify', ...args, '--tmpdir', '/nonexistent/dir'], { stdin: SMALL });
      expect(r.status).toBe(3);
      expect(r.stdout).toBe('');
      if (!reason)
        expect(r.stderr).toBe(
          'rmaplab verify: could not check: the temporary directory /nonexistent/dir does not exist\n',
        );
    }
  });
});

describe.skipIf(reason !== null)('rmaplab verify on this kernel', () => {
  it('a limit of the helper is "could not check", status 3, not "different"', async () => {
    const stdin = `${Array.from({ length: 129 }, (_, i) => `spawn P${i}`).join('\n')}\nobserve\n`;
    const r = await rmaplab(['verify', '-'], { stdin });
    expect(r.stderr).toBe(
      'rmaplab verify: could not check: line 129: a limit of the kernel-check helper: too many processes\n',
    );
    expect(r.status).toBe(3);
  });

  it('--random A..B: the settings, then one line "N of M seeds equal"; status 0', async () => {
    const r = await rmaplab(['verify', '--random', '1..4', '--kernel-options', 'auto']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^model options \(--kernel-options auto, Linux /);
    expect(r.stdout.trimEnd().split('\n').pop()).toBe('4 of 4 seeds equal');
  });

  it('--random --json: one JSON object with the seeds, the equal count and the differences', async () => {
    const r = await rmaplab(['verify', '--random', '3..4', '--json']);
    expect(r.status).toBe(0);
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(1);
    expect(JSON.parse(r.stdout)).toEqual({
      seeds: { first: 3, last: 4 },
      total: 2,
      equal: 2,
      differences: [],
      stopped: [],
      notChecked: [],
    });
  });

  it('a difference: the seed, the shrunk scenario and its report; status 1', async () => {
    // Seed 852 is a known difference (docs/verify.md, "Known differences" 1: mremap growing a
    // locked shared anonymous region); pick another differing seed if the model learns it.
    const r = await rmaplab(['verify', '--random', '852..852', '--ksm-every', '0']);
    expect(r.status).toBe(1);
    const out = r.stdout.split('\n');
    expect(out[0]).toMatch(/^seed 852: different \(shrunk from 30 statements\):$/);
    expect(out).toContain('    P2: mlock r0');
    expect(r.stdout).toMatch(/\n {2}observe step \d+ \(line \d+\): \d+ differences?\n/);
    expect(out.at(-2)).toBe('0 of 1 seeds equal (1 different)');
    const json = JSON.parse(
      (await rmaplab(['verify', '--random', '852..852', '--ksm-every', '0', '--json'])).stdout,
    );
    expect(json.equal).toBe(0);
    expect(json.differences.map((d: { seed: number }) => d.seed)).toEqual([852]);
    expect(json.differences[0].shrunk).toMatch(/^# random scenario, seed 852\n/);
  });

  it('a progress bar on a terminal, erased before results and at the end; never in a pipe', async () => {
    const env = { NO_COLOR: '1' };
    const tty = await rmaplab(['verify', '--random', '1..4'], { tty: true, env, now: steppingClock(600) });
    expect(tty.stderr).toContain('\r\x1b[Krmaplab: [');
    expect(tty.stderr).toMatch(/\] 4 of 4, 0 not equal/);
    expect(tty.stderr.endsWith('\r\x1b[K')).toBe(true);
    expect(tty.stdout).not.toContain('\r');
    const pipe = await rmaplab(['verify', '--random', '1..4'], { env, now: steppingClock(600) });
    expect(pipe.stderr).toBe('');
  });
});
