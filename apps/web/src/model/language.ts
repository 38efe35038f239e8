/**
 * Syntax highlighting of the scenario language for CodeMirror 6: a stream tokenizer over the same
 * word classes as the parser (statement names, `P:` prefixes, numbers and ranges, option keys, TTU
 * flags, comments). Errors are not this file's business: the parser reports them, the editor shows
 * them as diagnostics.
 */
import { StreamLanguage, type StringStream } from '@codemirror/language';
import {
  ADVICES,
  GLOBAL_STATEMENTS,
  ON_OFF,
  PROCESS_STATEMENTS,
  PROTS,
  SET_KEYS,
  SHARINGS,
  TTU_FLAG_NAMES,
} from '@rmaplab/scenario';

const STATEMENTS: ReadonlySet<string> = new Set([...GLOBAL_STATEMENTS, ...PROCESS_STATEMENTS]);

/**
 * Argument keywords. `anon`, `move` and `unlimited` are single words the parser compares against
 * inline, so no list of it holds them.
 */
const ATOMS: ReadonlySet<string> = new Set([
  ...SET_KEYS,
  ...ON_OFF,
  ...PROTS,
  ...ADVICES,
  ...SHARINGS,
  ...TTU_FLAG_NAMES,
  'anon',
  'move',
  'unlimited',
]);

interface LineState {
  /** Words seen on the current line, so the first word can be told from arguments. */
  word: number;
}

/** Token class of one word, given its place on the line. */
export function classify(word: string, index: number): string | null {
  if (index === 0 && /^[A-Za-z][A-Za-z0-9_.-]*:$/.test(word)) return 'labelName';
  if ((index === 0 || index === 1) && STATEMENTS.has(word)) return 'keyword';
  if (/^\d+(\.\.\d+)?$/.test(word) || /^\d+\.\d+$/.test(word)) return 'number';
  if (word.startsWith('file:')) return 'string';
  if (ATOMS.has(word)) return 'atom';
  return 'variableName';
}

export const scenarioLanguage = StreamLanguage.define<LineState>({
  name: 'rmap-scenario',
  startState: () => ({ word: 0 }),
  token(stream: StringStream, state: LineState): string | null {
    if (stream.sol()) state.word = 0;
    if (stream.eatSpace()) return null;
    if (stream.peek() === '#') {
      stream.skipToEnd();
      return 'comment';
    }
    stream.eatWhile(/[^\s#]/);
    const cls = classify(stream.current(), state.word);
    state.word++;
    return cls;
  },
  languageData: { commentTokens: { line: '#' } },
});
