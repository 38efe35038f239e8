/**
 * The scenario parser: one statement a line, the first error reported precisely (line, column, what
 * was expected, what was found). See docs/language.md for the language and the scenario-language contract (shared/scenario-language.md)
 * for the contract.
 */
import {
  formatRelease,
  NEWEST_MODELLED,
  OLDEST_MODELLED,
  parseRelease,
  ReleaseError,
  THP_ORDERS,
  type ThpSize,
} from '@rmaplab/mm';
import {
  type Advice,
  type Backing,
  MAX_FAULT_AROUND,
  MAX_KSM_MAX_SHARING,
  MAX_MAX_MAP_COUNT,
  MAX_READAHEAD,
  MAX_REGION_PAGES,
  MAX_SWAP_PAGES,
  MIN_KSM_MAX_SHARING,
  type Prot,
  type SetKey,
  type SetValue,
  type Span,
  type Statement,
  type StatementOf,
  TTU_FLAG_NAMES,
  type TtuFlagName,
} from './ast.js';
import { quote, ScenarioError, type ScenarioErrorKind } from './errors.js';
import { LineCursor, MAX_NAME_LENGTH, scanWords, type WordBounds } from './lexer.js';

/** Statements written without a `P:` prefix. */
export const GLOBAL_STATEMENTS = ['spawn', 'set', 'ksm', 'observe'] as const;
/** Statements written after a `P:` prefix. */
export const PROCESS_STATEMENTS = [
  'mmap',
  'read',
  'write',
  'fork',
  'exit',
  'munmap',
  'mprotect',
  'mremap',
  'mlock',
  'munlock',
  'madvise',
  'walk',
  'unmap',
  'reclaim',
  'referenced',
  'migrate',
  'mkclean',
] as const;
export type StatementName = (typeof GLOBAL_STATEMENTS)[number] | (typeof PROCESS_STATEMENTS)[number];
type ProcessStatementName = (typeof PROCESS_STATEMENTS)[number];
const PROCESS_STATEMENT_SET: ReadonlySet<string> = new Set(PROCESS_STATEMENTS);

/** One-line usage of every statement, as shown in error messages. */
export const STATEMENT_USAGE: Readonly<Record<StatementName, string>> = {
  spawn: 'spawn P',
  set: 'set KEY VALUE',
  ksm: 'ksm',
  observe: 'observe',
  mmap: 'P: mmap REGION PAGES anon|file:FILE private|shared',
  read: 'P: read REGION PAGE|FIRST..LAST',
  write: 'P: write REGION PAGE|FIRST..LAST [VALUE]',
  fork: 'P: fork CHILD',
  exit: 'P: exit',
  munmap: 'P: munmap REGION [PAGE COUNT]',
  mprotect: 'P: mprotect REGION PAGE COUNT none|r|rw',
  mremap: 'P: mremap REGION PAGES|move',
  mlock: 'P: mlock REGION',
  munlock: 'P: munlock REGION',
  madvise: 'P: madvise REGION mergeable|unmergeable|dontneed|pageout|cold|hugepage|nohugepage',
  walk: 'P: walk REGION PAGE',
  unmap: 'P: unmap REGION PAGE [FLAG...]',
  reclaim: 'P: reclaim REGION PAGE',
  referenced: 'P: referenced REGION PAGE',
  migrate: 'P: migrate REGION PAGE',
  mkclean: 'P: mkclean REGION PAGE',
};

export const SET_KEYS: readonly SetKey[] = [
  'kernel',
  'zero-page',
  'fault-around',
  'swap',
  'ksm-max-sharing',
  'readahead',
  'thp',
  'max-map-count',
];
const SET_USAGE: Record<SetKey, string> = {
  kernel: `set kernel VERSION (${OLDEST_MODELLED} to ${NEWEST_MODELLED}, e.g. 6.12)`,
  'zero-page': 'set zero-page on|off',
  'fault-around': `set fault-around PAGES (1..${MAX_FAULT_AROUND})`,
  swap: 'set swap PAGES|unlimited',
  'ksm-max-sharing': `set ksm-max-sharing N (${MIN_KSM_MAX_SHARING}..${MAX_KSM_MAX_SHARING})`,
  readahead: `set readahead PAGES (0..${MAX_READAHEAD})`,
  thp: `set thp never|SIZE[,SIZE...] (${Object.keys(THP_ORDERS).join(' ')})`,
  'max-map-count': `set max-map-count N (0..${MAX_MAX_MAP_COUNT}; vm.max_map_count, 65530 unless set)`,
};
/** The keyword lists a statement's arguments take (exported so the web editor highlights the same words). */
export const ON_OFF = ['on', 'off'] as const;
export const PROTS: readonly Prot[] = ['none', 'r', 'rw'];
export const ADVICES: readonly Advice[] = [
  'mergeable',
  'unmergeable',
  'dontneed',
  'pageout',
  'cold',
  'hugepage',
  'nohugepage',
];
export const SHARINGS = ['private', 'shared'] as const;

const NAME_EXPECTED = 'a name matching [A-Za-z][A-Za-z0-9_.-]*';

// ---------------------------------------------------------------------------------------------
// Messages helpers

/** `a`, `a or b`, `a, b or c`. */
export function oneOf(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  const head = items.slice(0, -1).join(', ');
  return `${items.length > 2 ? 'one of ' : ''}${head} or ${items[items.length - 1]}`;
}

/** Optimal-string-alignment edit distance (insert, delete, substitute, swap two adjacent). */
export function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  let prev2: number[] = [];
  let prev: number[] = Array.from({ length: n + 1 }, (_, j) => j);
  for (let i = 1; i <= m; i++) {
    const cur: number[] = [i];
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2] + 1);
      cur.push(d);
    }
    prev2 = prev;
    prev = cur;
  }
  return prev[n];
}

/**
 * The candidate the user most likely meant, or undefined: a case-insensitive match, else the closest
 * candidate within an edit distance of about a third of its length, else the only candidate that
 * starts with `word`, else the only candidate (3+ letters) that `word` starts with.
 */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  if (word.length === 0 || word.length > 64) return undefined;
  const lower = word.toLowerCase();
  for (const c of candidates) if (c.toLowerCase() === lower) return c;
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const d = editDistance(lower, c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  if (best !== undefined && bestDistance <= Math.max(1, Math.floor(Math.max(word.length, best.length) / 3))) {
    return best;
  }
  if (word.length >= 2) {
    const prefixed = candidates.filter((c) => c.toLowerCase().startsWith(lower));
    if (prefixed.length === 1) return prefixed[0];
    const prefixes = candidates.filter((c) => c.length >= 3 && lower.startsWith(c.toLowerCase()));
    if (prefixes.length === 1) return prefixes[0];
  }
  return undefined;
}

function didYouMean(s: string | undefined): string {
  return s === undefined ? '' : `; did you mean ${quote(s)}?`;
}

// ---------------------------------------------------------------------------------------------
// Arguments

interface Arg {
  /** Short noun for messages: `missing page count`, `bad page count`. */
  label: string;
  /** What is expected, in words, for "missing" errors. */
  expected: string;
}

const A = {
  proc: { label: 'process name', expected: 'a process name' },
  child: { label: 'child process name', expected: 'the name of the child process' },
  region: { label: 'region name', expected: 'a region name' },
  pages: { label: 'page count', expected: 'a number of pages' },
  count: { label: 'page count', expected: 'a number of pages' },
  page: { label: 'page index', expected: 'a page index' },
  pageOrRange: { label: 'page index', expected: 'a page index or a range FIRST..LAST' },
  first: { label: 'first page of the range', expected: 'a page index' },
  last: { label: 'last page of the range', expected: 'a page index' },
  value: { label: 'value name', expected: 'a value name' },
  backing: { label: 'mapping kind', expected: 'anon or file:FILE' },
  file: { label: 'file name', expected: 'a file name' },
  sharing: { label: 'sharing', expected: 'private or shared' },
  prot: { label: 'protection', expected: oneOf(PROTS) },
  advice: { label: 'advice', expected: oneOf(ADVICES) },
  mremap: { label: 'new page count', expected: 'a number of pages or move' },
  flag: { label: 'unmap flag', expected: 'a TTU_* flag' },
  setKey: { label: 'option', expected: oneOf(SET_KEYS) },
  kernel: {
    label: 'kernel release',
    expected: `a release from ${OLDEST_MODELLED} to ${NEWEST_MODELLED}, MAJOR.MINOR[.PATCH]`,
  },
  zeroPage: { label: 'zero-page setting', expected: oneOf(ON_OFF) },
  faultAround: { label: 'fault-around window', expected: 'a number of pages' },
  swap: { label: 'swap size', expected: 'a number of pages or unlimited' },
  ksmMaxSharing: { label: 'ksm-max-sharing value', expected: 'a number' },
  readahead: { label: 'readahead window', expected: 'a number of pages' },
  thp: {
    label: 'folio sizes',
    expected: `never or sizes joined by ",": ${Object.keys(THP_ORDERS).join(' ')}`,
  },
  maxMapCount: { label: 'max-map-count value', expected: 'a number of VMAs' },
} satisfies Record<string, Arg>;

/** [A-Za-z] */
function isLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** [A-Za-z0-9_.-] */
function isNameChar(c: number): boolean {
  return isLetter(c) || (c >= 48 && c <= 57) || c === 95 || c === 46 || c === 45;
}

/** Whether `src` from `start` to `end` is a name, [A-Za-z][A-Za-z0-9_.-]* (checked without slicing it out). */
function isNameAt(src: string, start: number, end: number): boolean {
  if (start >= end || !isLetter(src.charCodeAt(start))) return false;
  for (let i = start + 1; i < end; i++) if (!isNameChar(src.charCodeAt(i))) return false;
  return true;
}

const COLON = 58;
const ZERO = 48;
/** Up to this many digits, summing digit by digit gives exactly what Number() gives. */
const EXACT_DIGITS = 15;

/**
 * Parses the words of one line; every failure throws a ScenarioError at the offending text. Words are
 * read from the line's WordBounds and sliced out only when their text is needed (names, keywords,
 * messages): a valid statement costs its own fields and spans, nothing else.
 */
class LineParser {
  private pos = 0;
  private usage = '';
  private readonly count: number;

  constructor(
    private readonly src: string,
    private readonly line: number,
    private readonly words: WordBounds,
  ) {
    this.count = words.count;
  }

  // --- words, spans and errors --------------------------------------------------------------------

  private start(i: number): number {
    return this.words.start[i];
  }

  private end(i: number): number {
    return this.words.end[i];
  }

  private text(i: number): string {
    return this.src.slice(this.words.start[i], this.words.end[i]);
  }

  private spanAt(start: number, end: number): Span {
    return { line: this.line, column: start + 1, endColumn: end + 1 };
  }

  private span(i: number): Span {
    return this.spanAt(this.words.start[i], this.words.end[i]);
  }

  /** The span of the word just taken. */
  private lastSpan(): Span {
    return this.span(this.pos - 1);
  }

  private fail(
    kind: ScenarioErrorKind,
    start: number,
    end: number,
    message: string,
    expected?: string,
    found?: string,
  ): never {
    throw new ScenarioError({
      line: this.line,
      column: start + 1,
      endColumn: end + 1,
      message,
      ...(expected !== undefined ? { expected } : {}),
      ...(found !== undefined ? { found } : {}),
      kind,
    });
  }

  private withUsage(message: string): string {
    return this.usage === '' ? message : `${message}; usage: ${this.usage}`;
  }

  // --- cursor ----------------------------------------------------------------------------------

  /** The index of the next word, or a "missing ..." error placed just after the previous word. */
  private take(arg: Arg): number {
    const i = this.pos;
    if (i >= this.count) this.missing(arg);
    this.pos++;
    return i;
  }

  private missing(arg: Arg): never {
    const at = this.pos > 0 ? this.end(this.pos - 1) : 0;
    this.fail('syntax', at, at + 1, this.withUsage(`missing ${arg.label}`), arg.expected, '');
  }

  private endOfLine(): void {
    const i = this.pos;
    if (i >= this.count) return;
    const lastEnd = this.end(this.count - 1);
    this.fail(
      'syntax',
      this.start(i),
      lastEnd,
      this.withUsage(`unexpected extra argument after ${quote(this.text(i - 1))}`),
      'end of line',
      this.src.slice(this.start(i), lastEnd),
    );
  }

  // --- values ----------------------------------------------------------------------------------

  /** Checks that the text from `start` to `end` is a name, at most MAX_NAME_LENGTH long. */
  private checkName(start: number, end: number, arg: Arg): void {
    const valid = isNameAt(this.src, start, end);
    if (valid && end - start <= MAX_NAME_LENGTH) return;
    const text = this.src.slice(start, end);
    if (valid)
      this.fail(
        'limit',
        start,
        end,
        `bad ${arg.label}: ${text.length} characters is longer than a name may be`,
        `a name of at most ${MAX_NAME_LENGTH} characters`,
        text,
      );
    let why: string;
    if (text === '') why = 'empty name';
    else if (!/[A-Za-z]/.test(text[0])) why = 'a name must start with a letter';
    else {
      const bad = [...text].find((c) => !/[A-Za-z0-9_.-]/.test(c))!;
      why = `${quote(bad)} is not allowed in a name`;
    }
    this.fail(
      'syntax',
      start,
      start + Math.max(text.length, 1),
      `bad ${arg.label}: ${why}`,
      NAME_EXPECTED,
      text,
    );
  }

  private name(arg: Arg): string {
    const w = this.take(arg);
    this.checkName(this.start(w), this.end(w), arg);
    return this.text(w);
  }

  /**
   * The decimal number written from `start` to `end` of the line, within min..max. `limitWhy` adds
   * a reason to the out-of-range message.
   */
  private numberAt(
    start: number,
    end: number,
    arg: Arg,
    min: number,
    max: number,
    limitWhy?: (value: number) => string,
  ): number {
    const src = this.src;
    let value = 0;
    let digits = start < end;
    for (let i = start; digits && i < end; i++) {
      const d = src.charCodeAt(i) - ZERO;
      if (d < 0 || d > 9) digits = false;
      else value = value * 10 + d;
    }
    if (!digits) this.notDecimal(start, end, arg, min, max);
    if (end - start > 1 && src.charCodeAt(start) === ZERO) {
      const canonical = src.slice(start, end).replace(/^0+(?=.)/, '');
      this.fail(
        'syntax',
        start,
        end,
        `bad ${arg.label}: leading zeros are not allowed, write ${canonical}`,
        `a decimal number ${min}..${max}`,
        src.slice(start, end),
      );
    }
    if (end - start > EXACT_DIGITS) value = Number(src.slice(start, end));
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      this.fail(
        'limit',
        start,
        end,
        `${arg.label} out of range${limitWhy?.(value) ?? ''}`,
        `${min}..${max}`,
        src.slice(start, end),
      );
    }
    return value;
  }

  /** The error for text that is not a plain decimal number, saying what it looks like instead. */
  private notDecimal(start: number, end: number, arg: Arg, min: number, max: number): never {
    const text = this.src.slice(start, end);
    let why = 'not a decimal number';
    if (/^-/.test(text)) why = 'negative numbers are not allowed';
    else if (/^\+/.test(text)) why = 'write numbers without a sign';
    else if (/^0[xX]/.test(text)) why = 'hexadecimal is not allowed, numbers are decimal';
    else if (/^0[bBoO]/.test(text)) why = 'binary and octal are not allowed, numbers are decimal';
    else if (/^[0-9]+(\.[0-9]*)?[eE][+-]?[0-9]*$/.test(text)) why = 'exponents are not allowed';
    else if (/^[0-9]*\.[0-9]+$|^[0-9]+\.$/.test(text)) why = 'not a whole number';
    this.fail('syntax', start, end, `bad ${arg.label}: ${why}`, `a decimal number ${min}..${max}`, text);
  }

  private number(arg: Arg, min: number, max: number, limitWhy?: (value: number) => string): number {
    const w = this.take(arg);
    return this.numberAt(this.start(w), this.end(w), arg, min, max, limitWhy);
  }

  private keyword<T extends string>(arg: Arg, options: readonly T[]): T {
    const w = this.take(arg);
    const text = this.text(w);
    if ((options as readonly string[]).includes(text)) return text as T;
    this.fail(
      'syntax',
      this.start(w),
      this.end(w),
      `unknown ${arg.label}${didYouMean(suggest(text, options))}`,
      oneOf(options),
      text,
    );
  }

  /** A kernel release the model can represent, normalised (`6.12`); an unknown one names the nearest. */
  private release(arg: Arg): string {
    const w = this.take(arg);
    const text = this.text(w);
    try {
      return formatRelease(parseRelease(text));
    } catch (e) {
      if (!(e instanceof ReleaseError)) throw e;
      this.fail('syntax', this.start(w), this.end(w), e.message, arg.expected, text);
    }
  }

  /** Where `..` is in word `w`, or -1. */
  private dotsIn(w: number): number {
    const at = this.src.indexOf('..', this.start(w));
    return at >= 0 && at + 2 <= this.end(w) ? at : -1;
  }

  /** A single page index; a FIRST..LAST range is refused (only read and write take one). */
  private page(arg: Arg = A.page): number {
    const w = this.take(arg);
    if (this.dotsIn(w) >= 0) {
      this.fail(
        'semantic',
        this.start(w),
        this.end(w),
        this.withUsage('a page range FIRST..LAST is only allowed in read and write'),
        'a single page index',
        this.text(w),
      );
    }
    return this.numberAt(this.start(w), this.end(w), arg, 0, MAX_REGION_PAGES - 1);
  }

  /** The `..` of a FIRST..LAST word, or -1 for a single page; a malformed range is an error. */
  private rangeDots(w: number): number {
    const dots = this.dotsIn(w);
    if (dots < 0) return -1;
    const start = this.start(w);
    const end = this.end(w);
    const example = 'FIRST..LAST, e.g. "0..3"';
    if (dots === start)
      this.fail('syntax', start, end, 'missing first page of the range', example, this.text(w));
    if (dots + 2 === end)
      this.fail('syntax', start, end, 'missing last page of the range', example, this.text(w));
    const again = this.src.indexOf('..', dots + 2);
    if (again >= 0 && again + 2 <= end) {
      this.fail('syntax', start, end, 'a page range has exactly one ".."', example, this.text(w));
    }
    return dots;
  }

  // --- statements ------------------------------------------------------------------------------

  parse(step: number): Statement {
    const src = this.src;
    const s0 = this.start(0);
    const e0 = this.end(0);
    const span = this.spanAt(s0, this.end(this.count - 1));
    const text = src.trim();
    let colon = -1;
    for (let i = s0; i < e0; i++) {
      if (src.charCodeAt(i) === COLON) {
        colon = i - s0;
        break;
      }
    }
    if (colon === 0) {
      this.fail(
        'syntax',
        s0,
        s0 + 1,
        'missing process name before ":"',
        'a process name, as in "A: mmap ..."',
        this.text(0),
      );
    } else if (src.charCodeAt(e0 - 1) === COLON) {
      this.checkName(s0, e0 - 1, A.proc);
      const proc = src.slice(s0, e0 - 1);
      const procSpan = this.spanAt(s0, e0 - 1);
      this.pos = 1;
      if (this.count < 2) {
        this.missing({
          label: `statement after ${quote(this.text(0))}`,
          expected: oneOf(PROCESS_STATEMENTS),
        });
      }
      this.pos = 2;
      const op = this.text(1);
      if (PROCESS_STATEMENT_SET.has(op)) {
        return this.processStatement(op as ProcessStatementName, step, span, text, proc, procSpan);
      }
      if ((GLOBAL_STATEMENTS as readonly string[]).includes(op)) {
        this.fail(
          'syntax',
          s0,
          e0,
          `${quote(op)} takes no process prefix; usage: ${STATEMENT_USAGE[op as StatementName]}`,
          `${quote(op)} at the start of the line`,
          this.text(0),
        );
      }
      this.fail(
        'syntax',
        this.start(1),
        this.end(1),
        `unknown statement${didYouMean(suggest(op, PROCESS_STATEMENTS))}`,
        `a statement: ${oneOf(PROCESS_STATEMENTS)}`,
        op,
      );
    } else if (colon > 0) {
      const head = src.slice(s0, s0 + colon + 1);
      this.fail(
        'syntax',
        s0 + colon + 1,
        e0,
        `missing space after ${quote(head)}`,
        `a space between ${quote(head)} and the statement`,
        this.text(0),
      );
    } else if (this.count > 1 && src.charCodeAt(this.start(1)) === COLON) {
      const w0 = this.text(0);
      this.fail(
        'syntax',
        e0,
        this.start(1) + 1,
        `no space allowed between the process name and ":"; write ${quote(`${w0}:`)}`,
        quote(`${w0}:`),
        src.slice(s0, this.start(1) + 1),
      );
    }

    const op = this.text(0);
    this.pos = 1;
    switch (op) {
      case 'spawn': {
        this.usage = STATEMENT_USAGE.spawn;
        const proc = this.name(A.proc);
        const procSpan = this.lastSpan();
        this.endOfLine();
        return { step, span, text, op: 'spawn', proc, procSpan };
      }
      case 'ksm':
      case 'observe':
        this.usage = STATEMENT_USAGE[op];
        this.endOfLine();
        return { step, span, text, op };
      case 'set':
        return this.setStatement(step, span, text);
    }
    if (PROCESS_STATEMENT_SET.has(op)) {
      this.fail(
        'syntax',
        s0,
        e0,
        `${quote(op)} needs a process prefix "P:"; usage: ${STATEMENT_USAGE[op as StatementName]}`,
        `a process name and ":" before ${quote(op)}`,
        op,
      );
    }
    const w1 = this.count > 1 ? this.text(1) : undefined;
    if (w1 !== undefined && PROCESS_STATEMENT_SET.has(w1) && isNameAt(op, 0, op.length)) {
      this.fail(
        'syntax',
        s0,
        e0,
        `missing ":" after process name; write ${quote(`${op}: ${w1}`)}`,
        quote(`${op}:`),
        op,
      );
    }
    const s = suggest(op, [...GLOBAL_STATEMENTS, ...PROCESS_STATEMENTS]);
    const hint = s !== undefined && PROCESS_STATEMENT_SET.has(s) ? `P: ${s}` : s;
    this.fail(
      'syntax',
      s0,
      e0,
      `unknown statement${didYouMean(hint)}`,
      `${oneOf([...GLOBAL_STATEMENTS])}, or "P:" and a process statement`,
      op,
    );
  }

  private setStatement(step: number, span: Span, text: string): Statement {
    this.usage = STATEMENT_USAGE.set;
    const key = this.keyword(A.setKey, SET_KEYS);
    const keySpan = this.lastSpan();
    this.usage = SET_USAGE[key];
    let set: SetValue;
    switch (key) {
      case 'kernel':
        set = { key, value: this.release(A.kernel) };
        break;
      case 'zero-page':
        set = { key, value: this.keyword(A.zeroPage, ON_OFF) === 'on' };
        break;
      case 'fault-around':
        set = {
          key,
          value: this.number(A.faultAround, 1, MAX_FAULT_AROUND, (n) =>
            n > MAX_FAULT_AROUND ? ': the window is at most one page table of 512 entries' : '',
          ),
        };
        break;
      case 'swap': {
        const w = this.take(A.swap);
        const t = this.text(w);
        if (t === 'unlimited') set = { key, value: 'unlimited' };
        else if (/^[0-9+\-.]/.test(t)) {
          set = { key, value: this.numberAt(this.start(w), this.end(w), A.swap, 0, MAX_SWAP_PAGES) };
        } else {
          this.fail(
            'syntax',
            this.start(w),
            this.end(w),
            `bad swap size${didYouMean(suggest(t, ['unlimited']))}`,
            `a number of pages 0..${MAX_SWAP_PAGES} or unlimited`,
            t,
          );
        }
        break;
      }
      case 'ksm-max-sharing':
        set = {
          key,
          value: this.number(A.ksmMaxSharing, MIN_KSM_MAX_SHARING, MAX_KSM_MAX_SHARING, (n) =>
            n < MIN_KSM_MAX_SHARING ? ': the kernel refuses values below 2' : '',
          ),
        };
        break;
      case 'readahead':
        set = { key, value: this.number(A.readahead, 0, MAX_READAHEAD) };
        break;
      case 'thp':
        set = { key, value: this.thpOrders() };
        break;
      case 'max-map-count':
        set = { key, value: this.number(A.maxMapCount, 0, MAX_MAX_MAP_COUNT) };
        break;
    }
    const valueSpan = this.lastSpan();
    this.endOfLine();
    return { step, span, text, op: 'set', set, keySpan, valueSpan };
  }

  /** `never`, or folio sizes joined by commas (`64K,2M`): the enabled orders as a bit mask. */
  private thpOrders(): number {
    const w = this.take(A.thp);
    const t = this.text(w);
    if (t === 'never') return 0;
    let orders = 0;
    let at = this.start(w);
    for (const size of t.split(',')) {
      const order = THP_ORDERS[size as ThpSize];
      if (order === undefined)
        this.fail(
          'syntax',
          at,
          at + Math.max(size.length, 1),
          `bad folio size ${quote(size)}${didYouMean(suggest(size, [...Object.keys(THP_ORDERS), 'never']))}`,
          A.thp.expected,
          size,
        );
      if (orders & (1 << order))
        this.fail(
          'semantic',
          at,
          at + size.length,
          `folio size ${size} is listed twice`,
          A.thp.expected,
          size,
        );
      orders |= 1 << order;
      at += size.length + 1;
    }
    return orders;
  }

  private processStatement(
    op: ProcessStatementName,
    step: number,
    span: Span,
    text: string,
    proc: string,
    procSpan: Span,
  ): Statement {
    this.usage = STATEMENT_USAGE[op];
    if (op === 'fork') {
      const child = this.name(A.child);
      const childSpan = this.lastSpan();
      this.endOfLine();
      return { step, span, text, proc, procSpan, op, child, childSpan };
    }
    if (op === 'exit') {
      this.endOfLine();
      return { step, span, text, proc, procSpan, op };
    }
    const region = this.name(A.region);
    const regionSpan = this.lastSpan();
    switch (op) {
      case 'mmap': {
        const pages = this.number(A.pages, 1, MAX_REGION_PAGES);
        const pagesSpan = this.lastSpan();
        const bw = this.take(A.backing);
        const bt = this.text(bw);
        const bs = this.start(bw);
        const be = this.end(bw);
        let backing: Backing;
        let fileSpan: Span | undefined;
        if (bt === 'anon') backing = { type: 'anon' };
        else if (bt.startsWith('file:')) {
          const file = bt.slice(5);
          if (file === '') {
            this.fail('syntax', bs, be, 'missing file name after "file:"', 'file:FILE', bt);
          }
          this.checkName(bs + 5, be, A.file);
          backing = { type: 'file', file };
          fileSpan = this.spanAt(bs + 5, be);
        } else if (bt === 'file') {
          this.fail('syntax', bs, be, 'a file mapping names its file', 'file:FILE, e.g. file:data', bt);
        } else if ((SHARINGS as readonly string[]).includes(bt)) {
          this.fail(
            'syntax',
            bs,
            be,
            this.withUsage(`missing mapping kind before ${quote(bt)}`),
            A.backing.expected,
            bt,
          );
        } else {
          const s = suggest(bt.replace(/:.*/, ''), ['anon', 'file']);
          this.fail(
            'syntax',
            bs,
            be,
            `unknown mapping kind${didYouMean(s === 'file' ? 'file:FILE' : s)}`,
            A.backing.expected,
            bt,
          );
        }
        const sharing = this.keyword(A.sharing, SHARINGS);
        this.endOfLine();
        const st: StatementOf<'mmap'> = {
          step,
          span,
          text,
          proc,
          procSpan,
          region,
          regionSpan,
          op,
          pages,
          pagesSpan,
          backing,
          shared: sharing === 'shared',
        };
        if (fileSpan) st.fileSpan = fileSpan;
        return st;
      }
      case 'read':
      case 'write': {
        const w = this.take(A.pageOrRange);
        const max = MAX_REGION_PAGES - 1;
        const dots = this.rangeDots(w);
        const start = this.start(w);
        const end = this.end(w);
        const first =
          dots < 0 ? this.numberAt(start, end, A.page, 0, max) : this.numberAt(start, dots, A.first, 0, max);
        const last = dots < 0 ? first : this.numberAt(dots + 2, end, A.last, 0, max);
        if (first > last) {
          this.fail(
            'semantic',
            start,
            end,
            `page range goes backwards: first page ${first} is after last page ${last}`,
            `FIRST <= LAST, e.g. "${last}..${first}"`,
            this.text(w),
          );
        }
        const pageSpan = this.span(w);
        const more = this.pos < this.count;
        if (op === 'read' && more && isNameAt(this.src, this.start(this.pos), this.end(this.pos))) {
          const lastEnd = this.end(this.count - 1);
          this.fail(
            'syntax',
            this.start(this.pos),
            lastEnd,
            this.withUsage('read takes no VALUE (only write does)'),
            'end of line',
            this.src.slice(this.start(this.pos), lastEnd),
          );
        }
        if (op === 'write' && more) {
          const value = this.name(A.value);
          const valueSpan = this.lastSpan();
          this.endOfLine();
          return {
            step,
            span,
            text,
            proc,
            procSpan,
            region,
            regionSpan,
            op,
            first,
            last,
            pageSpan,
            value,
            valueSpan,
          };
        }
        this.endOfLine();
        return { step, span, text, proc, procSpan, region, regionSpan, op, first, last, pageSpan };
      }
      case 'munmap': {
        if (this.pos >= this.count) return { step, span, text, proc, procSpan, region, regionSpan, op };
        const page = this.page();
        const pageSpan = this.lastSpan();
        const count = this.number(A.count, 1, MAX_REGION_PAGES);
        const countSpan = this.lastSpan();
        this.endOfLine();
        return {
          step,
          span,
          text,
          proc,
          procSpan,
          region,
          regionSpan,
          op,
          range: { page, count, pageSpan, countSpan },
        };
      }
      case 'mprotect': {
        const page = this.page();
        const pageSpan = this.lastSpan();
        const count = this.number(A.count, 1, MAX_REGION_PAGES);
        const countSpan = this.lastSpan();
        const prot = this.keyword(A.prot, PROTS);
        const protSpan = this.lastSpan();
        this.endOfLine();
        return {
          step,
          span,
          text,
          proc,
          procSpan,
          region,
          regionSpan,
          op,
          page,
          count,
          prot,
          pageSpan,
          countSpan,
          protSpan,
        };
      }
      case 'mremap': {
        const w = this.take(A.mremap);
        const t = this.text(w);
        if (t === 'move') {
          this.endOfLine();
          return { step, span, text, proc, procSpan, region, regionSpan, op: 'mremap-move' };
        }
        if (!/^[0-9+\-.]/.test(t)) {
          this.fail(
            'syntax',
            this.start(w),
            this.end(w),
            `bad ${A.mremap.label}${didYouMean(suggest(t, ['move']))}`,
            `a number of pages 1..${MAX_REGION_PAGES} or move`,
            t,
          );
        }
        const pages = this.numberAt(this.start(w), this.end(w), A.mremap, 1, MAX_REGION_PAGES);
        this.endOfLine();
        return { step, span, text, proc, procSpan, region, regionSpan, op, pages, pagesSpan: this.span(w) };
      }
      case 'mlock':
      case 'munlock':
        this.endOfLine();
        return { step, span, text, proc, procSpan, region, regionSpan, op };
      case 'madvise': {
        const advice = this.keyword(A.advice, ADVICES);
        const adviceSpan = this.lastSpan();
        this.endOfLine();
        return { step, span, text, proc, procSpan, region, regionSpan, op, advice, adviceSpan };
      }
      case 'unmap': {
        const page = this.page();
        const pageSpan = this.lastSpan();
        const flags: TtuFlagName[] = [];
        const flagSpans: Span[] = [];
        while (this.pos < this.count) {
          const w = this.take(A.flag);
          const t = this.text(w);
          if (!(TTU_FLAG_NAMES as readonly string[]).includes(t)) {
            const s = suggest(t, TTU_FLAG_NAMES) ?? suggest(`TTU_${t}`, TTU_FLAG_NAMES);
            this.fail(
              'syntax',
              this.start(w),
              this.end(w),
              `unknown unmap flag${didYouMean(s)}`,
              `a flag of enum ttu_flags (of some release): ${oneOf(TTU_FLAG_NAMES)}`,
              t,
            );
          }
          const flag = t as TtuFlagName;
          if (flags.includes(flag)) {
            this.fail(
              'semantic',
              this.start(w),
              this.end(w),
              'unmap flag given twice',
              'each flag at most once',
              t,
            );
          }
          flags.push(flag);
          flagSpans.push(this.span(w));
        }
        return { step, span, text, proc, procSpan, region, regionSpan, op, page, pageSpan, flags, flagSpans };
      }
      default: {
        const page = this.page();
        const pageSpan = this.lastSpan();
        this.endOfLine();
        return { step, span, text, proc, procSpan, region, regionSpan, op, page, pageSpan };
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Entry points

/** The word boundaries of the line being parsed: one buffer for every line. */
const lineWords: WordBounds = { count: 0, start: [], end: [] };

/**
 * Parse one source line. Returns null for a blank or comment-only line; throws a ScenarioError at
 * the first problem otherwise. `line` is the 1-based line number used in spans and errors, `step`
 * the 1-based statement number this line gets if it is a statement.
 */
export function parseLine(text: string, line: number, step: number): Statement | null {
  scanWords(text, lineWords);
  if (lineWords.count === 0) return null;
  return new LineParser(text, line, lineWords).parse(step);
}

/**
 * Parse lazily, statement by statement: a runner can execute the statements before a bad line;
 * the ScenarioError is thrown when the iteration reaches that line.
 */
export function* iterateScenario(text: string): Generator<Statement, void, undefined> {
  const lines = new LineCursor(text);
  let step = 0;
  let line = 0;
  for (let src = lines.next(); src !== undefined; src = lines.next()) {
    const st = parseLine(src, ++line, step + 1);
    if (st !== null) {
      step++;
      yield st;
    }
  }
}

/** Parse a whole scenario; throws a ScenarioError for the first bad line. */
export function parseScenario(text: string): Statement[] {
  return [...iterateScenario(text)];
}

// ---------------------------------------------------------------------------------------------
// Printer

type Stripped = 'step' | 'span' | 'text' | 'flagSpans' | `${string}Span`;
/** A statement's data without positions: spans, `step` and `text` removed (also inside `range`). */
export type Unspanned<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T as K extends Stripped ? never : K]: Unspanned<T[K]> }
    : T;
/** What `formatStatement` needs: a Statement, or one built by hand without spans. */
export type StatementData = Unspanned<Statement>;

function formatSetValue(set: SetValue): string {
  switch (set.key) {
    case 'kernel':
      return set.value;
    case 'zero-page':
      return set.value ? 'on' : 'off';
    default:
      return String(set.value);
  }
}

/**
 * The canonical source text of a statement: single spaces, `P:` attached to the name, a range only
 * when FIRST < LAST, no comment. Parsing the result gives back the same statement (spans aside).
 * Names are not checked: a statement built by hand with a bad name prints a line that does not parse.
 */
export function formatStatement(st: StatementData): string {
  switch (st.op) {
    case 'set':
      return `set ${st.set.key} ${formatSetValue(st.set)}`;
    case 'spawn':
      return `spawn ${st.proc}`;
    case 'ksm':
    case 'observe':
      return st.op;
  }
  const p = `${st.proc}:`;
  switch (st.op) {
    case 'fork':
      return `${p} fork ${st.child}`;
    case 'exit':
      return `${p} exit`;
    case 'mmap': {
      const backing = st.backing.type === 'anon' ? 'anon' : `file:${st.backing.file}`;
      return `${p} mmap ${st.region} ${st.pages} ${backing} ${st.shared ? 'shared' : 'private'}`;
    }
    case 'read':
    case 'write': {
      const page = st.first === st.last ? `${st.first}` : `${st.first}..${st.last}`;
      const value = st.op === 'write' && st.value !== undefined ? ` ${st.value}` : '';
      return `${p} ${st.op} ${st.region} ${page}${value}`;
    }
    case 'munmap':
      return `${p} munmap ${st.region}${st.range ? ` ${st.range.page} ${st.range.count}` : ''}`;
    case 'mprotect':
      return `${p} mprotect ${st.region} ${st.page} ${st.count} ${st.prot}`;
    case 'mremap':
      return `${p} mremap ${st.region} ${st.pages}`;
    case 'mremap-move':
      return `${p} mremap ${st.region} move`;
    case 'mlock':
    case 'munlock':
      return `${p} ${st.op} ${st.region}`;
    case 'madvise':
      return `${p} madvise ${st.region} ${st.advice}`;
    case 'unmap':
      return [`${p} unmap ${st.region} ${st.page}`, ...st.flags].join(' ');
    default:
      return `${p} ${st.op} ${st.region} ${st.page}`;
  }
}
