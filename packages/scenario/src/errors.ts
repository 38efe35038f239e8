/** Where in the pipeline an error was detected. */
export type ScenarioErrorKind = 'syntax' | 'semantic' | 'limit' | 'kernel';

export interface ScenarioErrorOptions {
  /** 1-based line. */
  line: number;
  /** 1-based column where the offending text starts. */
  column: number;
  /** Exclusive end column; defaults to `column + 1`. */
  endColumn?: number;
  /** What went wrong, one short sentence without a final period. */
  message: string;
  /** What would have been accepted here, in words (`a page count`, `one of on or off`). */
  expected?: string;
  /** The offending source text, verbatim; the empty string means "end of line" (a missing argument). */
  found?: string;
  kind: ScenarioErrorKind;
}

/**
 * An error in a scenario, at a precise place: a parse error (syntax / semantic / limit) or, from the
 * runner, a statement the simulated kernel refuses (kernel). `format()` gives the one-line report.
 */
export class ScenarioError extends Error {
  readonly line: number;
  readonly column: number;
  readonly endColumn: number;
  readonly expected?: string;
  readonly found?: string;
  readonly kind: ScenarioErrorKind;

  constructor(opts: ScenarioErrorOptions) {
    super(opts.message);
    this.name = 'ScenarioError';
    this.line = opts.line;
    this.column = opts.column;
    this.endColumn =
      opts.endColumn !== undefined && opts.endColumn > opts.column ? opts.endColumn : opts.column + 1;
    if (opts.expected !== undefined) this.expected = opts.expected;
    if (opts.found !== undefined) this.found = opts.found;
    this.kind = opts.kind;
  }

  /**
   * One readable line, no stack:
   * `file:LINE:COL: error: MESSAGE (expected X, found "Y")` — the file part is left out when not given,
   * and so is each half of the parenthesis that has nothing to say.
   */
  format(file?: string): string {
    const where = `${file !== undefined && file !== '' ? `${file}:` : ''}${this.line}:${this.column}`;
    const extra: string[] = [];
    if (this.expected !== undefined) extra.push(`expected ${this.expected}`);
    if (this.found !== undefined)
      extra.push(this.found === '' ? 'found end of line' : `found ${quote(this.found)}`);
    return `${where}: error: ${this.message}${extra.length > 0 ? ` (${extra.join(', ')})` : ''}`;
  }
}

/**
 * Most characters of source text a message quotes: an error stays one readable line even when the
 * offending word is a megabyte long (the column says where it starts).
 */
export const MAX_QUOTED = 64;

/**
 * Quote source text for a message: JSON string syntax, so control characters stay visible; text
 * longer than MAX_QUOTED is cut there (never inside a surrogate pair) and ends in `…`.
 */
export function quote(text: string): string {
  if (text.length <= MAX_QUOTED) return JSON.stringify(text);
  const cut = isLowSurrogate(text.charCodeAt(MAX_QUOTED)) ? MAX_QUOTED - 1 : MAX_QUOTED;
  return `${JSON.stringify(text.slice(0, cut)).slice(0, -1)}…"`;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}
