import { afterEach, expect, it, vi } from 'vitest';

afterEach(() => {
  vi.restoreAllMocks();
});

it('examples/fork-cow.ts runs and shows fork sharing, the COW copy, the reuse and a clean exit', async () => {
  const lines: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    lines.push(args.join(' '));
  });
  await import('../examples/fork-cow.js');
  const pfnOf = (l: string) => Number(/pfn (\d+)/.exec(l)![1]);
  expect(lines).toHaveLength(7);
  const [wrote, forked, family, copied, still, reused, end] = lines;
  expect(wrote).toMatch(/mapcount 1, anon_vma AV\d+/);
  expect(forked).toMatch(/mapcount 2/);
  expect(pfnOf(forked)).toBe(pfnOf(wrote));
  expect(family).toMatch(/parent (AV\d+), root \1; \1 degree 3/);
  expect(pfnOf(copied)).not.toBe(pfnOf(wrote));
  expect(copied).toMatch(/mapcount 1/);
  expect(still).toMatch(/mapcount 1/);
  expect(pfnOf(reused)).toBe(pfnOf(wrote));
  expect(end).toBe('after both exits: 0 anon_vmas, 0 pages');
});
