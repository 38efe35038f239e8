/**
 * Line ends (LF, CR and CRLF each end a line), the name-length limit shared with the kernel-check
 * helper, and messages that stay readable when the offending text is huge.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_QUOTED, quote, ScenarioError } from '../src/errors.js';
import { MAX_NAME_LENGTH, sourceLines } from '../src/lexer.js';
import { parseScenario } from '../src/parser.js';

function errorOf(src: string): ScenarioError {
  try {
    parseScenario(src);
  } catch (e) {
    if (e instanceof ScenarioError) return e;
    throw e;
  }
  throw new Error(`no error for ${JSON.stringify(src)}`);
}

describe('sourceLines', () => {
  it('cuts at LF, CR and CRLF, like a split on the three line ends', () => {
    const text = fc.string({ unit: fc.constantFrom('a', ' ', '\n', '\r', '#', 'é', '\u2028') });
    fc.assert(
      fc.property(text, (t) => {
        expect([...sourceLines(t)]).toEqual(t.split(/\r\n|\r|\n/));
      }),
      { numRuns: 2000 },
    );
  });

  it('drops a leading byte-order mark only', () => {
    expect([...sourceLines('\uFEFFa\rb\uFEFF')]).toEqual(['a', 'b\uFEFF']);
  });

  it('an old Mac file (CR only) reads as lines, with the same steps, lines and columns as LF', () => {
    const lf = 'spawn A\nA: mmap heap 4 anon private\n\nA: write heap 0\nobserve\n';
    const strip = (sts: ReturnType<typeof parseScenario>) =>
      sts.map((s) => ({ op: s.op, step: s.step, span: s.span }));
    for (const end of ['\r', '\r\n']) {
      const sts = parseScenario(lf.replaceAll('\n', end));
      expect(strip(sts)).toEqual(strip(parseScenario(lf)));
    }
    expect(errorOf('spawn A\rA: read heap 9x\r')).toMatchObject({ line: 2, column: 14 });
    // LF then CR is two line ends: the CR ends an empty line.
    expect(errorOf('spawn A\n\rA: frob')).toMatchObject({ line: 3, column: 4 });
  });
});

describe('names', () => {
  const long = (n: number) => `N${'x'.repeat(n - 1)}`;
  const kinds: [string, (name: string) => string, number][] = [
    ['process (spawn)', (n) => `spawn ${n}`, 7],
    ['process (prefix)', (n) => `spawn A\n${n}: exit`, 1],
    ['child', (n) => `spawn A\nA: fork ${n}`, 9],
    ['region', (n) => `spawn A\nA: mmap ${n} 1 anon private`, 9],
    ['file', (n) => `spawn A\nA: mmap r 1 file:${n} private`, 18],
    ['value', (n) => `spawn A\nA: mmap r 1 anon private\nA: write r 0 ${n}`, 14],
  ];

  it.each(kinds)(
    `%s: ${MAX_NAME_LENGTH} characters are fine, one more is a located limit error`,
    (_, make, column) => {
      expect(() => parseScenario(make(long(MAX_NAME_LENGTH)))).not.toThrow();
      const e = errorOf(make(long(MAX_NAME_LENGTH + 1)));
      expect(e.kind).toBe('limit');
      expect(e.column).toBe(column);
      expect(e.endColumn).toBe(column + MAX_NAME_LENGTH + 1);
      expect(e.format()).toMatch(
        /64 characters is longer than a name may be \(expected a name of at most 63/,
      );
    },
  );

  it('is the kernel-check helper limit: MAXNAME bytes, NUL included, for every kind of name', () => {
    const c = readFileSync(new URL('../../verify/kernel-check/rmaplab-kcheck.c', import.meta.url), 'utf8');
    expect(Number(/#define MAXNAME (\d+)/.exec(c)?.[1])).toBe(MAX_NAME_LENGTH + 1);
    // valid_name() is what refuses a name, for processes, regions, children, files and values alike.
    expect(c).toMatch(/static int valid_name\(const char \*t\) \{[^}]*\n\s+return strlen\(t\) < MAXNAME;/);
  });
});

describe('messages about huge text', () => {
  it('quote cuts long text to a window that starts where it starts, ending in …', () => {
    expect(quote('abc')).toBe('"abc"');
    const q = quote(`${'y'.repeat(1 << 20)}`);
    expect(q).toBe(`"${'y'.repeat(MAX_QUOTED)}…"`);
    // Never half a surrogate pair.
    expect(quote(`${'a'.repeat(MAX_QUOTED - 1)}😀tail`)).toBe(`"${'a'.repeat(MAX_QUOTED - 1)}…"`);
  });

  it('a 1 MB offending line gives a one-line message of bounded length', () => {
    const big = 'z'.repeat(1 << 20);
    for (const src of [
      `spawn A ${big}`,
      `spawn A\nA: mmap heap 4 anon private ${big}`,
      `${big}`,
      `spawn 9${big}`,
    ]) {
      const m = errorOf(src).format('big.rmap');
      expect(m.length, m.slice(0, 300)).toBeLessThan(400);
      expect(m).not.toContain('\n');
      expect(m).toContain('zzz…"');
    }
  });
});
