/**
 * What verify does when the comparison cannot be made (a VerifySetupError: neither equal nor
 * different), and that what the parser accepts the helper runs: names of the longest length,
 * any line ends. On this machine's kernel; skipped, with the reason printed, where it cannot be read.
 */
import { ScenarioError } from '@rmaplab/scenario';
import { describe, expect, it } from 'vitest';
import { checkKernelAccess, ensureHelper, VerifySetupError, verifyScenario } from '../src/index.js';

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
if (reason) console.log(`verify setup tests skipped: ${reason}`);

async function setupError(text: string, opts: Parameters<typeof verifyScenario>[1] = {}) {
  try {
    await verifyScenario(text, opts);
  } catch (e) {
    if (e instanceof VerifySetupError) return e;
    throw e;
  }
  throw new Error('verify made a comparison');
}

const SMALL = 'spawn A\nA: mmap heap 2 anon private\nA: write heap 0\nobserve\n';

describe.skipIf(reason !== null)('verify setup errors', () => {
  it('a temporary directory that does not exist, or is a file', async () => {
    const e = await setupError(SMALL, { tmpdir: '/nonexistent/rmaplab-tmp' });
    expect(e.reason).toBe('tmpdir');
    expect(e.message).toBe('the temporary directory /nonexistent/rmaplab-tmp does not exist');
    expect((await setupError(SMALL, { tmpdir: '/etc/hostname' })).message).toMatch(/is not a directory$/);
  });

  it('a helper that cannot start', async () => {
    const e = await setupError(SMALL, { helper: '/nonexistent/rmaplab-kcheck' });
    expect(e.reason).toBe('helper');
    expect(e.message).toMatch(/^the kernel-check helper failed: spawn \/nonexistent\/rmaplab-kcheck ENOENT/);
  });

  it.each([
    ['processes', Array.from({ length: 129 }, (_, i) => `spawn P${i}`).join('\n'), 129, 'too many processes'],
    ['region size', 'spawn A\nA: mmap r 16385 anon private', 2, 'region too large'],
  ])('a limit of the helper (%s), though the model has none', async (_, text, line, message) => {
    const e = await setupError(`${text}\nobserve\n`);
    expect(e.reason).toBe('limit');
    expect(e.message).toMatch(new RegExp(`^line ${line}: a limit of the kernel-check helper: ${message}`));
  });
});

describe.skipIf(reason !== null)('what the parser accepts, the helper runs', () => {
  it('names of the longest length the language allows, of every kind; one more is refused before running', async () => {
    const n = (c: string, len: number) => c + c.toLowerCase().repeat(len - 1);
    const text = (len: number) =>
      [
        `spawn ${n('P', len)}`,
        `${n('P', len)}: mmap ${n('R', len)} 2 file:${n('F', len)} private`,
        `${n('P', len)}: write ${n('R', len)} 0 ${n('V', len)}`,
        `${n('P', len)}: fork ${n('C', len)}`,
        'observe',
      ].join('\n');
    const r = await verifyScenario(text(63), { kernelOptions: 'auto' });
    expect(r.kernelError).toBeUndefined();
    expect(r.equal).toBe(true);
    await expect(verifyScenario(text(64))).rejects.toThrow(ScenarioError);
  });

  it.each([
    ['CR', '\r'],
    ['CRLF', '\r\n'],
  ])('%s line ends and a byte-order mark', async (_, end) => {
    const text = `\uFEFF${SMALL.replaceAll('\n', end)}A: fork B${end}B: write heap 1${end}observe${end}`;
    const r = await verifyScenario(text, { kernelOptions: 'auto' });
    expect(r.kernelError).toBeUndefined();
    expect(r.steps.map((s) => [s.step, s.line])).toEqual([
      [4, 4],
      [7, 7],
    ]);
    expect(r.equal).toBe(true);
  });
});
