import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { KERNEL_EXECUTABLE_OPS, MAX_REGION_PAGES, type Statement, TTU_FLAG_NAMES } from '../src/ast.js';
import { ScenarioError } from '../src/errors.js';
import { lexLine } from '../src/lexer.js';
import {
  editDistance,
  formatStatement,
  iterateScenario,
  oneOf,
  parseLine,
  parseScenario,
  STATEMENT_USAGE,
  suggest,
} from '../src/parser.js';
import { strip } from './helpers.js';

function parse1(src: string): Statement {
  const st = parseLine(src, 1, 1);
  if (st === null) throw new Error(`no statement in ${JSON.stringify(src)}`);
  return st;
}

/** The source text a span covers (single-line sources). */
function at(src: string, span: { column: number; endColumn: number }): string {
  return src.slice(span.column - 1, span.endColumn - 1);
}

const A = { proc: 'A' };
const AH = { proc: 'A', region: 'heap' };

const VALID: [string, Record<string, unknown>][] = [
  ['spawn A', { op: 'spawn', proc: 'A' }],
  ['spawn proc_1.x-y', { op: 'spawn', proc: 'proc_1.x-y' }],
  ['ksm', { op: 'ksm' }],
  ['observe', { op: 'observe' }],
  ['set kernel 4.9', { op: 'set', set: { key: 'kernel', value: '4.9' } }],
  ['set kernel 6.12', { op: 'set', set: { key: 'kernel', value: '6.12' } }],
  ['set zero-page on', { op: 'set', set: { key: 'zero-page', value: true } }],
  ['set zero-page off', { op: 'set', set: { key: 'zero-page', value: false } }],
  ['set fault-around 1', { op: 'set', set: { key: 'fault-around', value: 1 } }],
  ['set fault-around 512', { op: 'set', set: { key: 'fault-around', value: 512 } }],
  ['set swap 0', { op: 'set', set: { key: 'swap', value: 0 } }],
  ['set swap 1099511627776', { op: 'set', set: { key: 'swap', value: 2 ** 40 } }],
  ['set swap unlimited', { op: 'set', set: { key: 'swap', value: 'unlimited' } }],
  ['set ksm-max-sharing 2', { op: 'set', set: { key: 'ksm-max-sharing', value: 2 } }],
  ['set ksm-max-sharing 2147483647', { op: 'set', set: { key: 'ksm-max-sharing', value: 2 ** 31 - 1 } }],
  ['set readahead 0', { op: 'set', set: { key: 'readahead', value: 0 } }],
  ['set readahead 16777216', { op: 'set', set: { key: 'readahead', value: 2 ** 24 } }],
  ['A: mmap heap 4 anon private', { ...AH, op: 'mmap', pages: 4, backing: { type: 'anon' }, shared: false }],
  ['A: mmap heap 1 anon shared', { ...AH, op: 'mmap', pages: 1, backing: { type: 'anon' }, shared: true }],
  [
    'A: mmap heap 16777216 file:libc.so-6 private',
    {
      ...AH,
      op: 'mmap',
      pages: MAX_REGION_PAGES,
      backing: { type: 'file', file: 'libc.so-6' },
      shared: false,
    },
  ],
  [
    'A: mmap heap 3 file:data shared',
    { ...AH, op: 'mmap', pages: 3, backing: { type: 'file', file: 'data' }, shared: true },
  ],
  ['A: read heap 0', { ...AH, op: 'read', first: 0, last: 0 }],
  ['A: read heap 16777215', { ...AH, op: 'read', first: MAX_REGION_PAGES - 1, last: MAX_REGION_PAGES - 1 }],
  ['A: read heap 2..5', { ...AH, op: 'read', first: 2, last: 5 }],
  ['A: read heap 3..3', { ...AH, op: 'read', first: 3, last: 3 }],
  ['A: write heap 1', { ...AH, op: 'write', first: 1, last: 1 }],
  ['A: write heap 1 X', { ...AH, op: 'write', first: 1, last: 1, value: 'X' }],
  ['A: write heap 0..7 zeros', { ...AH, op: 'write', first: 0, last: 7, value: 'zeros' }],
  ['A: fork B', { ...A, op: 'fork', child: 'B' }],
  ['A: exit', { ...A, op: 'exit' }],
  ['A: munmap heap', { ...AH, op: 'munmap' }],
  ['A: munmap heap 2 3', { ...AH, op: 'munmap', range: { page: 2, count: 3 } }],
  ['A: mprotect heap 0 1 none', { ...AH, op: 'mprotect', page: 0, count: 1, prot: 'none' }],
  ['A: mprotect heap 1 2 r', { ...AH, op: 'mprotect', page: 1, count: 2, prot: 'r' }],
  ['A: mprotect heap 1 2 rw', { ...AH, op: 'mprotect', page: 1, count: 2, prot: 'rw' }],
  ['A: mremap heap 8', { ...AH, op: 'mremap', pages: 8 }],
  ['A: mremap heap move', { ...AH, op: 'mremap-move' }],
  ['A: mlock heap', { ...AH, op: 'mlock' }],
  ['A: munlock heap', { ...AH, op: 'munlock' }],
  ['A: madvise heap mergeable', { ...AH, op: 'madvise', advice: 'mergeable' }],
  ['A: madvise heap unmergeable', { ...AH, op: 'madvise', advice: 'unmergeable' }],
  ['A: madvise heap dontneed', { ...AH, op: 'madvise', advice: 'dontneed' }],
  ['A: madvise heap pageout', { ...AH, op: 'madvise', advice: 'pageout' }],
  ['A: madvise heap cold', { ...AH, op: 'madvise', advice: 'cold' }],
  ['A: madvise heap hugepage', { ...AH, op: 'madvise', advice: 'hugepage' }],
  ['A: madvise heap nohugepage', { ...AH, op: 'madvise', advice: 'nohugepage' }],
  ['A: walk heap 0', { ...AH, op: 'walk', page: 0 }],
  ['A: reclaim heap 1', { ...AH, op: 'reclaim', page: 1 }],
  ['A: referenced heap 2', { ...AH, op: 'referenced', page: 2 }],
  ['A: migrate heap 3', { ...AH, op: 'migrate', page: 3 }],
  ['A: mkclean heap 4', { ...AH, op: 'mkclean', page: 4 }],
  ['A: unmap heap 0', { ...AH, op: 'unmap', page: 0, flags: [] }],
  [
    'A: unmap heap 5 TTU_MIGRATION TTU_IGNORE_MLOCK',
    { ...AH, op: 'unmap', page: 5, flags: ['TTU_MIGRATION', 'TTU_IGNORE_MLOCK'] },
  ],
  [
    `A: unmap heap 1 ${TTU_FLAG_NAMES.join(' ')}`,
    { ...AH, op: 'unmap', page: 1, flags: [...TTU_FLAG_NAMES] },
  ],
  // Spacing, comments, names that look like keywords.
  [
    '  \tA:\tmmap   heap 4 anon private  ',
    { ...AH, op: 'mmap', pages: 4, backing: { type: 'anon' }, shared: false },
  ],
  ['A: read heap 0 # first touch', { ...AH, op: 'read', first: 0, last: 0 }],
  ['A: read heap 0#no space needed', { ...AH, op: 'read', first: 0, last: 0 }],
  ['ksm\r', { op: 'ksm' }],
  ['spawn set', { op: 'spawn', proc: 'set' }],
  [
    'set: mmap move 1 anon private',
    { proc: 'set', region: 'move', op: 'mmap', pages: 1, backing: { type: 'anon' }, shared: false },
  ],
  ['A: mremap move move', { proc: 'A', region: 'move', op: 'mremap-move' }],
  ['A: write heap 0 a..b', { ...AH, op: 'write', first: 0, last: 0, value: 'a..b' }],
];

describe('parseLine: every statement form', () => {
  it.each(VALID)('%s', (src, expected) => {
    const st = parse1(src);
    expect(strip(st)).toEqual(expected);
    expect(st.step).toBe(1);
    expect(st.text).toBe(src.trim());
  });

  it('covers every op', () => {
    const ops = new Set(VALID.map(([src]) => parse1(src).op));
    for (const op of [...Object.keys(STATEMENT_USAGE), 'mremap-move'])
      expect(ops.has(op as Statement['op'])).toBe(true);
  });

  it('the canonical lines print back unchanged', () => {
    for (const [src] of VALID) {
      const st = parse1(src);
      const printed = formatStatement(st);
      expect(strip(parse1(printed))).toEqual(strip(st));
      if (src === src.trim().replace(/\s*#.*$/, '') && !src.includes('3..3')) expect(printed).toBe(src);
    }
  });

  it('returns null for blank and comment lines', () => {
    for (const src of ['', '   ', '\t', '# comment', '   # indented comment', '#', '\r']) {
      expect(parseLine(src, 7, 3)).toBeNull();
    }
  });
});

describe('spans', () => {
  it('mmap with a file', () => {
    const src = '  B1: mmap lib 12 file:libc shared # c';
    const st = parse1(src);
    if (st.op !== 'mmap') throw new Error(st.op);
    expect(st.span).toEqual({ line: 1, column: 3, endColumn: 35 });
    expect(at(src, st.span)).toBe('B1: mmap lib 12 file:libc shared');
    expect(st.procSpan).toEqual({ line: 1, column: 3, endColumn: 5 });
    expect(at(src, st.regionSpan)).toBe('lib');
    expect(at(src, st.pagesSpan)).toBe('12');
    expect(st.fileSpan).toEqual({ line: 1, column: 24, endColumn: 28 });
    expect(at(src, st.fileSpan!)).toBe('libc');
    expect(st.text).toBe('B1: mmap lib 12 file:libc shared # c');
  });

  it('anon mmap has no fileSpan', () => {
    expect('fileSpan' in parse1('A: mmap h 1 anon private')).toBe(false);
  });

  it('write range with a value', () => {
    const src = 'A:\twrite heap 2..10 V';
    const st = parseLine(src, 9, 4)!;
    if (st.op !== 'write') throw new Error(st.op);
    expect(st.step).toBe(4);
    expect(st.pageSpan).toEqual({ line: 9, column: 15, endColumn: 20 });
    expect(at(src, st.pageSpan)).toBe('2..10');
    expect(at(src, st.valueSpan!)).toBe('V');
    expect('valueSpan' in parse1('A: write heap 1')).toBe(false);
  });

  it('set, munmap, mprotect, madvise, unmap', () => {
    let src = 'set fault-around 64';
    const s = parse1(src);
    if (s.op !== 'set') throw new Error(s.op);
    expect([at(src, s.keySpan), at(src, s.valueSpan)]).toEqual(['fault-around', '64']);

    src = 'P: munmap r 3 4';
    const m = parse1(src);
    if (m.op !== 'munmap') throw new Error(m.op);
    expect([at(src, m.range!.pageSpan), at(src, m.range!.countSpan)]).toEqual(['3', '4']);

    src = 'P: mprotect r 30 40 rw';
    const p = parse1(src);
    if (p.op !== 'mprotect') throw new Error(p.op);
    expect([at(src, p.pageSpan), at(src, p.countSpan), at(src, p.protSpan)]).toEqual(['30', '40', 'rw']);

    src = 'P: madvise r cold';
    const a = parse1(src);
    if (a.op !== 'madvise') throw new Error(a.op);
    expect(at(src, a.adviceSpan)).toBe('cold');

    src = 'P: unmap r 7 TTU_UNMAP  TTU_RMAP_LOCKED';
    const u = parse1(src);
    if (u.op !== 'unmap') throw new Error(u.op);
    expect(at(src, u.pageSpan)).toBe('7');
    expect(u.flagSpans.map((sp) => at(src, sp))).toEqual(['TTU_UNMAP', 'TTU_RMAP_LOCKED']);
  });

  it('fork, spawn, mremap', () => {
    let src = 'parent: fork kid';
    const f = parse1(src);
    if (f.op !== 'fork') throw new Error(f.op);
    expect([at(src, f.procSpan), at(src, f.childSpan)]).toEqual(['parent', 'kid']);
    src = 'spawn zed';
    const s = parse1(src);
    if (s.op !== 'spawn') throw new Error(s.op);
    expect(at(src, s.procSpan)).toBe('zed');
    src = 'Q: mremap r 99';
    const r = parse1(src);
    if (r.op !== 'mremap') throw new Error(r.op);
    expect(at(src, r.pagesSpan)).toBe('99');
  });
});

describe('parseScenario', () => {
  const text = [
    '# a scenario',
    'spawn A',
    '',
    'A: mmap heap 4 anon private',
    '   # indented comment',
    'A: write heap 0..3',
    'set zero-page off',
    'A: fork B',
    'observe',
  ].join('\n');

  it('numbers lines and steps', () => {
    const sts = parseScenario(text);
    expect(sts.map((s) => s.op)).toEqual(['spawn', 'mmap', 'write', 'set', 'fork', 'observe']);
    expect(sts.map((s) => s.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(sts.map((s) => s.span.line)).toEqual([2, 4, 6, 7, 8, 9]);
  });

  it('accepts CRLF and a byte-order mark', () => {
    const sts = parseScenario(`\uFEFF${text.replaceAll('\n', '\r\n')}\r\n`);
    expect(sts.map((s) => s.op)).toEqual(['spawn', 'mmap', 'write', 'set', 'fork', 'observe']);
    expect(sts[0].text).toBe('spawn A');
    expect(sts[0].span).toEqual({ line: 2, column: 1, endColumn: 8 });
  });

  it('reports the first bad line', () => {
    const bad = `${text}\nA: frobnicate\nalso bad`;
    try {
      parseScenario(bad);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ScenarioError);
      const err = e as ScenarioError;
      expect([err.line, err.column, err.endColumn, err.kind]).toEqual([10, 4, 14, 'syntax']);
      expect(err.format('x.rmap')).toMatch(/^x\.rmap:10:4: error: unknown statement/);
    }
  });

  it('streams: statements before a bad line come out first', () => {
    const got: string[] = [];
    const it = iterateScenario('spawn A\n# c\nA: exit\nA exit\nobserve');
    expect(() => {
      for (const st of it) got.push(st.op);
    }).toThrow(ScenarioError);
    expect(got).toEqual(['spawn', 'exit']);
  });

  it('empty input', () => {
    expect(parseScenario('')).toEqual([]);
    expect(parseScenario('\n\n# only comments\n')).toEqual([]);
  });
});

describe('ScenarioError', () => {
  it('formats one line without a stack', () => {
    const e = new ScenarioError({
      line: 3,
      column: 5,
      message: 'boom',
      expected: 'X',
      found: 'Y"z',
      kind: 'kernel',
    });
    expect(e.format('f.rmap')).toBe('f.rmap:3:5: error: boom (expected X, found "Y\\"z")');
    expect(e.format()).toBe('3:5: error: boom (expected X, found "Y\\"z")');
    expect(e.endColumn).toBe(6);
    expect(e.name).toBe('ScenarioError');
    expect(e.message).toBe('boom');
    expect(e).toBeInstanceOf(Error);
  });

  it('leaves out what it does not know; empty found is end of line', () => {
    expect(new ScenarioError({ line: 1, column: 1, message: 'm', kind: 'semantic' }).format()).toBe(
      '1:1: error: m',
    );
    expect(
      new ScenarioError({ line: 1, column: 1, message: 'm', expected: 'e', kind: 'limit' }).format(),
    ).toBe('1:1: error: m (expected e)');
    expect(
      new ScenarioError({
        line: 1,
        column: 2,
        endColumn: 9,
        message: 'm',
        found: '',
        kind: 'syntax',
      }).format(),
    ).toBe('1:2: error: m (found end of line)');
  });
});

describe('helpers', () => {
  it('lexLine', () => {
    expect(lexLine(' a\tbc  d#e f')).toEqual([
      { text: 'a', start: 1, end: 2 },
      { text: 'bc', start: 3, end: 5 },
      { text: 'd', start: 7, end: 8 },
    ]);
  });

  it('editDistance', () => {
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('mmpa', 'mmap')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });

  it('suggest', () => {
    expect(suggest('privat', ['private', 'shared'])).toBe('private');
    expect(suggest('MMAP', ['mmap', 'read'])).toBe('mmap');
    expect(suggest('ref', ['referenced', 'read', 'reclaim'])).toBe('referenced');
    expect(suggest('anonymous', ['anon', 'file'])).toBe('anon');
    expect(suggest('frobnicate', ['mmap', 'read', 'fork'])).toBeUndefined();
  });

  it('oneOf', () => {
    expect(oneOf(['a'])).toBe('a');
    expect(oneOf(['a', 'b'])).toBe('a or b');
    expect(oneOf(['a', 'b', 'c'])).toBe('one of a, b or c');
  });

  it('KERNEL_EXECUTABLE_OPS holds the ops of the examples in the first table of docs/language.md, and none of the second', () => {
    const doc = readFileSync(new URL('../docs/language.md', import.meta.url), 'utf8');
    /** The ops of the example column of the table under a heading (a cell may hold an escaped `\|`). */
    const opsUnder = (heading: string): Set<Statement['op']> => {
      const section = doc.slice(doc.indexOf(heading)).split('\n## ')[0];
      const examples = [...section.matchAll(/^\|(?:[^|\\]|\\.)+\|\s*`([^`]+)`\s*\|/gm)].map((m) => m[1]);
      return new Set(examples.map((e) => parse1(e).op));
    };
    const kernel = opsUnder('## Statements that a real kernel executes too');
    const simulator = opsUnder('## Statements only a simulator offers');
    expect(simulator.size).toBeGreaterThan(0);
    expect([...KERNEL_EXECUTABLE_OPS].sort()).toEqual([...kernel].sort());
    for (const op of simulator) expect(KERNEL_EXECUTABLE_OPS.has(op)).toBe(false);
  });
});
