/**
 * Focus on one page: its rmap subgraph — what the page's own walk can reach — and nothing else.
 * page → page->mapping (anon_vma, address_space or stable node) → for an anon_vma its root and
 * parents, the AVCs on it and their VMAs; for a file its i_mmap VMAs; for a KSM page its rmap_items,
 * their anon_vmas and those anon_vmas' AVCs and VMAs — and the processes owning those VMAs, with the
 * PTEs by which they map the page.
 */
import type { GraphData } from './graph';

export function focusOnPage(g: GraphData, page: string): GraphData {
  const keep = new Set<string>([page]);
  const out = new Map<string, GraphData['edges']>();
  const into = new Map<string, GraphData['edges']>();
  for (const e of g.edges) {
    (out.get(e.from) ?? out.set(e.from, []).get(e.from)!).push(e);
    (into.get(e.to) ?? into.set(e.to, []).get(e.to)!).push(e);
  }
  const follow = (id: string, kinds: string[], dir: 'out' | 'in'): string[] =>
    ((dir === 'out' ? out : into).get(id) ?? [])
      .filter((e) => kinds.includes(e.kind))
      .map((e) => (dir === 'out' ? e.to : e.from));
  const anonVmas: string[] = [];
  const vmas: string[] = [];
  for (const m of follow(page, ['mapping'], 'out')) {
    keep.add(m);
    if (m.startsWith('anon_vma:')) anonVmas.push(m);
    else if (m.startsWith('file:')) vmas.push(...follow(m, ['i_mmap'], 'out'));
    else
      for (const item of follow(m, ['rmap_item'], 'out')) {
        keep.add(item);
        anonVmas.push(...follow(item, ['anon_vma'], 'out'));
      }
  }
  for (const av of anonVmas) {
    keep.add(av);
    for (const up of follow(av, ['root', 'parent'], 'out')) keep.add(up);
    for (const avc of follow(av, ['avc_anon_vma'], 'in')) {
      keep.add(avc);
      vmas.push(...follow(avc, ['anon_vma_chain'], 'in'));
    }
  }
  for (const v of vmas) {
    keep.add(v);
    for (const mm of follow(v, ['vma'], 'in')) keep.add(mm);
  }
  // Only this page's PTEs and its own page->mapping: the other pages are folded away.
  const edges = g.edges.filter(
    (e) =>
      keep.has(e.from) &&
      keep.has(e.to) &&
      (e.kind !== 'pte' || e.to === page) &&
      (e.kind !== 'mapping' || e.from === page),
  );
  return { nodes: g.nodes.filter((n) => keep.has(n.id)), edges };
}
