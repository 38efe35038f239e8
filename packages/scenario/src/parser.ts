/**
 * The scenario parser: one statement a line, the first error reported precisely (line, column, what
 * was expected, what was found). See docs/language.md for the language and /work/shared/scenario-language.md
 * for the contract.
 */
import {
  type Advice,
  type Backing,
  MAX_FAULT_AROUND,
  MAX_KSM_MAX_SHARING,
  MAX_REGION_PAGES,
  MAX_SWAP_PAGES,
  MIN_KSM_MAX_SHARING,
  type Prot,
  type SetKey,
  type SetValue,
  type Span,
  type Statement,
  TTU_FLAG_NAMES,
  type TtuFlagName,
} from './ast.js';
import { quote, ScenarioError, type ScenarioErrorKind } from './errors.js';
import { lexLine, type Word } from './lexer.js';

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
  madvise: 'P: madvise REGION mergeable|unmergeable|dontneed|pageout|cold',
  walk: 'P: walk REGION PAGE',
  unmap: 'P: unmap REGION PAGE [FLAG...]',
  reclaim: 'P: reclaim REGION PAGE',
  referenced: 'P: referenced REGION PAGE',
  migrate: 'P: migrate REGION PAGE',
  mkclean: 'P: mkclean REGION PAGE',
};

export const SET_KEYS: readonly SetKey[] = ['kernel', 'zero-page', 'fault-around', 'swap', 'ksm-max-sharing'];
const SET_USAGE: Record<SetKey, string> = {
  kernel: 'set kernel 4.9|6.12',
  'zero-page': 'set zero-page on|off',
  'fault-around': `set fault-around PAGES (1..${MAX_FAULT_AROUND})`,
  swap: 'set swap PAGES|unlimited',
  'ksm-max-sharing': `set ksm-max-sharing N (${MIN_KSM_MAX_SHARING}..${MAX_KSM_MAX_SHARING})`,
};
const KERNELS = ['4.9', '6.12'] as const;
const ON_OFF = ['on', 'off'] as const;
const PROTS: readonly Prot[] = ['none', 'r', 'rw'];
const ADVICES: readonly Advice[] = ['mergeable', 'unmergeable', 'dontneed', 'pageout', 'cold'];
const SHARINGS = ['private', 'shared'] as const;

const NAME_RE = /^[A-Za-z][A-Za-z0-9_.-]*$/;
const NAME_EXPECTED = 'a name matching [A-Za-z][A-Za-z0-9_.-]*';
const DECIMAL_RE = /^[0-9]+$/;

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
  kernel: { label: 'kernel version', expected: oneOf(KERNELS) },
  zeroPage: { label: 'zero-page setting', expected: oneOf(ON_OFF) },
  faultAround: { label: 'fault-around window', expected: 'a number of pages' },
  swap: { label: 'swap size', expected: 'a number of pages or unlimited' },
  ksmMaxSharing: { label: 'ksm-max-sharing value', expected: 'a number' },
} satisfies Record<string, Arg>;

/** Parses the words of one line; every failure throws a ScenarioError at the offending text. */
class LineParser {
  private pos = 0;
  private usage = '';

  constructor(
    private readonly src: string,
    private readonly line: number,
    private readonly words: Word[],
  ) {}

  // --- spans and errors --------------------------------------------------------------------

  private spanAt(start: number, end: number): Span {
    return { line: this.line, column: start + 1, endColumn: end + 1 };
  }

  private span(w: Word): Span {
    return this.spanAt(w.start, w.end);
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

  private peek(): Word | undefined {
    return this.words[this.pos];
  }

  /** The next word, or a "missing ..." error placed just after the previous word. */
  private take(arg: Arg): Word {
    const w = this.words[this.pos];
    if (w === undefined) {
      const at = this.words[this.pos - 1]?.end ?? 0;
      this.fail('syntax', at, at + 1, this.withUsage(`missing ${arg.label}`), arg.expected, '');
    }
    this.pos++;
    return w;
  }

  private end(): void {
    const w = this.words[this.pos];
    if (w === undefined) return;
    const last = this.words[this.words.length - 1];
    const found = this.src.slice(w.start, last.end);
    const prev = this.words[this.pos - 1];
    this.fail(
      'syntax',
      w.start,
      last.end,
      this.withUsage(`unexpected extra argument after ${quote(prev.text)}`),
      'end of line',
      found,
    );
  }

  // --- values ----------------------------------------------------------------------------------

  private checkName(text: string, start: number, arg: Arg): void {
    if (NAME_RE.test(text)) return;
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

  private name(arg: Arg): [string, Span] {
    const w = this.take(arg);
    this.checkName(w.text, w.start, arg);
    return [w.text, this.span(w)];
  }

  /** A decimal number in `text` (which starts at offset `start` of the line), within min..max. */
  private numberAt(
    text: string,
    start: number,
    arg: Arg,
    min: number,
    max: number,
    limitWhy: (value: number) => string = () => '',
  ): number {
    const end = start + text.length;
    if (!DECIMAL_RE.test(text)) {
      let why = 'not a decimal number';
      if (/^-/.test(text)) why = 'negative numbers are not allowed';
      else if (/^\+/.test(text)) why = 'write numbers without a sign';
      else if (/^0[xX]/.test(text)) why = 'hexadecimal is not allowed, numbers are decimal';
      else if (/^0[bBoO]/.test(text)) why = 'binary and octal are not allowed, numbers are decimal';
      else if (/^[0-9]+(\.[0-9]*)?[eE][+-]?[0-9]*$/.test(text)) why = 'exponents are not allowed';
      else if (/^[0-9]*\.[0-9]+$|^[0-9]+\.$/.test(text)) why = 'not a whole number';
      this.fail('syntax', start, end, `bad ${arg.label}: ${why}`, `a decimal number ${min}..${max}`, text);
    }
    if (text.length > 1 && text[0] === '0') {
      const canonical = text.replace(/^0+(?=.)/, '');
      this.fail(
        'syntax',
        start,
        end,
        `bad ${arg.label}: leading zeros are not allowed, write ${canonical}`,
        `a decimal number ${min}..${max}`,
        text,
      );
    }
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      this.fail('limit', start, end, `${arg.label} out of range${limitWhy(value)}`, `${min}..${max}`, text);
    }
    return value;
  }

  private number(
    arg: Arg,
    min: number,
    max: number,
    limitWhy: (value: number) => string = () => '',
  ): [number, Span] {
    const w = this.take(arg);
    return [this.numberAt(w.text, w.start, arg, min, max, limitWhy), this.span(w)];
  }

  private keyword<T extends string>(arg: Arg, options: readonly T[]): [T, Span] {
    const w = this.take(arg);
    return [this.keywordOf(w, arg, options), this.span(w)];
  }

  private keywordOf<T extends string>(w: Word, arg: Arg, options: readonly T[]): T {
    if ((options as readonly string[]).includes(w.text)) return w.text as T;
    this.fail(
      'syntax',
      w.start,
      w.end,
      `unknown ${arg.label}${didYouMean(suggest(w.text, options))}`,
      oneOf(options),
      w.text,
    );
  }

  /** A single page index; a FIRST..LAST range is refused (only read and write take one). */
  private page(arg: Arg = A.page): [number, Span] {
    const w = this.take(arg);
    if (w.text.includes('..')) {
      this.fail(
        'semantic',
        w.start,
        w.end,
        this.withUsage('a page range FIRST..LAST is only allowed in read and write'),
        'a single page index',
        w.text,
      );
    }
    return [this.numberAt(w.text, w.start, arg, 0, MAX_REGION_PAGES - 1), this.span(w)];
  }

  private pageOrRange(): [number, number, Span] {
    const w = this.take(A.pageOrRange);
    const max = MAX_REGION_PAGES - 1;
    const dots = w.text.indexOf('..');
    if (dots < 0) {
      const page = this.numberAt(w.text, w.start, A.page, 0, max);
      return [page, page, this.span(w)];
    }
    const a = w.text.slice(0, dots);
    const b = w.text.slice(dots + 2);
    const example = 'FIRST..LAST, e.g. "0..3"';
    if (a === '') this.fail('syntax', w.start, w.end, 'missing first page of the range', example, w.text);
    if (b === '') this.fail('syntax', w.start, w.end, 'missing last page of the range', example, w.text);
    if (b.includes('..')) {
      this.fail('syntax', w.start, w.end, 'a page range has exactly one ".."', example, w.text);
    }
    const first = this.numberAt(a, w.start, A.first, 0, max);
    const last = this.numberAt(b, w.start + dots + 2, A.last, 0, max);
    if (first > last) {
      this.fail(
        'semantic',
        w.start,
        w.end,
        `page range goes backwards: first page ${first} is after last page ${last}`,
        `FIRST <= LAST, e.g. "${last}..${first}"`,
        w.text,
      );
    }
    return [first, last, this.span(w)];
  }

  // --- statements ------------------------------------------------------------------------------

  parse(step: number): Statement {
    const words = this.words;
    const src = this.src;
    const base = {
      step,
      span: this.spanAt(words[0].start, words[words.length - 1].end),
      text: src.trim(),
    };
    const w0 = words[0];
    const colon = w0.text.indexOf(':');
    let prefix: { word: Word; proc: string; procSpan: Span } | undefined;
    if (colon === 0) {
      this.fail(
        'syntax',
        w0.start,
        w0.start + 1,
        'missing process name before ":"',
        'a process name, as in "A: mmap ..."',
        w0.text,
      );
    } else if (w0.text.endsWith(':')) {
      const proc = w0.text.slice(0, -1);
      this.checkName(proc, w0.start, A.proc);
      prefix = { word: w0, proc, procSpan: this.spanAt(w0.start, w0.end - 1) };
    } else if (colon > 0) {
      const head = w0.text.slice(0, colon + 1);
      this.fail(
        'syntax',
        w0.start + colon + 1,
        w0.end,
        `missing space after ${quote(head)}`,
        `a space between ${quote(head)} and the statement`,
        w0.text,
      );
    } else if (words[1]?.text.startsWith(':')) {
      this.fail(
        'syntax',
        w0.end,
        words[1].start + 1,
        `no space allowed between the process name and ":"; write ${quote(`${w0.text}:`)}`,
        quote(`${w0.text}:`),
        src.slice(w0.start, words[1].start + 1),
      );
    }

    this.pos = prefix ? 1 : 0;
    if (prefix) {
      const sw = this.take({
        label: `statement after ${quote(prefix.word.text)}`,
        expected: oneOf(PROCESS_STATEMENTS),
      });
      const op = sw.text;
      if ((PROCESS_STATEMENTS as readonly string[]).includes(op)) {
        return this.processStatement(op as (typeof PROCESS_STATEMENTS)[number], base, prefix);
      }
      if ((GLOBAL_STATEMENTS as readonly string[]).includes(op)) {
        this.fail(
          'syntax',
          prefix.word.start,
          prefix.word.end,
          `${quote(op)} takes no process prefix; usage: ${STATEMENT_USAGE[op as StatementName]}`,
          `${quote(op)} at the start of the line`,
          prefix.word.text,
        );
      }
      this.fail(
        'syntax',
        sw.start,
        sw.end,
        `unknown statement${didYouMean(suggest(op, PROCESS_STATEMENTS))}`,
        `a statement: ${oneOf(PROCESS_STATEMENTS)}`,
        op,
      );
    }

    const op = w0.text;
    this.pos = 1;
    switch (op) {
      case 'spawn': {
        this.usage = STATEMENT_USAGE.spawn;
        const [proc, procSpan] = this.name(A.proc);
        this.end();
        return { ...base, op: 'spawn', proc, procSpan };
      }
      case 'ksm':
      case 'observe':
        this.usage = STATEMENT_USAGE[op];
        this.end();
        return { ...base, op };
      case 'set':
        return this.setStatement(base);
    }
    if ((PROCESS_STATEMENTS as readonly string[]).includes(op)) {
      this.fail(
        'syntax',
        w0.start,
        w0.end,
        `${quote(op)} needs a process prefix "P:"; usage: ${STATEMENT_USAGE[op as StatementName]}`,
        `a process name and ":" before ${quote(op)}`,
        op,
      );
    }
    const w1 = words[1];
    if (w1 !== undefined && (PROCESS_STATEMENTS as readonly string[]).includes(w1.text) && NAME_RE.test(op)) {
      this.fail(
        'syntax',
        w0.start,
        w0.end,
        `missing ":" after process name; write ${quote(`${op}: ${w1.text}`)}`,
        quote(`${op}:`),
        op,
      );
    }
    const s = suggest(op, [...GLOBAL_STATEMENTS, ...PROCESS_STATEMENTS]);
    const hint = s !== undefined && (PROCESS_STATEMENTS as readonly string[]).includes(s) ? `P: ${s}` : s;
    this.fail(
      'syntax',
      w0.start,
      w0.end,
      `unknown statement${didYouMean(hint)}`,
      `${oneOf([...GLOBAL_STATEMENTS])}, or "P:" and a process statement`,
      op,
    );
  }

  private setStatement(base: { step: number; span: Span; text: string }): Statement {
    this.usage = STATEMENT_USAGE.set;
    const [key, keySpan] = this.keyword(A.setKey, SET_KEYS);
    this.usage = SET_USAGE[key];
    let set: SetValue;
    let valueSpan: Span;
    switch (key) {
      case 'kernel': {
        const [v, sp] = this.keyword(A.kernel, KERNELS);
        set = { key, value: v };
        valueSpan = sp;
        break;
      }
      case 'zero-page': {
        const [v, sp] = this.keyword(A.zeroPage, ON_OFF);
        set = { key, value: v === 'on' };
        valueSpan = sp;
        break;
      }
      case 'fault-around': {
        const [v, sp] = this.number(A.faultAround, 1, MAX_FAULT_AROUND, (n) =>
          n > MAX_FAULT_AROUND ? ': the window is at most one page table of 512 entries' : '',
        );
        set = { key, value: v };
        valueSpan = sp;
        break;
      }
      case 'swap': {
        const w = this.take(A.swap);
        valueSpan = this.span(w);
        if (w.text === 'unlimited') set = { key, value: 'unlimited' };
        else if (/^[0-9+\-.]/.test(w.text)) {
          set = { key, value: this.numberAt(w.text, w.start, A.swap, 0, MAX_SWAP_PAGES) };
        } else {
          this.fail(
            'syntax',
            w.start,
            w.end,
            `bad swap size${didYouMean(suggest(w.text, ['unlimited']))}`,
            `a number of pages 0..${MAX_SWAP_PAGES} or unlimited`,
            w.text,
          );
        }
        break;
      }
      case 'ksm-max-sharing': {
        const [v, sp] = this.number(A.ksmMaxSharing, MIN_KSM_MAX_SHARING, MAX_KSM_MAX_SHARING, (n) =>
          n < MIN_KSM_MAX_SHARING ? ': the kernel refuses values below 2' : '',
        );
        set = { key, value: v };
        valueSpan = sp;
        break;
      }
    }
    this.end();
    return { ...base, op: 'set', set, keySpan, valueSpan };
  }

  private processStatement(
    op: (typeof PROCESS_STATEMENTS)[number],
    base: { step: number; span: Span; text: string },
    prefix: { proc: string; procSpan: Span },
  ): Statement {
    this.usage = STATEMENT_USAGE[op];
    const on = { ...base, proc: prefix.proc, procSpan: prefix.procSpan };
    if (op === 'fork') {
      const [child, childSpan] = this.name(A.child);
      this.end();
      return { ...on, op, child, childSpan };
    }
    if (op === 'exit') {
      this.end();
      return { ...on, op };
    }
    const [region, regionSpan] = this.name(A.region);
    const r = { ...on, region, regionSpan };
    switch (op) {
      case 'mmap': {
        const [pages, pagesSpan] = this.number(A.pages, 1, MAX_REGION_PAGES);
        const bw = this.take(A.backing);
        let backing: Backing;
        let fileSpan: Span | undefined;
        if (bw.text === 'anon') backing = { type: 'anon' };
        else if (bw.text.startsWith('file:')) {
          const file = bw.text.slice(5);
          if (file === '') {
            this.fail('syntax', bw.start, bw.end, 'missing file name after "file:"', 'file:FILE', bw.text);
          }
          this.checkName(file, bw.start + 5, A.file);
          backing = { type: 'file', file };
          fileSpan = this.spanAt(bw.start + 5, bw.end);
        } else if (bw.text === 'file') {
          this.fail(
            'syntax',
            bw.start,
            bw.end,
            'a file mapping names its file',
            'file:FILE, e.g. file:data',
            bw.text,
          );
        } else if ((SHARINGS as readonly string[]).includes(bw.text)) {
          this.fail(
            'syntax',
            bw.start,
            bw.end,
            this.withUsage(`missing mapping kind before ${quote(bw.text)}`),
            A.backing.expected,
            bw.text,
          );
        } else {
          const s = suggest(bw.text.replace(/:.*/, ''), ['anon', 'file']);
          this.fail(
            'syntax',
            bw.start,
            bw.end,
            `unknown mapping kind${didYouMean(s === 'file' ? 'file:FILE' : s)}`,
            A.backing.expected,
            bw.text,
          );
        }
        const [sharing] = this.keyword(A.sharing, SHARINGS);
        this.end();
        return {
          ...r,
          op,
          pages,
          pagesSpan,
          backing,
          shared: sharing === 'shared',
          ...(fileSpan ? { fileSpan } : {}),
        };
      }
      case 'read':
      case 'write': {
        const [first, last, pageSpan] = this.pageOrRange();
        let value: [string, Span] | undefined;
        const more = this.peek();
        if (op === 'read' && more !== undefined && NAME_RE.test(more.text)) {
          this.fail(
            'syntax',
            more.start,
            this.words[this.words.length - 1].end,
            this.withUsage('read takes no VALUE (only write does)'),
            'end of line',
            this.src.slice(more.start, this.words[this.words.length - 1].end),
          );
        }
        if (op === 'write' && more !== undefined) value = this.name(A.value);
        this.end();
        return {
          ...r,
          op,
          first,
          last,
          pageSpan,
          ...(value ? { value: value[0], valueSpan: value[1] } : {}),
        };
      }
      case 'munmap': {
        if (this.peek() === undefined) return { ...r, op };
        const [page, pageSpan] = this.page();
        const [count, countSpan] = this.number(A.count, 1, MAX_REGION_PAGES);
        this.end();
        return { ...r, op, range: { page, count, pageSpan, countSpan } };
      }
      case 'mprotect': {
        const [page, pageSpan] = this.page();
        const [count, countSpan] = this.number(A.count, 1, MAX_REGION_PAGES);
        const [prot, protSpan] = this.keyword(A.prot, PROTS);
        this.end();
        return { ...r, op, page, count, prot, pageSpan, countSpan, protSpan };
      }
      case 'mremap': {
        const w = this.take(A.mremap);
        if (w.text === 'move') {
          this.end();
          return { ...r, op: 'mremap-move' };
        }
        if (!/^[0-9+\-.]/.test(w.text)) {
          this.fail(
            'syntax',
            w.start,
            w.end,
            `bad ${A.mremap.label}${didYouMean(suggest(w.text, ['move']))}`,
            `a number of pages 1..${MAX_REGION_PAGES} or move`,
            w.text,
          );
        }
        const pages = this.numberAt(w.text, w.start, A.mremap, 1, MAX_REGION_PAGES);
        this.end();
        return { ...r, op, pages, pagesSpan: this.span(w) };
      }
      case 'mlock':
      case 'munlock':
        this.end();
        return { ...r, op };
      case 'madvise': {
        const [advice, adviceSpan] = this.keyword(A.advice, ADVICES);
        this.end();
        return { ...r, op, advice, adviceSpan };
      }
      case 'unmap': {
        const [page, pageSpan] = this.page();
        const flags: TtuFlagName[] = [];
        const flagSpans: Span[] = [];
        for (let w = this.peek(); w !== undefined; w = this.peek()) {
          this.pos++;
          if (!(TTU_FLAG_NAMES as readonly string[]).includes(w.text)) {
            const s = suggest(w.text, TTU_FLAG_NAMES) ?? suggest(`TTU_${w.text}`, TTU_FLAG_NAMES);
            this.fail(
              'syntax',
              w.start,
              w.end,
              `unknown unmap flag${didYouMean(s)}`,
              `a flag of 4.9's enum ttu_flags: ${oneOf(TTU_FLAG_NAMES)}`,
              w.text,
            );
          }
          const flag = w.text as TtuFlagName;
          if (flags.includes(flag)) {
            this.fail('semantic', w.start, w.end, 'unmap flag given twice', 'each flag at most once', w.text);
          }
          flags.push(flag);
          flagSpans.push(this.span(w));
        }
        return { ...r, op, page, pageSpan, flags, flagSpans };
      }
      default: {
        const [page, pageSpan] = this.page();
        this.end();
        return { ...r, op, page, pageSpan };
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Entry points

/**
 * Parse one source line. Returns null for a blank or comment-only line; throws a ScenarioError at
 * the first problem otherwise. `line` is the 1-based line number used in spans and errors, `step`
 * the 1-based statement number this line gets if it is a statement.
 */
export function parseLine(text: string, line: number, step: number): Statement | null {
  const words = lexLine(text);
  if (words.length === 0) return null;
  return new LineParser(text, line, words).parse(step);
}

/** Split a source text into lines: `\n` or `\r\n` ends a line; a leading byte-order mark is dropped. */
export function splitLines(text: string): string[] {
  return text.replace(/^\uFEFF/, '').split('\n');
}

/**
 * Parse lazily, statement by statement: a runner can execute the statements before a bad line;
 * the ScenarioError is thrown when the iteration reaches that line.
 */
export function* iterateScenario(text: string): Generator<Statement, void, undefined> {
  const lines = splitLines(text);
  let step = 0;
  for (let i = 0; i < lines.length; i++) {
    const st = parseLine(lines[i], i + 1, step + 1);
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
