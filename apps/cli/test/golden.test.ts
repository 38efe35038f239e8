/**
 * Every example in examples/ against its golden output: examples/golden/NAME.txt (human output of
 * `rmaplab run`) and NAME.jsonl (`--json`). Regenerate with UPDATE_GOLDEN=1 after checking the
 * difference is intended.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, rmaplab } from './helpers.js';

const EXAMPLES = join(ROOT, 'examples');
const GOLDEN = join(EXAMPLES, 'golden');
const names = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.rmap'))
  .map((f) => f.slice(0, -'.rmap'.length))
  .sort();

function compare(file: string, actual: string): void {
  const path = join(GOLDEN, file);
  if (process.env.UPDATE_GOLDEN) writeFileSync(path, actual);
  expect(existsSync(path), `${path} is missing: run with UPDATE_GOLDEN=1`).toBe(true);
  expect(actual).toBe(readFileSync(path, 'utf8'));
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
