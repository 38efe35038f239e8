/**
 * Syntax highlighting of the scenario language for CodeMirror 6: a stream tokenizer over the same
 * word classes as the parser (statement names, `P:` prefixes, numbers and ranges, option keys, TTU
 * flags, comments). Errors are not this file's business: the parser reports them, the editor shows
 * them as diagnostics.
 */
import { StreamLanguage, type StringStream } from '@codemirror/language';

const STATEMENTS = new Set([
  'spawn',
  'set',
  'ksm',
  'observe',
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
]);

const ATOMS = new Set([
  'anon',
  'private',
  'shared',
  'none',
  'r',
  'rw',
  'move',
  'on',
  'off',
  'unlimited',
  'mergeable',
  'unmergeable',
  'dontneed',
  'pageout',
  'cold',
  'kernel',
  'zero-page',
  'fault-around',
  'swap',
  'ksm-max-sharing',
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
  if (/^TTU_[A-Z_]+$/.test(word)) return 'atom';
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
