/**
 * Every example in examples/ against its golden output: examples/golden/NAME.txt (human output of
 * `rmaplab run`) and NAME.jsonl (`--json`). Regenerate with UPDATE_GOLDEN=1 after checking the
 * difference is intended.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareGolden, ROOT, rmaplab, runRecord } from './helpers.js';

const EXAMPLES = join(ROOT, 'examples');
const GOLDEN = join(EXAMPLES, 'golden');
const names = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.rmap'))
  .map((f) => f.slice(0, -'.rmap'.length))
  .sort();

function compare(file: string, actual: string): void {
  compareGolden(join(GOLDEN, file), actual);
}

describe('examples', () => {
  it('there are at least 15, each with a leading comment that teaches', () => {
    expect(names.length).toBeGreaterThanOrEqual(15);
    for (const n of names) {
      const text = readFileSync(join(EXAMPLES, `${n}.rmap`), 'utf8');
      expect(text.split('\n').filter((l) => l.startsWith('#')).length, n).toBeGreaterThanOrEqual(3);
    }
  });

  it.each(names)('%s: human output and --json match the goldens, invariants hold', async (name) => {
    const file = `examples/${name}.rmap`;
    const human = await rmaplab(['run', file, '--check']);
    expect(human.stderr).toBe('');
    expect(human.status).toBe(0);
    compare(`${name}.txt`, human.stdout);
    const json = await rmaplab(['run', file, '--json']);
    expect(json.status).toBe(0);
    compare(`${name}.jsonl`, json.stdout);
    // --json is exactly one observation per `observe`, and the human output shows the same ones.
    const lines = json.stdout.split('\n').filter(Boolean);
    const observes = human.stdout.split('\n').filter((l) => /^\[\d+\] observe$/.test(l)).length;
    expect(lines.length).toBe(observes);
    for (const l of lines)
      expect(Object.keys(JSON.parse(l))).toEqual(expect.arrayContaining(['step', 'pages', 'absent']));
  });
});

/**
 * Every example under three points of the timeline, whatever release it names itself
 * (`--set kernel=R` replaces its `set kernel` line): examples/golden/releases/R/NAME.txt holds the
 * human output, then what went to stderr and the exit status (an example may use what a release
 * does not have yet, e.g. MADV_PAGEOUT under 4.9).
 */
const RELEASES = ['4.9', '6.12', '6.18'];

describe.each(RELEASES)('examples under Linux %s', (release) => {
  it.each(names)('%s', async (name) => {
    const r = await rmaplab(['run', `examples/${name}.rmap`, '--check', '--set', `kernel=${release}`]);
    compare(join('releases', release, `${name}.txt`), runRecord(r));
    expect(r.status === 0 || /^examples\/\S+:\d+:\d+: error: /.test(r.stderr), r.stderr).toBe(true);
  });
});
