import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';

const read = (rel: string) => readFileSync(new URL(rel, import.meta.url), 'utf8');

/** The fenced block that follows `<!-- name -->` in the README. */
function readmeBlock(name: string): string {
  const readme = read('../README.md');
  const at = readme.indexOf(`<!-- ${name} -->`);
  expect(at, `README marker <!-- ${name} -->`).toBeGreaterThanOrEqual(0);
  const m = /```[a-z]*\n([\s\S]*?)```/.exec(readme.slice(at));
  expect(m, `code block after <!-- ${name} -->`).not.toBeNull();
  return (m as RegExpExecArray)[1];
}

describe('README example', () => {
  afterEach(() => vi.restoreAllMocks());

  it('is exactly examples/basic.ts', () => {
    expect(readmeBlock('example:basic')).toBe(read('../examples/basic.ts'));
  });

  it('runs and prints the output shown in the README', async () => {
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      lines.push(args.join(' '));
    });
    await import('../examples/basic.js');
    expect(`${lines.join('\n')}\n`).toBe(readmeBlock('example:basic:output'));
  });
});
