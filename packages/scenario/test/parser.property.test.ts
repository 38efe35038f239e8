import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Advice,
  MAX_FAULT_AROUND,
  MAX_KSM_MAX_SHARING,
  MAX_READAHEAD,
  MAX_REGION_PAGES,
  MAX_SWAP_PAGES,
  type Prot,
  type SetValue,
  type Span,
  type Statement,
  TTU_FLAG_NAMES,
} from '../src/ast.js';
import { ScenarioError } from '../src/errors.js';
import {
  formatStatement,
  GLOBAL_STATEMENTS,
  PROCESS_STATEMENTS,
  parseLine,
  type StatementData,
} from '../src/parser.js';
import { strip } from './helpers.js';

// --- generators of valid statements ------------------------------------------------------------

const name = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_.-]{0,10}$/);
const pageIndex = fc.oneof(fc.nat(64), fc.integer({ min: 0, max: MAX_REGION_PAGES - 1 }));
const pageCount = fc.oneof(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: MAX_REGION_PAGES }));

const setValue: fc.Arbitrary<SetValue> = fc.oneof(
  fc.constantFrom('4.9' as const, '6.12' as const).map((value) => ({ key: 'kernel' as const, value })),
  fc.boolean().map((value) => ({ key: 'zero-page' as const, value })),
  fc.integer({ min: 1, max: MAX_FAULT_AROUND }).map((value) => ({ key: 'fault-around' as const, value })),
  fc
    .oneof(fc.constant('unlimited' as const), fc.integer({ min: 0, max: MAX_SWAP_PAGES }))
    .map((value) => ({ key: 'swap' as const, value })),
  fc
    .integer({ min: 2, max: MAX_KSM_MAX_SHARING })
    .map((value) => ({ key: 'ksm-max-sharing' as const, value })),
  fc.integer({ min: 0, max: MAX_READAHEAD }).map((value) => ({ key: 'readahead' as const, value })),
);

const statement: fc.Arbitrary<StatementData> = fc.oneof(
  setValue.map((set) => ({ op: 'set' as const, set })),
  name.map((proc) => ({ op: 'spawn' as const, proc })),
  fc.constantFrom({ op: 'ksm' as const }, { op: 'observe' as const }),
  fc
    .record({
      proc: name,
      region: name,
      pages: pageCount,
      backing: fc.oneof(
        fc.constant({ type: 'anon' as const }),
        name.map((file) => ({ type: 'file' as const, file })),
      ),
      shared: fc.boolean(),
    })
    .map((r) => ({ op: 'mmap' as const, ...r })),
  fc
    .record({
      op: fc.constantFrom('read' as const, 'write' as const),
      proc: name,
      region: name,
      a: pageIndex,
      b: pageIndex,
      value: fc.option(name, { nil: undefined }),
    })
    .map(({ op, proc, region, a, b, value }) => ({
      op,
      proc,
      region,
      first: Math.min(a, b),
      last: Math.max(a, b),
      ...(op === 'write' && value !== undefined ? { value } : {}),
    })),
  fc.record({ proc: name, child: name }).map((r) => ({ op: 'fork' as const, ...r })),
  name.map((proc) => ({ op: 'exit' as const, proc })),
  fc
    .record({
      proc: name,
      region: name,
      range: fc.option(fc.record({ page: pageIndex, count: pageCount }), { nil: undefined }),
    })
    .map(({ proc, region, range }) => ({ op: 'munmap' as const, proc, region, ...(range ? { range } : {}) })),
  fc
    .record({
      proc: name,
      region: name,
      page: pageIndex,
      count: pageCount,
      prot: fc.constantFrom<Prot>('none', 'r', 'rw'),
    })
    .map((r) => ({ op: 'mprotect' as const, ...r })),
  fc.record({ proc: name, region: name, pages: pageCount }).map((r) => ({ op: 'mremap' as const, ...r })),
  fc.record({
    op: fc.constantFrom('mremap-move' as const, 'mlock' as const, 'munlock' as const),
    proc: name,
    region: name,
  }),
  fc
    .record({
      proc: name,
      region: name,
      advice: fc.constantFrom<Advice>('mergeable', 'unmergeable', 'dontneed', 'pageout', 'cold'),
    })
    .map((r) => ({ op: 'madvise' as const, ...r })),
  fc.record({
    op: fc.constantFrom(
      'walk' as const,
      'reclaim' as const,
      'referenced' as const,
      'migrate' as const,
      'mkclean' as const,
    ),
    proc: name,
    region: name,
    page: pageIndex,
  }),
  fc
    .record({
      proc: name,
      region: name,
      page: pageIndex,
      flags: fc
        .subarray([...TTU_FLAG_NAMES])
        .chain((fs) => fc.shuffledSubarray(fs, { minLength: fs.length })),
    })
    .map((r) => ({ op: 'unmap' as const, ...r })),
);

/** Re-space a canonical line: any run of spaces and tabs between words, around it, and maybe a comment. */
const respaced = (line: string) =>
  fc
    .record({
      seps: fc.array(fc.stringMatching(/^[ \t]{1,3}$/), {
        minLength: line.split(' ').length + 1,
        maxLength: line.split(' ').length + 1,
      }),
      lead: fc.stringMatching(/^[ \t]{0,3}$/),
      comment: fc.option(
        fc.string({ maxLength: 12 }).map((s) => `#${s.replace(/[\n]/g, ' ')}`),
        { nil: '' },
      ),
    })
    .map(({ seps, lead, comment }) => {
      const words = line.split(' ');
      return (
        lead + words.map((w, i) => (i === 0 ? w : seps[i] + w)).join('') + (comment ? seps[0] + comment : '')
      );
    });

/** [span, the text it must cover] for every span of a statement. */
function spanTexts(st: Statement): [Span, string][] {
  const out: [Span, string][] = [];
  const s = st as unknown as Record<string, unknown>;
  if ('procSpan' in st) out.push([st.procSpan, st.proc]);
  if ('regionSpan' in st) out.push([st.regionSpan, st.region]);
  switch (st.op) {
    case 'set':
      out.push([st.keySpan, st.set.key]);
      out.push([st.valueSpan, formatStatement(st).split(' ')[2]]);
      break;
    case 'mmap':
      out.push([st.pagesSpan, String(st.pages)]);
      if (st.backing.type === 'file') out.push([st.fileSpan!, st.backing.file]);
      break;
    case 'read':
    case 'write':
      out.push([st.pageSpan, st.first === st.last ? `${st.first}` : `${st.first}..${st.last}`]);
      if (st.op === 'write' && st.value !== undefined) out.push([st.valueSpan!, st.value]);
      break;
    case 'fork':
      out.push([st.childSpan, st.child]);
      break;
    case 'munmap':
      if (st.range)
        out.push([st.range.pageSpan, `${st.range.page}`], [st.range.countSpan, `${st.range.count}`]);
      break;
    case 'mprotect':
      out.push([st.pageSpan, `${st.page}`], [st.countSpan, `${st.count}`], [st.protSpan, st.prot]);
      break;
    case 'mremap':
      out.push([st.pagesSpan, `${st.pages}`]);
      break;
    case 'madvise':
      out.push([st.adviceSpan, st.advice]);
      break;
    case 'unmap':
      out.push([st.pageSpan, `${st.page}`]);
      for (const [i, f] of st.flags.entries()) out.push([st.flagSpans[i], f]);
      break;
    case 'walk':
    case 'reclaim':
    case 'referenced':
    case 'migrate':
    case 'mkclean':
      out.push([st.pageSpan, `${st.page}`]);
      break;
  }
  expect(Object.keys(s).filter((k) => k.endsWith('Span')).length).toBeLessThanOrEqual(out.length);
  return out;
}

describe('round trip: format then parse', () => {
  it('canonical lines', () => {
    fc.assert(
      fc.property(statement, (data) => {
        const line = formatStatement(data);
        const st = parseLine(line, 1, 1)!;
        expect(strip(st)).toEqual(data);
        expect(st.text).toBe(line);
        expect(st.span).toEqual({ line: 1, column: 1, endColumn: line.length + 1 });
        expect(formatStatement(st)).toBe(line);
      }),
      { numRuns: 1000 },
    );
  });

  it('any spacing and a trailing comment; every span covers its text', () => {
    fc.assert(
      fc.property(
        statement.chain((data) => fc.tuple(fc.constant(data), respaced(formatStatement(data)))),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 10_000 }),
        ([data, line], lineNo, step) => {
          const st = parseLine(line, lineNo, step)!;
          expect(strip(st)).toEqual(data);
          expect(st.step).toBe(step);
          expect(st.text).toBe(line.trim());
          const content = line.replace(/#.*$/, '').trim();
          expect(line.slice(st.span.column - 1, st.span.endColumn - 1)).toBe(content);
          for (const [span, text] of spanTexts(st)) {
            expect(span.line).toBe(lineNo);
            expect(line.slice(span.column - 1, span.endColumn - 1)).toBe(text);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});

// --- garbage -------------------------------------------------------------------------------------

const vocabulary = [
  ...GLOBAL_STATEMENTS,
  ...PROCESS_STATEMENTS,
  ...TTU_FLAG_NAMES,
  'A:',
  'B:',
  ':',
  'A',
  'heap',
  'anon',
  'file:',
  'file:x',
  'file',
  'private',
  'shared',
  'move',
  'none',
  'r',
  'rw',
  'mergeable',
  'cold',
  'kernel',
  'zero-page',
  'fault-around',
  'swap',
  'ksm-max-sharing',
  'readahead',
  'unlimited',
  'on',
  'off',
  '4.9',
  '6.12',
  '0',
  '1',
  '3..1',
  '1..3',
  '..',
  '...',
  '-1',
  '0x10',
  '007',
  '1e3',
  '99999999999999999999',
  '16777216',
  '#',
];
const word = fc.oneof(
  fc.constantFrom(...vocabulary),
  name,
  fc.nat().map(String),
  fc.string({ maxLength: 6 }),
  fc.string({ unit: 'binary', maxLength: 4 }),
);
const soup = fc
  .array(fc.tuple(word, fc.stringMatching(/^[ \t]{0,2}$/)), { maxLength: 8 })
  .map((ws) => ws.map(([w, sep]) => w + sep).join(''));

/** A valid line with one edit: a word dropped, doubled or swapped, or a character replaced. */
const mutated = fc
  .tuple(
    statement,
    fc.nat(),
    fc.nat(),
    fc.constantFrom('drop', 'double', 'swap', 'char'),
    fc.string({ maxLength: 2 }),
  )
  .map(([data, i, j, how, s]) => {
    const words = formatStatement(data).split(' ');
    const a = i % words.length;
    const b = j % words.length;
    if (how === 'drop') words.splice(a, 1);
    else if (how === 'double') words.splice(a, 0, words[a]);
    else if (how === 'swap') [words[a], words[b]] = [words[b], words[a]];
    else {
      const w = words[a];
      const k = j % (w.length + 1);
      words[a] = w.slice(0, k) + s + w.slice(k + 1);
    }
    return words.join(' ');
  });

function checkGarbage(line: string): void {
  let st: Statement | null;
  try {
    st = parseLine(line, 3, 1);
  } catch (e) {
    if (!(e instanceof ScenarioError)) throw e;
    expect(e.line).toBe(3);
    expect(e.column).toBeGreaterThanOrEqual(1);
    expect(e.column).toBeLessThanOrEqual(line.length + 1);
    expect(e.endColumn).toBeGreaterThan(e.column);
    expect(e.endColumn).toBeLessThanOrEqual(line.length + 2);
    expect(['syntax', 'semantic', 'limit']).toContain(e.kind);
    const formatted = e.format('g.rmap');
    expect(formatted).toMatch(/^g\.rmap:3:\d+: error: /);
    expect(formatted).not.toContain('\n');
    return;
  }
  // Whatever parses prints back to a line that parses to the same statement.
  if (st !== null) expect(strip(parseLine(formatStatement(st), 1, 1))).toEqual(strip(st));
}

describe('garbage never throws anything but a ScenarioError inside the line', () => {
  it('arbitrary strings', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 40 }), checkGarbage), { numRuns: 1000 });
  });

  it('soups of language words', () => {
    fc.assert(fc.property(soup, checkGarbage), { numRuns: 3000 });
  });

  it('valid lines with one edit', () => {
    fc.assert(fc.property(mutated, checkGarbage), { numRuns: 3000 });
  });
});
