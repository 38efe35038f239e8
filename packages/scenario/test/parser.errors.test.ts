import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ScenarioError } from '../src/errors.js';
import { parseScenario } from '../src/parser.js';

const GOLDEN = fileURLToPath(new URL('./fixtures/parser/errors.golden.txt', import.meta.url));

/** [source (may span lines), line, column, message fragment, kind] */
type Case = [string, number, number, string, ScenarioError['kind']];

const CASES: Case[] = [
  // Unknown statements and the P: prefix.
  ['A: frobnicate x y', 1, 4, 'unknown statement', 'syntax'],
  ['A: mmpa heap 4 anon private', 1, 4, 'did you mean "mmap"?', 'syntax'],
  ['A: refrenced heap 0', 1, 4, 'did you mean "referenced"?', 'syntax'],
  ['A: Write heap 0', 1, 4, 'did you mean "write"?', 'syntax'],
  ['frobnicate', 1, 1, 'unknown statement', 'syntax'],
  ['spwan A', 1, 1, 'did you mean "spawn"?', 'syntax'],
  ['obsreve', 1, 1, 'did you mean "observe"?', 'syntax'],
  ['wrte heap 0', 1, 1, 'did you mean "P: write"?', 'syntax'],
  ['mmap heap 4 anon private', 1, 1, '"mmap" needs a process prefix', 'syntax'],
  ['exit', 1, 1, '"exit" needs a process prefix', 'syntax'],
  ['A mmap heap 4 anon private', 1, 1, 'missing ":" after process name', 'syntax'],
  ['A : mmap heap 4 anon private', 1, 2, 'no space allowed between the process name and ":"', 'syntax'],
  ['A:mmap heap 4 anon private', 1, 3, 'missing space after "A:"', 'syntax'],
  [': mmap heap 4 anon private', 1, 1, 'missing process name before ":"', 'syntax'],
  ['A:', 1, 3, 'missing statement after "A:"', 'syntax'],
  ['9A: exit', 1, 1, 'bad process name: a name must start with a letter', 'syntax'],
  ['A$: exit', 1, 1, 'bad process name: "$" is not allowed in a name', 'syntax'],
  ['A: ksm', 1, 1, '"ksm" takes no process prefix', 'syntax'],
  ['A: observe', 1, 1, '"observe" takes no process prefix', 'syntax'],
  ['A: spawn B', 1, 1, '"spawn" takes no process prefix', 'syntax'],
  ['A: set kernel 6.12', 1, 1, '"set" takes no process prefix', 'syntax'],
  // Names.
  ['spawn 9abc', 1, 7, 'bad process name: a name must start with a letter', 'syntax'],
  ['spawn', 1, 6, 'missing process name', 'syntax'],
  ['spawn A B', 1, 9, 'unexpected extra argument after "A"', 'syntax'],
  ['spawn A:', 1, 7, '":" is not allowed in a name', 'syntax'],
  ['A: mmap he@p 4 anon private', 1, 9, '"@" is not allowed in a name', 'syntax'],
  ['A: fork 2', 1, 9, 'bad child process name', 'syntax'],
  ['A: fork', 1, 8, 'missing child process name', 'syntax'],
  ['A: write heap 0 42', 1, 17, 'bad value name', 'syntax'],
  // Numbers.
  ['A: mmap heap 1x anon private', 1, 14, 'bad page count: not a decimal number', 'syntax'],
  ['A: mmap heap -3 anon private', 1, 14, 'negative numbers are not allowed', 'syntax'],
  ['A: mmap heap +3 anon private', 1, 14, 'write numbers without a sign', 'syntax'],
  ['A: mmap heap 0x10 anon private', 1, 14, 'hexadecimal is not allowed', 'syntax'],
  ['A: mmap heap 1e3 anon private', 1, 14, 'exponents are not allowed', 'syntax'],
  ['A: mmap heap 2.5 anon private', 1, 14, 'not a whole number', 'syntax'],
  ['A: read heap 007', 1, 14, 'leading zeros are not allowed, write 7', 'syntax'],
  ['A: mmap heap 0 anon private', 1, 14, 'page count out of range', 'limit'],
  ['A: mmap heap 16777217 anon private', 1, 14, 'page count out of range', 'limit'],
  ['A: read heap 99999999999999999999999', 1, 14, 'page index out of range', 'limit'],
  ['A: read heap 16777216', 1, 14, 'page index out of range', 'limit'],
  ['A: munmap heap 0 0', 1, 18, 'page count out of range', 'limit'],
  ['A: mremap heap 0', 1, 16, 'new page count out of range', 'limit'],
  ['A: mremap heap mvoe', 1, 16, 'did you mean "move"?', 'syntax'],
  ['A: mremap heap', 1, 15, 'missing new page count', 'syntax'],
  // Pages and ranges.
  ['A: read heap', 1, 13, 'missing page index', 'syntax'],
  ['A: read heap 5..3', 1, 14, 'page range goes backwards', 'semantic'],
  ['A: write heap ..3', 1, 15, 'missing first page of the range', 'syntax'],
  ['A: write heap 3..', 1, 15, 'missing last page of the range', 'syntax'],
  ['A: write heap 1..2..3', 1, 15, 'exactly one ".."', 'syntax'],
  ['A: write heap 1..x', 1, 18, 'bad last page of the range', 'syntax'],
  ['A: read heap 0..16777216', 1, 17, 'last page of the range out of range', 'limit'],
  ['A: walk heap 0..3', 1, 14, 'only allowed in read and write', 'semantic'],
  ['A: munmap heap 0..1 2', 1, 16, 'only allowed in read and write', 'semantic'],
  ['A: mprotect heap 0..1 2 r', 1, 18, 'only allowed in read and write', 'semantic'],
  ['A: unmap heap 1..2 TTU_UNMAP', 1, 15, 'only allowed in read and write', 'semantic'],
  // mmap kinds.
  ['A: mmap heap 4 anon privat', 1, 21, 'did you mean "private"?', 'syntax'],
  ['A: mmap heap 4 anon', 1, 20, 'missing sharing', 'syntax'],
  ['A: mmap heap 4', 1, 15, 'missing mapping kind', 'syntax'],
  ['A: mmap heap 4 private', 1, 16, 'missing mapping kind before "private"', 'syntax'],
  ['A: mmap heap 4 anonymous private', 1, 16, 'did you mean "anon"?', 'syntax'],
  ['A: mmap heap 4 file private', 1, 16, 'a file mapping names its file', 'syntax'],
  ['A: mmap heap 4 file: private', 1, 16, 'missing file name after "file:"', 'syntax'],
  ['A: mmap heap 4 file:1lib private', 1, 21, 'bad file name', 'syntax'],
  ['A: mmap heap 4 fil:lib private', 1, 16, 'did you mean "file:FILE"?', 'syntax'],
  ['A: mmap heap 4 anon private extra', 1, 29, 'unexpected extra argument', 'syntax'],
  // Other arguments.
  ['A: exit now', 1, 9, 'unexpected extra argument after "exit"', 'syntax'],
  ['A: read heap 0 X', 1, 16, 'read takes no VALUE (only write does)', 'syntax'],
  ['A: read heap 0 9', 1, 16, 'unexpected extra argument after "0"', 'syntax'],
  ['A: write heap 0 X Y', 1, 19, 'unexpected extra argument after "X"', 'syntax'],
  ['A: munmap heap 2', 1, 17, 'missing page count', 'syntax'],
  ['A: mprotect heap 0 1 rx', 1, 22, 'unknown protection', 'syntax'],
  ['A: mprotect heap 0 1', 1, 21, 'missing protection', 'syntax'],
  ['A: madvise heap merge', 1, 17, 'unknown advice', 'syntax'],
  ['A: madvise heap HUGEPAGE', 1, 17, 'unknown advice', 'syntax'],
  ['A: mlock heap 0', 1, 15, 'unexpected extra argument', 'syntax'],
  ['A: unmap heap 0 TTU_MIGRATON', 1, 17, 'did you mean "TTU_MIGRATION"?', 'syntax'],
  ['A: unmap heap 0 ignore_mlock', 1, 17, 'did you mean "TTU_IGNORE_MLOCK"?', 'syntax'],
  ['A: unmap heap 0 TTU_UNMAP TTU_UNMAP', 1, 27, 'unmap flag given twice', 'semantic'],
  ['A: walk heap', 1, 13, 'missing page index', 'syntax'],
  ['ksm now', 1, 5, 'unexpected extra argument after "ksm"', 'syntax'],
  ['observe all', 1, 9, 'unexpected extra argument after "observe"', 'syntax'],
  // Options.
  ['set', 1, 4, 'missing option', 'syntax'],
  ['set zero_page on', 1, 5, 'did you mean "zero-page"?', 'syntax'],
  ['set colour blue', 1, 5, 'unknown option', 'syntax'],
  ['set kernel 4.8', 1, 12, 'Linux 4.8 is older than the model reaches', 'syntax'],
  [
    'set kernel 4.21',
    1,
    12,
    'there is no Linux 4.21; the nearest the model can represent: 4.20, 5.0',
    'syntax',
  ],
  [
    'set kernel 6.19',
    1,
    12,
    'Linux 6.19 is newer than the model reaches; the nearest the model can represent: 6.18',
    'syntax',
  ],
  ['set kernel 6.012', 1, 12, '"6.012" is not a kernel release', 'syntax'],
  ['set kernel 6.12.1.1', 1, 12, 'one number too many', 'syntax'],
  ['set kernel', 1, 11, 'missing kernel release', 'syntax'],
  ['set zero-page yes', 1, 15, 'unknown zero-page setting', 'syntax'],
  ['set zero-page ON', 1, 15, 'did you mean "on"?', 'syntax'],
  ['set fault-around 0', 1, 18, 'fault-around window out of range', 'limit'],
  ['set fault-around 1024', 1, 18, 'at most one page table', 'limit'],
  ['set swap lots', 1, 10, 'bad swap size', 'syntax'],
  ['set swap unlimted', 1, 10, 'did you mean "unlimited"?', 'syntax'],
  ['set swap 1099511627777', 1, 10, 'swap size out of range', 'limit'],
  ['set ksm-max-sharing 1', 1, 21, 'the kernel refuses values below 2', 'limit'],
  ['set ksm-max-sharing 2147483648', 1, 21, 'ksm-max-sharing value out of range', 'limit'],
  ['set readahead 16777217', 1, 15, 'readahead window out of range', 'limit'],
  ['set readahead many', 1, 15, 'bad readahead window', 'syntax'],
  ['set kernel 4.9 6.12', 1, 16, 'unexpected extra argument after "4.9"', 'syntax'],
  // Position within a scenario: blank and comment lines count as lines, tabs as one column.
  ['spawn A\n\n# comment\nA: mmap heap 4 anon private\n\tA: frobnicate', 5, 5, 'unknown statement', 'syntax'],
  ['spawn A\r\nA: read heap 9x\r\n', 2, 14, 'bad page index', 'syntax'],
  [
    'spawn A\nA: read heap 0 # ok\nA: write heap 0 # comment, then an error\nA: fork',
    4,
    8,
    'missing child',
    'syntax',
  ],
];

function errorOf(src: string): ScenarioError {
  try {
    parseScenario(src);
  } catch (e) {
    if (e instanceof ScenarioError) return e;
    throw e;
  }
  throw new Error(`no error for ${JSON.stringify(src)}`);
}

describe('malformed lines', () => {
  it('has plenty of cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
  });

  it.each(CASES)('%j', (src, line, column, fragment, kind) => {
    const e = errorOf(src);
    expect({ line: e.line, column: e.column, kind: e.kind }).toEqual({ line, column, kind });
    expect(e.format()).toContain(fragment);
    // Every message says what was expected and what was found.
    expect(e.expected).toBeDefined();
    expect(e.found).toBeDefined();
    const text = src.split('\n')[line - 1].replace(/\r$/, '');
    expect(e.endColumn).toBeGreaterThan(e.column);
    expect(e.endColumn).toBeLessThanOrEqual(text.length + 2);
    if (e.found !== '' && e.found !== undefined) {
      // The span covers the quoted text, or the quoted word contains the span.
      const covered = text.slice(e.column - 1, e.endColumn - 1);
      expect(covered === e.found || e.found.includes(covered)).toBe(true);
    }
  });

  it('matches the golden file of formatted messages (UPDATE_GOLDEN=1 to regenerate)', () => {
    const out: string[] = [
      '# Formatted parser errors, one block per malformed input: the offending line, a caret, the message.',
      '# Regenerate: UPDATE_GOLDEN=1 pnpm vitest run test/parser',
      '',
    ];
    for (const [src] of CASES) {
      const e = errorOf(src);
      const text = src.split('\n')[e.line - 1].replace(/\r$/, '');
      const pad = [...text.slice(0, e.column - 1)].map((c) => (c === '\t' ? '\t' : ' ')).join('');
      out.push(`  | ${text}`);
      out.push(`  | ${pad}${'^'.repeat(Math.max(1, e.endColumn - e.column))}`);
      out.push(e.format('test.rmap'));
      out.push('');
    }
    const actual = out.join('\n');
    if (process.env.UPDATE_GOLDEN === '1' || !existsSync(GOLDEN)) {
      writeFileSync(GOLDEN, actual);
    }
    expect(actual).toBe(readFileSync(GOLDEN, 'utf8'));
  });
});
