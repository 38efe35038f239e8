/** A whitespace-separated word of a scenario line; `start`/`end` are 0-based string offsets, `end` exclusive. */
export interface Word {
  text: string;
  start: number;
  end: number;
}

/**
 * The word boundaries of one line, without the words' text: `start[i]`/`end[i]` for i < `count`.
 * The parser reuses one of these for every line, so lexing a line allocates nothing.
 */
export interface WordBounds {
  count: number;
  start: number[];
  end: number[];
}

/**
 * The longest name (process, region, file, value) a scenario may use. Names are not a kernel
 * concept; the limit is the kernel-check helper's (packages/verify/kernel-check/rmaplab-kcheck.c
 * keeps every name in a `char [MAXNAME]` of 64 bytes, NUL included), so a scenario `run` accepts is
 * one `verify` can run on the kernel too.
 */
export const MAX_NAME_LENGTH = 63;

/**
 * The most scenario text rmaplab reads (64 MiB of UTF-8): generous for any hand-written or
 * generated scenario, small enough that reading /dev/zero stops with an error instead of filling
 * the memory.
 */
export const MAX_SCENARIO_BYTES = 64 * 1024 * 1024;

const SPACE = 32;
const TAB = 9;
// Line ends never reach a line (sourceLines cuts there); a CR in a line handed to parseLine directly
// is a blank, so a line cut at LF alone still reads the same.
const CR = 13;
const LF = 10;
const HASH = 35;
const BOM = 0xfeff;

/**
 * The lines of a source text, one at a time: LF, CR and CRLF each end a line (so Unix, Windows and
 * old Mac files read alike, with the same line numbers); a leading byte-order mark is dropped. A
 * long text never exists as an array of lines.
 */
export class LineCursor {
  private readonly src: string;
  private at = 0;
  // The next LF and the next CR at or after `at`, each searched for again only once passed: a file
  // without CRs costs one search for them.
  private lf = -1;
  private cr = -1;

  constructor(text: string) {
    this.src = text.charCodeAt(0) === BOM ? text.slice(1) : text;
  }

  /** The next line, without its line end; undefined after the last (a text ending in LF ends with ''). */
  next(): string | undefined {
    const { src, at } = this;
    const n = src.length;
    if (at > n) return undefined;
    if (this.lf < at) this.lf = indexOr(src, '\n', at, n);
    if (this.cr < at) this.cr = indexOr(src, '\r', at, n);
    const end = Math.min(this.lf, this.cr);
    this.at = end === this.cr && src.charCodeAt(end + 1) === LF ? end + 2 : end + 1;
    return src.slice(at, end);
  }
}

function indexOr(src: string, c: string, from: number, none: number): number {
  const i = src.indexOf(c, from);
  return i < 0 ? none : i;
}

/** Every line of a source text (see LineCursor). */
export function* sourceLines(text: string): Generator<string, void, undefined> {
  const lines = new LineCursor(text);
  for (let l = lines.next(); l !== undefined; l = lines.next()) yield l;
}

function isSpace(c: number): boolean {
  return c === SPACE || c === TAB || c === CR;
}

/**
 * Find the words of one source line, overwriting `out`. A `#` anywhere starts a comment that runs to
 * the end of the line (it also ends the word it is attached to: `x#y` is the word `x` and a comment).
 */
export function scanWords(text: string, out: WordBounds): void {
  const n = text.length;
  let count = 0;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === HASH) break;
    if (isSpace(c)) {
      i++;
      continue;
    }
    const start = i;
    for (i++; i < n; i++) {
      const d = text.charCodeAt(i);
      if (isSpace(d) || d === HASH) break;
    }
    out.start[count] = start;
    out.end[count] = i;
    count++;
  }
  out.count = count;
}

/** Split one source line into words (see `scanWords` for the rules). */
export function lexLine(text: string): Word[] {
  const b: WordBounds = { count: 0, start: [], end: [] };
  scanWords(text, b);
  const words: Word[] = [];
  for (let i = 0; i < b.count; i++) {
    words.push({ text: text.slice(b.start[i], b.end[i]), start: b.start[i], end: b.end[i] });
  }
  return words;
}
