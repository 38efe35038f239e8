/**
 * Every `rmaplab ...` example line in the help of rmaplab and of each command runs, from the
 * repository root, as a shell would run it: `&&` chains, `< FILE` feeds standard input, `> FILE`
 * writes a file later commands read, `| ...` pipes to another program (its output is not
 * checked), `$$` is a live process (this one). `verify` needs root and this machine's kernel, so
 * its examples are checked for usage only (they parse into a command, nothing runs).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCommandLine } from '../src/cli.js';
import { COMMANDS, HELP } from '../src/help.js';
import { ROOT, rmaplab } from './helpers.js';

/** The commands of the help's examples, of the example lines that call rmaplab. */
function examples(text: string): string[] {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => /^Examples?:$/.test(l));
  if (at < 0) return [];
  const out: string[] = [];
  for (const l of lines.slice(at + 1)) {
    if (!l.startsWith('  ')) break;
    out.push(l.trim());
  }
  return out;
}

/** Checked for usage validity only: they need root and the running kernel. */
const USAGE_ONLY = new Set(['verify']);

interface Step {
  args: string[];
  stdin?: string;
  output?: string;
  piped: boolean;
}

function parseStep(command: string): Step {
  const words = command.split(/\s+/).map((w) => (w === '$$' ? String(process.pid) : w));
  if (words[0] === 'sudo') words.shift();
  expect(words[0], command).toBe('rmaplab');
  const step: Step = { args: [], piped: false };
  for (let i = 1; i < words.length; i++) {
    const w = words[i];
    if (w === '|') {
      step.piped = true;
      break;
    }
    if (w === '<') step.stdin = words[++i];
    else if (w === '>') step.output = words[++i];
    else step.args.push(w);
  }
  return step;
}

const topics = ['', ...COMMANDS] as const;

describe('help examples', () => {
  it.each(topics)('the help of "%s" has examples', (topic) => {
    expect(examples(HELP[topic]).length).toBeGreaterThan(0);
  });

  const lines = topics.flatMap((topic) => examples(HELP[topic]).map((line) => [topic || 'rmaplab', line]));

  it.each(lines)('%s: %s', async (_, line) => {
    const files: Record<string, string> = {};
    for (const command of line.split(' && ')) {
      const step = parseStep(command);
      if (USAGE_ONLY.has(step.args[0])) {
        expect(parseCommandLine(step.args).kind, command).toBe('command');
        continue;
      }
      const stdin = step.stdin === undefined ? undefined : readFileSync(resolve(ROOT, step.stdin), 'utf8');
      const r = await rmaplab(step.args, { files, ...(stdin !== undefined ? { stdin } : {}) });
      expect(r.stderr, command).toBe('');
      expect(r.status, command).toBe(0);
      expect(r.stdout.length, command).toBeGreaterThan(0);
      if (step.output) files[step.output] = r.stdout;
    }
  });
});
