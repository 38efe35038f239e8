/**
 * `rmaplab demo`: the story rmap exists for. A parent writes an anonymous page and forks; the
 * children (and a grandchild) share the page copy-on-write. kswapd then reclaims it: page_referenced()
 * and try_to_unmap() find every PTE through the anon_vma's interval tree (rmap_walk_anon), without
 * scanning any page table of any process. Each step is narrated, then run by the scenario runner.
 */
import { iterateScenario, ScenarioRunner } from '@rmaplab/scenario';
import { colorsFor, type Io } from '../io.js';
import { renderStep } from '../render.js';
import { reportScenarioError } from './common.js';

interface Beat {
  /** One scenario statement. */
  statement: string;
  /** What to notice, for someone who has not read mm/rmap.c. */
  say: string;
}

export const DEMO_STORY: readonly Beat[] = [
  {
    statement: 'set swap unlimited',
    say: 'The machine has swap, so an anonymous page can be written out and its memory freed.',
  },
  {
    statement: 'spawn parent',
    say: 'A process starts with an empty address space (an mm with no VMAs).',
  },
  {
    statement: 'parent: mmap heap 4 anon private',
    say: 'mmap creates a VMA of 4 pages. No page and no anon_vma exist yet: both come with the first write.',
  },
  {
    statement: 'parent: write heap 0',
    say: 'The write fault allocates a page (do_anonymous_page) and, first, an anon_vma for the VMA (anon_vma_prepare). The page points back at that anon_vma through page->mapping: that pointer is the reverse map.',
  },
  {
    statement: 'parent: fork child1',
    say: 'fork copies the PTE, so both processes map the same physical page (mapcount 2). anon_vma_fork links the child VMA into the parent anon_vma with an anon_vma_chain, and gives the child an anon_vma of its own for pages it will create.',
  },
  {
    statement: 'parent: fork child2',
    say: 'A second child: a third PTE, a third VMA in the anon_vma interval tree.',
  },
  {
    statement: 'child1: fork grandchild',
    say: "A grandchild inherits the page from child1. Its VMA is linked into every anon_vma of child1's VMA, the parent's included.",
  },
  {
    statement: 'observe',
    say: 'One physical page, four PTEs in four processes. To free the page, the kernel must clear all four.',
  },
  {
    statement: 'parent: reclaim heap 0',
    say: "kswapd takes the page off the LRU. page_referenced() and then try_to_unmap() call rmap_walk_anon: lock the root anon_vma, look up the page's index in the anon_vma interval tree, and visit exactly the VMAs that may map it, clearing each PTE (a swap entry takes its place).",
  },
  {
    statement: 'observe',
    say: 'No process maps the page any more; each one faults it back in from swap when it touches it again.',
  },
];

export interface DemoFlags {
  kernel: '4.9' | '6.12';
  trace: boolean;
}

/** Word-wrap narration to the terminal-friendly width. */
function wrap(text: string, width: number, prefix: string): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(prefix + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(prefix + line);
  return lines.join('\n');
}

export async function demoCommand(io: Io, flags: DemoFlags): Promise<number> {
  const c = colorsFor(io, 'stdout');
  const text = DEMO_STORY.map((b) => b.statement).join('\n');
  const runner = new ScenarioRunner({ trace: flags.trace, check: true, options: { kernel: flags.kernel } });
  io.stdout(
    `${c.bold(`rmaplab demo — kswapd unmaps a page shared by four processes (kernel ${flags.kernel})`)}\n\n`,
  );
  try {
    for (const st of iterateScenario(text)) {
      io.stdout(`${c.green(wrap(DEMO_STORY[st.step - 1].say, 96, '# '))}\n`);
      io.stdout(`${renderStep(runner.exec(st), c, flags.trace)}\n`);
    }
  } catch (e) {
    return reportScenarioError(io, e, 'demo');
  }
  io.stdout(`Run it yourself: rmaplab run examples/02-kswapd-reclaim.rmap --trace\n`);
  return 0;
}
