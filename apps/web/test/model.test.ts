/** The small pure models: what changed, focus on a page, page tables, lock spans, the SVG export. */
import { describe, expect, it } from 'vitest';
import { graphChanges } from '../src/model/diff';
import { EXAMPLES } from '../src/model/examples';
import { graphSvg } from '../src/model/export';
import { focusOnPage } from '../src/model/focus';
import type { GraphData } from '../src/model/graph';
import { lockSpans } from '../src/model/locks';
import { pteFlags } from '../src/model/pagetable';
import { runSession } from '../src/model/session';
import { UNMAP_TRACE } from './events';

const run = (name: string) => runSession(EXAMPLES.find((e) => e.name === name)!.text);

describe('graphChanges', () => {
  it('finds created, changed (fields or edges) and removed objects', () => {
    const before: GraphData = {
      nodes: [
        { id: 'a', kind: 'page', label: 'a', fields: { x: 1 } },
        { id: 'b', kind: 'page', label: 'b', fields: { x: 1 } },
        { id: 'c', kind: 'page', label: 'c', fields: {} },
        { id: 'd', kind: 'vma', label: 'd', fields: {} },
      ],
      edges: [{ id: 'd-c', from: 'd', to: 'c', kind: 'pte' }],
    };
    const after: GraphData = {
      nodes: [
        { id: 'a', kind: 'page', label: 'a', fields: { x: 2 } },
        { id: 'c', kind: 'page', label: 'c', fields: {} },
        { id: 'd', kind: 'vma', label: 'd', fields: {} },
        { id: 'e', kind: 'page', label: 'e', fields: {} },
      ],
      edges: [],
    };
    expect(graphChanges(before, after)).toEqual({
      added: ['e'],
      changed: ['a', 'd', 'c'],
      removed: [{ id: 'b', kind: 'page', label: 'b' }],
    });
  });
});

describe('focusOnPage', () => {
  it('keeps the page’s rmap subgraph: anon_vma, its AVCs, their VMAs and processes, and only its own PTEs', () => {
    const s = run('01-fork-cow');
    const g = s.detail(s.steps.find((m) => m.op === 'fork')!.step).graph!; // one page, shared by both
    const page = g.nodes.find((n) => n.kind === 'page')!.id;
    const f = focusOnPage(g, page);
    expect(new Set(f.nodes.map((n) => n.kind))).toEqual(
      new Set(['page', 'anon_vma', 'avc', 'vma', 'process']),
    );
    expect(f.edges.filter((e) => e.kind === 'pte').every((e) => e.to === page)).toBe(true);
    expect(f.nodes.filter((n) => n.kind === 'process')).toHaveLength(2);
  });

  it('folds away the other pages and what only they reach', () => {
    const s = run('06-file-three-processes');
    const g = s.detail(s.steps.length).graph!;
    const pages = g.nodes.filter((n) => n.kind === 'page');
    expect(pages.length).toBeGreaterThan(1);
    const anon = pages.find((p) => String(p.fields.mapping).includes('ANON'))!;
    const f = focusOnPage(g, anon.id);
    expect(f.nodes.filter((n) => n.kind === 'page').map((n) => n.id)).toEqual([anon.id]);
    expect(f.nodes.some((n) => n.kind === 'address_space')).toBe(false);
    const file = pages.find((p) => p.fields.mapping === 'libfoo.so')!;
    const ff = focusOnPage(g, file.id);
    expect(ff.nodes.some((n) => n.kind === 'address_space')).toBe(true);
    // The file's i_mmap holds all three VMAs: all three processes are in its walk.
    expect(ff.nodes.filter((n) => n.kind === 'process')).toHaveLength(3);
  });
});

describe('page tables', () => {
  it('show each process’s VMAs and their non-empty PTEs with their bits', () => {
    const s = run('02-kswapd-reclaim');
    const last = s.detail(s.steps.length);
    const child2 = last.tables!.find((p) => p.name === 'child2')!;
    expect(child2.vmas[0]).toMatchObject({ region: 'heap', pages: 4 });
    expect(pteFlags(child2.vmas[0].ptes[0].bits)).toContain('present');
    const parent = last.tables!.find((p) => p.name === 'parent')!;
    expect(pteFlags(parent.vmas[0].ptes[0].bits)).toEqual(['swap']);
  });
});

describe('lockSpans', () => {
  it('gives each hold its start and end event, in the order taken', () => {
    const spans = lockSpans(UNMAP_TRACE);
    expect(spans.map((s) => [s.lock, s.mode, s.from, s.to, s.open])).toEqual([
      ['anon_vma#3->rwsem', 'read', 2, 15, false],
      ['pte#1', 'exclusive', 5, 7, false],
      ['pte#2', 'exclusive', 11, 12, false],
    ]);
    expect(lockSpans(UNMAP_TRACE.slice(0, 6)).map((s) => s.open)).toEqual([true, true]);
  });
});

describe('graphSvg', () => {
  it('is a standalone SVG with every object’s label and an arrow per drawn edge', () => {
    const s = run('01-fork-cow');
    const g = s.detail(s.steps.find((m) => m.op === 'fork')!.step).graph!;
    const svg = graphSvg(g);
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    for (const n of g.nodes) expect(svg).toContain(`>${n.label}<`);
    expect(svg.match(/marker-end=/g)?.length).toBe(
      g.edges.filter((e) => e.kind !== 'vm_file' && !(e.kind === 'anon_vma' && e.from.startsWith('vma:')))
        .length,
    );
  });
});
