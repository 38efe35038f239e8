// The code examples of a README, and how to run one as written: a TypeScript or JavaScript
// block is a whole program (its imports included), a shell block a script run with bash. Both
// the README-examples test (against the built workspace) and the packaging check (against the
// packages installed from their tarballs) run them this way.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Fence languages that are run, and as what. */
const RUNNABLE = /** @type {const} */ ({
  ts: 'ts',
  typescript: 'ts',
  js: 'js',
  javascript: 'js',
  sh: 'sh',
  bash: 'sh',
  shell: 'sh',
});

/**
 * @typedef {object} Example
 * @property {'ts' | 'js' | 'sh'} lang
 * @property {string} code
 * @property {number} line   the 1-based line of the opening fence
 * @property {string} [output] the exact standard output, when a ```text output block follows
 */

/**
 * The examples of a README: every ```ts/js/sh block, except one whose info string says
 * `listing` (an API signature list or commands for a clone of the repository, not a program).
 * A ```text output block after an example (prose may come between, no other code block) is that
 * example's exact standard output.
 * @param {string} markdown
 * @returns {Example[]}
 */
export function readmeExamples(markdown) {
  /** @type {Example[]} */
  const examples = [];
  const lines = markdown.split('\n');
  /** @type {Example | undefined} */
  let last;
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)(.*)$/.exec(lines[i]);
    if (!open) continue;
    const start = i;
    const body = [];
    while (++i < lines.length && !/^```\s*$/.test(lines[i])) body.push(lines[i]);
    if (i === lines.length) throw new Error(`line ${start + 1}: unclosed code block`);
    const code = `${body.join('\n')}\n`;
    const words = open[2].trim().split(/\s+/).filter(Boolean);
    const lang = /** @type {Record<string, Example['lang']>} */ (RUNNABLE)[open[1]];
    if (open[1] === 'text' && words.includes('output')) {
      if (!last) throw new Error(`line ${start + 1}: a text output block that follows no example`);
      last.output = code;
      last = undefined;
    } else if (lang && !words.includes('listing')) {
      last = { lang, code, line: start + 1 };
      examples.push(last);
    } else last = undefined;
  }
  return examples;
}

/** tsx's loader, from this repository (a project that installed the packages need not have it). */
const TSX = import.meta.resolve('tsx');

/**
 * Run one example in `cwd` (its file is written there as readme-example-LINE.mts/.mjs/.sh), with
 * `bin` first on PATH. Returns the exit status and both outputs.
 * @param {Example} example
 * @param {{ cwd: string, bin: string, name: string, env?: NodeJS.ProcessEnv }} where
 */
export function runExample(example, { cwd, bin, name, env = {} }) {
  const ext = { ts: 'mts', js: 'mjs', sh: 'sh' }[example.lang];
  const file = join(cwd, `${name}-readme-${example.line}.${ext}`);
  writeFileSync(file, example.code);
  const [cmd, args] =
    example.lang === 'sh'
      ? ['bash', ['-e', '-o', 'pipefail', file]]
      : [process.execPath, example.lang === 'ts' ? ['--import', TSX, file] : [file]];
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ...env, PATH: `${bin}${delimiter}${process.env.PATH}` },
    timeout: 120_000,
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, file };
}
