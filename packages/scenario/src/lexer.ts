/** A whitespace-separated word of a scenario line; `start`/`end` are 0-based string offsets, `end` exclusive. */
export interface Word {
  text: string;
  start: number;
  end: number;
}

function isSpace(c: string): boolean {
  // Spaces and tabs separate words; a carriage return counts as space, so CRLF files read the same.
  return c === ' ' || c === '\t' || c === '\r';
}

/**
 * Split one source line into words. A `#` anywhere starts a comment that runs to the end of the
 * line (it also ends the word it is attached to: `x#y` is the word `x` and a comment).
 */
export function lexLine(text: string): Word[] {
  const words: Word[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text[i];
    if (c === '#') break;
    if (isSpace(c)) {
      i++;
      continue;
    }
    const start = i;
    while (i < n && !isSpace(text[i]) && text[i] !== '#') i++;
    words.push({ text: text.slice(start, i), start, end: i });
  }
  return words;
}
