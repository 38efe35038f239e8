import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO_STORY } from '../src/commands/demo.js';
import { ROOT, rmaplab } from './helpers.js';

describe('rmaplab demo', () => {
  it.each(['4.9', '6.12'])(
    'kernel %s: the page is unmapped from all four processes, each walk step shown',
    async (kernel) => {
      const r = await rmaplab(['demo', '--kernel', kernel]);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      // Every statement of the story ran, each with its narration.
      expect(r.stdout.match(/^\[\d+\] /gm)).toHaveLength(DEMO_STORY.length);
      expect(r.stdout.match(/^# /gm)!.length).toBeGreaterThanOrEqual(DEMO_STORY.length);
      // try_to_unmap visited the four VMAs and unmapped the page from all of them: each
      // try_to_unmap_one said go on (4.9's SWAP_AGAIN, 6.12's true).
      const unmap = r.stdout.split('try_to_unmap: rmap_walk_anon')[1];
      const goOn = kernel === '4.9' ? 'SWAP_AGAIN' : 'true';
      for (const p of ['parent', 'child1', 'child2', 'grandchild'])
        expect(unmap).toMatch(new RegExp(`\\d\\. ${p}:heap:0 +vma \\d+ at 0x[0-9a-f]+ +${goOn}`));
      // The story speaks the release's language: no SWAP_* after 4.11, the folio names in 6.12.
      if (kernel === '6.12') {
        expect(r.stdout).not.toMatch(/SWAP_|page_referenced|shrink_page_list/);
        expect(r.stdout).toContain('folio_referenced() walks the rmap first');
      }
      expect(r.stdout).toMatch(/observe \(step 12\): 0 pages mapped/);
    },
  );

  it('matches its golden output', async () => {
    const r = await rmaplab(['demo']);
    const path = join(ROOT, 'examples/golden/demo.txt');
    if (process.env.UPDATE_GOLDEN) writeFileSync(path, r.stdout);
    expect(r.stdout).toBe(readFileSync(path, 'utf8'));
  });
});
