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

const SPACE = 32;
const TAB = 9;
// A carriage return counts as space, so CRLF files read the same.
const CR = 13;
const HASH = 35;

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
