/**
 * `rmaplab demo`: the story rmap exists for. A parent writes an anonymous page and forks; the
 * children (and a grandchild) share the page copy-on-write. kswapd then reclaims it: page_referenced()
 * and try_to_unmap() find every PTE through the anon_vma's interval tree (rmap_walk_anon), without
 * scanning any page table of any process. Each step is narrated, then run by the scenario runner.
 */

import { VOID, type WalkReport } from '@rmaplab/rmap';
import { iterateScenario, ScenarioRunner } from '@rmaplab/scenario';
import { type Colors, colorsFor, type Io } from '../io.js';
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
    statement: 'parent: walk heap 0',
    say: "rmap_walk_anon from the page alone: page->mapping gives the anon_vma; its root's rwsem is taken for reading; the page's index is looked up in the anon_vma's interval tree, and each anon_vma_chain found leads to a VMA and, by vma_address(), to the address where that VMA maps the page.",
  },
  {
    statement: 'parent: reclaim heap 0',
    say: "kswapd takes the page off the LRU. page_referenced() walks the rmap first and tests (and clears) each PTE's accessed bit: the parent's write left its PTE young (fork makes the children's old). The page is in use, so it goes back to the active list.",
  },
  {
    statement: 'parent: reclaim heap 0',
    say: 'The next time round no PTE is young. add_to_swap() gives the page a swap slot; try_to_unmap() walks the same tree and replaces each of the four PTEs by a swap entry; the page is written to swap and freed.',
  },
  {
    statement: 'observe',
    say: 'No process maps the page any more: four swap entries, no physical page.',
  },
  {
    statement: 'child2: read heap 0',
    say: 'child2 touches it: do_swap_page reads it back into a new page (the swap cache) and maps it in child2 only. The others fault it in when they touch it.',
  },
  {
    statement: 'observe',
    say: 'One mapping again, back under the same anon_vma.',
  },
];

export interface DemoFlags {
  kernel: string;
  trace: boolean;
}

/** Each rmap_one step of a walk: the VMA, the address and the result (rmap_walk's own from 4.12: none). */
function renderWalk(label: string, walk: WalkReport, runner: ScenarioRunner, c: Colors): string {
  const returned = walk.result === VOID ? '' : `, returned ${c.bold(walk.result)}`;
  const lines = [`    ${label}: rmap_walk_${walk.kind} over ${walk.anonVma ?? walk.mapping}${returned}`];
  const where = walk.visits.map((v) => runner.where(v.mm, v.address));
  const width = Math.max(0, ...where.map((w) => w.length));
  walk.visits.forEach((v, i) => {
    lines.push(
      `      ${i + 1}. ${where[i].padEnd(width)}  vma ${v.vma} at 0x${v.address.toString(16)}  ${v.result}`,
    );
  });
  return `${lines.join('\n')}\n`;
}

/** The narration with each kernel function it names (`name()`) as the release names it. */
function inRelease(say: string, runner: ScenarioRunner): string {
  return say.replace(/\b([a-z_]+)\(\)/g, (_, fn: string) => `${runner.sys.name(fn)}()`);
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
    `${c.bold(`rmaplab demo — kswapd reclaims a page shared by four processes (kernel ${flags.kernel})`)}\n\n`,
  );
  try {
    for (const st of iterateScenario(text)) {
      io.stdout(`${c.green(wrap(inRelease(DEMO_STORY[st.step - 1].say, runner), 96, '# '))}\n`);
      const r = runner.exec(st);
      io.stdout(renderStep(r, c, flags.trace));
      if (r.report?.raw.op === 'reclaim') {
        const { referencedWalk, unmapWalk, unmap } = r.report.raw.report;
        io.stdout(renderWalk(runner.sys.name('page_referenced'), referencedWalk, runner, c));
        if (unmap !== null) io.stdout(renderWalk('try_to_unmap', unmapWalk, runner, c));
      }
      io.stdout('\n');
    }
  } catch (e) {
    return reportScenarioError(io, e, 'demo');
  }
  io.stdout(`Run it yourself: rmaplab run examples/02-kswapd-reclaim.rmap --trace\n`);
  return 0;
}
