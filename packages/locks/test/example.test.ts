import { expect, it } from 'vitest';
import { main } from '../examples/basic.js';

it('examples/basic.ts runs and shows an inversion report', () => {
  const out: string[] = [];
  const sys = main((line) => out.push(line));
  expect(out[0]).toBe('after the walk: 0 reports');
  expect(sys.reports.map((r) => r.kind)).toEqual(['inversion']);
  expect(out.join('\n')).toContain('documents mapping->i_mmap_rwsem as outer to anon_vma->rwsem');
});
