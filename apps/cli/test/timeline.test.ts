/** The timeline on the command line: `rmaplab rules`, and `--set KEY=VALUE` / `--kernel V` on run, graph and verify. */
import { parseRelease, RULES, rulesFor } from '@rmaplab/mm';
import { describe, expect, it } from 'vitest';
import { rmaplab } from './helpers.js';

const PAGEOUT = 'examples/10-pageout-no-swap.rmap'; // sets kernel 6.12 itself

describe('rmaplab rules', () => {
  it('lists every rule, oldest first, with its release, commit and change', async () => {
    const r = await rmaplab(['rules']);
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe(`${RULES.length} rules between Linux 4.9 and 6.18, oldest first`);
    let at = 0;
    for (const rule of RULES) {
      const line = `${rule.since.padEnd(5)} ${rule.id}  ${rule.commit ?? 'commit unknown'}`;
      const next = r.stdout.indexOf(line, at);
      expect(next, `${rule.id} in order`).toBeGreaterThan(at);
      at = next;
    }
  });

  it('--kernel marks the rules in force in that release', async () => {
    const r = await rmaplab(['rules', '--kernel', '5.10.4']);
    const inForce = rulesFor(parseRelease('5.10.4'));
    const count = RULES.filter((x) => inForce[x.id]).length;
    expect(count).toBeGreaterThan(0);
    expect(count).toBeLessThan(RULES.length);
    expect(r.stdout.split('\n')[0]).toBe(`Linux 5.10.4: ${count} of ${RULES.length} rules in force`);
    for (const rule of RULES)
      expect(r.stdout).toContain(
        `${inForce[rule.id] ? 'in force  ' : 'not yet   '}${rule.since.padEnd(5)} ${rule.id}`,
      );
  });

  it('--json prints one object a rule, with inForce under --kernel', async () => {
    const r = await rmaplab(['rules', '--json', '--kernel', '6.0']);
    const rows = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows.map((x) => x.id)).toEqual(RULES.map((x) => x.id));
    expect(rows.find((x) => x.id === 'anon-vma-reuse-counters').inForce).toBe(true);
    expect(rows.find((x) => x.id === 'ksm-checksum-first').inForce).toBe(false);
  });

  it('refuses a release the model cannot represent, and arguments', async () => {
    const bad = await rmaplab(['rules', '--kernel', '3.7']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--kernel: Linux 3\.7 is older than the model reaches/);
    expect((await rmaplab(['rules', 'x'])).status).toBe(2);
  });
});

describe('--set KEY=VALUE replaces the scenario’s own set lines', () => {
  it('runs a scenario under another release: 4.9 refuses the MADV_PAGEOUT the scenario’s 6.12 allows', async () => {
    expect((await rmaplab(['run', PAGEOUT])).status).toBe(0);
    const old = await rmaplab(['run', PAGEOUT, '--set', 'kernel=4.9']);
    expect(old.status).toBe(1);
    expect(old.stderr).toMatch(
      /^examples\/10-pageout-no-swap\.rmap:\d+:\d+: error: .*MADV_PAGEOUT does not exist in Linux 4\.9/,
    );
    expect(old.stdout).toMatch(/\[1\] set kernel 6\.12\n {4}ignored: an option on the command line/);
  });

  it('--kernel V is --set kernel=V, and a later --set of a key wins', async () => {
    const a = await rmaplab(['run', PAGEOUT, '--json', '--kernel', '6.18']);
    const b = await rmaplab(['run', PAGEOUT, '--json', '--set', 'kernel=4.9', '--set', 'kernel=6.18']);
    expect(a.status).toBe(0);
    expect(b.stdout).toBe(a.stdout);
  });

  it('changes what it names: swap from the command line', async () => {
    const own = await rmaplab(['run', PAGEOUT, '--json']);
    const swap = await rmaplab(['run', PAGEOUT, '--json', '--set', 'swap=unlimited']);
    expect(swap.status).toBe(0);
    expect(swap.stdout).not.toBe(own.stdout);
  });

  it('graph takes it too', async () => {
    const g = await rmaplab([
      'graph',
      'examples/15-anon-vma-reuse-6.12.rmap',
      '--format',
      'json',
      '--set',
      'kernel=4.9',
    ]);
    expect(g.status).toBe(0);
    expect(g.stdout).toContain('"degree"');
    expect(g.stdout).not.toContain('"num_children"');
  });

  it.each([
    [['--set', 'kernel'], '--set takes KEY=VALUE, not "kernel"'],
    [['--set', '=4.9'], '--set takes KEY=VALUE, not "=4.9"'],
    [['--set', 'swp=1'], '--set swp=1: unknown option; did you mean "swap"?'],
    [
      ['--set', 'kernel=4.21'],
      '--set kernel=4.21: there is no Linux 4.21; the nearest the model can represent: 4.20, 5.0',
    ],
    [['--set', 'swap=lots'], '--set swap=lots: bad swap size'],
    [['--set'], '--set needs a value'],
  ])('%j is a usage error', async (flags, message) => {
    const r = await rmaplab(['run', PAGEOUT, ...flags]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`rmaplab run: error: ${message}`);
    expect(r.stdout).toBe('');
  });
});
