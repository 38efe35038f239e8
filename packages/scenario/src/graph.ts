/**
 * The state as a graph — processes, VMAs, anon_vma_chains, anon_vmas, address spaces and i_mmap,
 * KSM stable nodes and rmap_items, pages — for `rmaplab graph` and the web app. Node ids use the same
 * numeric ids as trace-event refs (`vma:7` is refs.vma = 7), so a walk can be highlighted.
 */
import {
  type AnonVma,
  hex,
  ksmState,
  type MmSystem,
  PAGE_MAPPING_FLAGS,
  PAGE_MAPPING_KSM,
  PAGE_SIZE,
  PageAnonExclusive,
  PTE_MIGRATION,
  PTE_PRESENT,
  PTE_PROTNONE,
  PTE_SWAP,
  readPte,
  type VmArea,
} from '@rmaplab/mm';
import { observedFlags } from './observation.js';
import { addressName, type ProcState } from './state.js';

export type GraphNodeKind =
  | 'process'
  | 'vma'
  | 'avc'
  | 'anon_vma'
  | 'address_space'
  | 'page'
  | 'stable_node'
  | 'rmap_item';

export interface GraphNode {
  id: string;
  kind: GraphNodeKind;
  label: string;
  /** The kernel fields of the object, named as in the kernel. */
  fields: Record<string, string | number | boolean | null>;
}

export interface GraphEdge {
  id: string;
  from: string;
  to: string;
  /** vma | anon_vma_chain | avc_anon_vma | anon_vma | root | parent | vm_file | i_mmap | pte | mapping | rmap_item | stable_node */
  kind: string;
  label?: string;
}

export interface StateGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

/** vm_flags as the letters /proc/PID/smaps prints (rd wr ex sh mr mw me ms lo mg ...). */
export function vmFlagsString(flags: number): string {
  const names: [number, string][] = [
    [0x1, 'rd'],
    [0x2, 'wr'],
    [0x4, 'ex'],
    [0x8, 'sh'],
    [0x10, 'mr'],
    [0x20, 'mw'],
    [0x40, 'me'],
    [0x80, 'ms'],
    [0x2000, 'lo'],
    [0x100000, 'ac'],
    [0x80000000, 'mg'],
  ];
  return names
    .filter(([bit]) => (flags & bit) >>> 0 !== 0)
    .map(([, n]) => n)
    .join(' ');
}

/** Build the graph of the current state of `procs` in `sys`. */
export function buildStateGraph(sys: MmSystem, procs: Iterable<ProcState>): StateGraph {
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const seen = new Set<string>();
  const node = (n: GraphNode) => {
    if (!seen.has(n.id)) {
      seen.add(n.id);
      nodes.push(n);
    }
  };
  const edge = (from: string, to: string, kind: string, label?: string) =>
    edges.push({
      id: `${kind}:${from}->${to}${label ? `:${label}` : ''}`,
      from,
      to,
      kind,
      ...(label ? { label } : {}),
    });
  const anonVmas = new Set<AnonVma>();
  const pages = new Map<number, { where: string[] }>();
  for (const p of procs) {
    if (!p.alive) continue;
    const mm = p.mm;
    const mmId = `mm:${mm.id}`;
    node({
      id: mmId,
      kind: 'process',
      label: p.name,
      fields: { pid: mm.owner.id, comm: p.name, map_count: mm.mapCount },
    });
    for (const vma of mm.vmas()) {
      const vId = `vma:${vma.id}`;
      node({ id: vId, kind: 'vma', label: `${vma.name} ${p.name}`, fields: vmaFields(vma) });
      edge(mmId, vId, 'vma');
      for (const avc of vma.anonVmaChain) {
        const aId = `avc:${avc.id}`;
        node({
          id: aId,
          kind: 'avc',
          label: `AVC${avc.id}`,
          fields: {
            vma: vma.name,
            anon_vma: avc.anonVma.name,
            start: avc.rb?.start ?? null,
            last: avc.rb?.last ?? null,
          },
        });
        edge(vId, aId, 'anon_vma_chain');
        edge(aId, `anon_vma:${avc.anonVma.id}`, 'avc_anon_vma');
        anonVmas.add(avc.anonVma);
      }
      if (vma.anonVma) edge(vId, `anon_vma:${vma.anonVma.id}`, 'anon_vma');
      if (vma.vmFile) edge(vId, `file:${vma.vmFile.name}`, 'vm_file');
      for (let a = vma.vmStart; a < vma.vmEnd; a += PAGE_SIZE) {
        const pte = readPte(mm, a);
        if (!(pte.bits & (PTE_PRESENT | PTE_PROTNONE | PTE_MIGRATION))) continue;
        if (pte.bits & PTE_SWAP) continue;
        const where = addressName(p, a);
        edge(vId, `page:${pte.pfn}`, 'pte', where);
        const e = pages.get(pte.pfn) ?? { where: [] };
        e.where.push(where);
        pages.set(pte.pfn, e);
      }
    }
  }
  // Every live anon_vma, those no VMA links any more (kept by a child's root pin or KSM) included.
  for (const av of sys.anonVmas) anonVmas.add(av);
  for (const av of anonVmas) {
    const id = `anon_vma:${av.id}`;
    node({
      id,
      kind: 'anon_vma',
      label: av.name,
      fields: {
        root: av.root.name,
        parent: av.parent.name,
        refcount: av.refcount,
        ...(sys.rules['anon-vma-reuse-counters']
          ? { num_children: av.numChildren, num_active_vmas: av.numActiveVmas }
          : { degree: av.degree }),
        rb_root: av.rbRoot.size,
      },
    });
    if (av.root !== av) edge(id, `anon_vma:${av.root.id}`, 'root');
    if (av.parent !== av && av.parent !== av.root) edge(id, `anon_vma:${av.parent.id}`, 'parent');
  }
  for (const file of sys.files.values()) {
    const id = `file:${file.name}`;
    const m = file.mapping;
    if (m.iMmap.size === 0 && !edges.some((e) => e.to === id)) continue;
    node({
      id,
      kind: 'address_space',
      label: file.name,
      fields: {
        i_mmap: m.iMmap.size,
        i_mmap_writable: m.iMmapWritable,
        nrpages: m.pageTree.size,
        shmem: file.shmem,
      },
    });
    let i = 0;
    for (const n of m.iMmap.overlapping(0, Number.MAX_SAFE_INTEGER))
      edge(id, `vma:${n.value.id}`, 'i_mmap', String(i++));
  }
  const mem = sys.mem;
  for (const [pfn, { where }] of pages) {
    const id = `page:${pfn}`;
    const tag = mem.mappingTag[pfn] & PAGE_MAPPING_FLAGS;
    const m = pfn === 0 ? null : mem.mapping[pfn];
    let mapping: string | null = null;
    if (m && 'root' in m) mapping = `${m.name}|PAGE_MAPPING_ANON`;
    else if (m && 'pageTree' in m) mapping = m.name;
    else if (m && tag === PAGE_MAPPING_KSM) mapping = `stable_node${m.id}|PAGE_MAPPING_KSM`;
    node({
      id,
      kind: 'page',
      label: pfn === 0 ? 'zero page' : `pfn ${pfn}`,
      fields: {
        pfn,
        _mapcount: pfn === 0 ? -1 : mem.mapcount[pfn],
        _refcount: mem.refcount[pfn],
        flags: observedFlags(sys, pfn).join(' '),
        // PG_anon_exclusive exists from 5.19 (page-anon-exclusive); the zero page is never exclusive.
        ...(sys.rules['page-anon-exclusive']
          ? { anon_exclusive: pfn !== 0 && PageAnonExclusive(mem, pfn) }
          : {}),
        mapping,
        index: pfn === 0 ? null : mem.index[pfn],
        mapped_at: where.join(' '),
      },
    });
    if (m && 'root' in m) edge(id, `anon_vma:${m.id}`, 'mapping');
    else if (m && 'pageTree' in m) edge(id, `file:${m.name}`, 'mapping');
    else if (m && tag === PAGE_MAPPING_KSM) edge(id, `stable_node:${m.id}`, 'mapping');
  }
  ksmGraph(sys, node, edge);
  // Drop edges to nodes that are not in the graph (e.g. a file with no VMA left).
  return { nodes, edges: edges.filter((e) => seen.has(e.from) && seen.has(e.to)) };
}

/** Add KSM's stable nodes and rmap_items to a state graph. */
export function ksmGraph(
  sys: MmSystem,
  node: (n: GraphNode) => void,
  edge: (from: string, to: string, kind: string, label?: string) => void,
): void {
  const k = ksmState(sys);
  for (const sn of k.stableNodes()) {
    const id = `stable_node:${sn.id}`;
    node({
      id,
      kind: 'stable_node',
      label: sn.name,
      fields: { kpfn: sn.kpfn, rmap_hlist_len: sn.rmapHlistLen, chain: sn.chain ? sn.chain.name : null },
    });
    edge(id, `page:${sn.kpfn}`, 'kpfn');
    for (const item of sn.items()) {
      const iid = `rmap_item:${item.id}`;
      node({
        id: iid,
        kind: 'rmap_item',
        label: `rmap_item${item.id}`,
        fields: {
          mm: item.mm.owner.name,
          address: hex(item.address),
          anon_vma: item.anonVma?.name ?? null,
          stable: true,
        },
      });
      edge(id, iid, 'rmap_item');
      if (item.anonVma) edge(iid, `anon_vma:${item.anonVma.id}`, 'anon_vma');
      edge(iid, `mm:${item.mm.id}`, 'mm');
    }
  }
}

function vmaFields(vma: VmArea): GraphNode['fields'] {
  return {
    vm_start: hex(vma.vmStart),
    vm_end: hex(vma.vmEnd),
    vm_pgoff: vma.vmPgoff,
    vm_flags: vmFlagsString(vma.vmFlags),
    anon_vma: vma.anonVma?.name ?? null,
    vm_file: vma.vmFile?.name ?? null,
  };
}

/** Graphviz dot. */
export function graphToDot(g: StateGraph): string {
  const shape: Record<GraphNodeKind, string> = {
    process: 'house',
    vma: 'box',
    avc: 'ellipse',
    anon_vma: 'octagon',
    address_space: 'folder',
    page: 'note',
    stable_node: 'doubleoctagon',
    rmap_item: 'component',
  };
  const esc = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  const lines = ['digraph rmap {', '  rankdir=LR;', '  node [fontname="monospace", fontsize=10];'];
  for (const n of g.nodes) {
    const fields = Object.entries(n.fields)
      .map(([k, v]) => `${k}=${v}`)
      .join('\\n');
    lines.push(`  "${esc(n.id)}" [shape=${shape[n.kind]}, label="${esc(n.label)}\\n${esc(fields)}"];`);
  }
  for (const e of g.edges)
    lines.push(
      `  "${esc(e.from)}" -> "${esc(e.to)}" [label="${esc(e.kind)}${e.label ? ` ${esc(e.label)}` : ''}"];`,
    );
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/** Mermaid flowchart. */
export function graphToMermaid(g: StateGraph): string {
  const ids = new Map<string, string>();
  for (const [i, n] of g.nodes.entries()) ids.set(n.id, `n${i}`);
  const esc = (s: string) => s.replace(/"/g, '#quot;');
  const lines = ['flowchart LR'];
  for (const n of g.nodes) lines.push(`  ${ids.get(n.id)}["${esc(`${n.kind}: ${n.label}`)}"]`);
  for (const e of g.edges)
    lines.push(`  ${ids.get(e.from)} -->|${esc(e.kind + (e.label ? ` ${e.label}` : ''))}| ${ids.get(e.to)}`);
  return `${lines.join('\n')}\n`;
}
