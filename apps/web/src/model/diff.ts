/** What a step (or an event of a walk) changed in the state graph: objects created, changed, removed. */
import type { GraphData, GraphNodeData } from './graph';

export interface GraphChanges {
  added: string[];
  /** Same object, other fields or label, or an edge to it appeared or went. */
  changed: string[];
  removed: { id: string; kind: string; label: string }[];
}

export const NO_CHANGES: GraphChanges = { added: [], changed: [], removed: [] };

function same(a: GraphNodeData, b: GraphNodeData): boolean {
  if (a.label !== b.label) return false;
  const ka = Object.keys(a.fields);
  if (ka.length !== Object.keys(b.fields).length) return false;
  return ka.every((k) => a.fields[k] === b.fields[k]);
}

/** The changes from `before` to `after`. */
export function graphChanges(before: GraphData, after: GraphData): GraphChanges {
  const old = new Map(before.nodes.map((n) => [n.id, n]));
  const now = new Set(after.nodes.map((n) => n.id));
  const added: string[] = [];
  const changed = new Set<string>();
  for (const n of after.nodes) {
    const o = old.get(n.id);
    if (!o) added.push(n.id);
    else if (!same(o, n)) changed.add(n.id);
  }
  const oldEdges = new Set(before.edges.map((e) => e.id));
  const newEdges = new Set(after.edges.map((e) => e.id));
  const touch = (id: string) => {
    if (now.has(id) && old.has(id)) changed.add(id);
  };
  for (const e of after.edges)
    if (!oldEdges.has(e.id)) {
      touch(e.from);
      touch(e.to);
    }
  for (const e of before.edges)
    if (!newEdges.has(e.id)) {
      touch(e.from);
      touch(e.to);
    }
  const removed = before.nodes
    .filter((n) => !now.has(n.id))
    .map((n) => ({ id: n.id, kind: n.kind, label: n.label }));
  return { added, changed: [...changed], removed };
}
