/**
 * The rmap statements' reports name the places their walk visited only when read. Whenever they
 * are read, the names are those of the statement's time: against a report read at once (what the
 * CLI does), for random scenarios that move and resize regions after their walks.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ScenarioError } from '../src/errors.js';
import { parseLine } from '../src/parser.js';
import { type OpReport, type RmapOp, runRmapStatement } from '../src/rmap-ops.js';
import { ScenarioRunner } from '../src/runner.js';

/**
 * A runner that has run `setup`, and a way to run one more line on it: its report, or undefined
 * when the line was refused (which changes nothing).
 */
function runner(...setup: string[]): {
  runner: ScenarioRunner;
  exec: (line: string) => OpReport | undefined;
} {
  const r = new ScenarioRunner({ check: true });
  let step = 0;
  const exec = (line: string) => {
    try {
      return r.exec(parseLine(line, ++step, step)!).report;
    } catch (e) {
      if (e instanceof ScenarioError) return undefined;
      throw e;
    }
  };
  for (const line of setup) exec(line);
  return { runner: r, exec };
}

/** What people see of a report's visits. */
const seen = (rep: OpReport) => rep.visits.map((v) => [v.where, v.vma, v.address, v.result]);

describe('rmap statement reports', () => {
  it('name the places of the statement time when read after a region moved and shrank', () => {
    const { exec } = runner('spawn A', 'A: mmap heap 4 anon private', 'A: write heap 3', 'A: fork B');
    const walk = exec('A: walk heap 3')!;
    exec('B: mremap heap move');
    exec('A: mremap heap 2');
    expect(walk.visits.map((v) => v.where)).toEqual(['A:heap:3', 'B:heap:3']);
  });

  it('name their visits on first read only, count them without naming them, and serialize with them', () => {
    const { runner: r } = runner(
      'spawn A',
      'A: mmap heap 1 anon private',
      'A: write heap 0',
      'A: fork B',
      'A: fork C',
    );
    const named: number[] = [];
    const a = r.procs.get('A')!;
    const st = parseLine('A: walk heap 0', 6, 6) as RmapOp;
    const rep = runRmapStatement(
      r.sys,
      st,
      a.mm,
      a.regions.get('heap')!.addr,
      (mm, address) => {
        named.push(mm);
        return r.where(mm, address);
      },
      (_, msg) => new Error(msg),
    );
    expect(rep.details[0]).toContain('3 VMAs visited');
    expect(named).toEqual([]);
    expect(rep.visits.map((v) => v.where)).toEqual(['A:heap:0', 'B:heap:0', 'C:heap:0']);
    expect(rep.visits).toBe(rep.visits);
    expect(named.length).toBe(3);
    const plain = JSON.parse(JSON.stringify(rep));
    expect(plain.visits).toEqual(rep.visits);
    expect(plain.raw.report.walk.visits.map((v: { process: string }) => v.process)).toEqual(['A', 'B', 'C']);
  });

  it('read late equal the same reports read at once, for random scenarios', () => {
    const proc = fc.constantFrom('A', 'B', 'C', 'D');
    const page = fc.nat(5);
    const line = fc.oneof(
      fc.tuple(proc, page).map(([p, n]) => `${p}: write heap ${n}`),
      fc.tuple(proc, proc).map(([p, c]) => `${p}: fork ${c}`),
      fc.tuple(proc, fc.integer({ min: 1, max: 8 })).map(([p, n]) => `${p}: mremap heap ${n}`),
      proc.map((p) => `${p}: mremap heap move`),
      fc
        .tuple(proc, fc.constantFrom('walk', 'referenced', 'migrate', 'unmap'), page)
        .map(([p, op, n]) => `${p}: ${op} heap ${n}${op === 'unmap' ? ' TTU_IGNORE_ACCESS' : ''}`),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 40 }), (lines) => {
        const setup = ['spawn A', 'A: mmap heap 4 anon private', 'A: write heap 0'];
        const atOnce = runner(...setup);
        const late = runner(...setup);
        const seenAtOnce: unknown[] = [];
        const reports: OpReport[] = [];
        for (const l of lines) {
          const a = atOnce.exec(l);
          if (a) seenAtOnce.push(seen(a));
          const b = late.exec(l);
          if (b) reports.push(b);
        }
        expect(reports.map(seen)).toEqual(seenAtOnce);
      }),
      { numRuns: 300 },
    );
  });
});
