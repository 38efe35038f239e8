/**
 * The repository's `examples/*.rmap`, bundled at build time (no network at run time). An empty
 * folder gives an empty library, and the app falls back to its built-in starter scenario.
 */

const files = import.meta.glob('../../../../examples/*.rmap', {
  query: '?raw',
  import: 'default',
  eager: true,
}) as Record<string, string>;

export interface Example {
  /** File name without `.rmap`. */
  name: string;
  text: string;
  /** The first comment line, if the file starts with one: a one-line summary for the picker. */
  title: string;
}

export function exampleFrom(path: string, text: string): Example {
  const name = path.replace(/^.*\//, '').replace(/\.rmap$/, '');
  const first = text.split('\n').find((l) => l.trim() !== '');
  const title = first?.trim().startsWith('#') ? first.trim().replace(/^#+\s*/, '') : name;
  return { name, text, title };
}

export const EXAMPLES: readonly Example[] = Object.entries(files)
  .map(([path, text]) => exampleFrom(path, text))
  .sort((a, b) => a.name.localeCompare(b.name));

/** What a first visit shows when the repository ships no examples. */
export const STARTER = `# fork shares anonymous pages; a COW write breaks the sharing
set kernel 4.9
spawn A
A: mmap heap 4 anon private
A: write heap 0..1
A: fork B
B: write heap 1
observe
A: walk heap 0
`;
