/** The graph as a standalone SVG document (for the SVG and PNG exports): the same layout and edges as on screen. */
import { drawn, drawnEdge, EDGE_KINDS, edgeKindIndex } from './edges';
import {
  edgeRoute,
  type GraphData,
  type Layout,
  layoutGraph,
  NODE_HEIGHT,
  NODE_WIDTH,
  routePath,
  summaryOf,
} from './graph';

/** Fill of each kind's box, and stroke of each edge kind, as in styles.css. */
export const KIND_FILL: Readonly<Record<string, string>> = {
  process: '#e0f2fe',
  vma: '#dbeafe',
  avc: '#ede9fe',
  anon_vma: '#fef3c7',
  address_space: '#dcfce7',
  page: '#fee2e2',
  stable_node: '#fae8ff',
  rmap_item: '#fae8ff',
};
export const EDGE_COLOURS: readonly string[] = [
  '#b91c1c',
  '#0f766e',
  '#6d28d9',
  '#a16207',
  '#9a3412',
  '#c2410c',
  '#15803d',
  '#a21caf',
  '#be185d',
  '#475569',
  '#64748b',
  '#166534',
  '#7c3aed',
  '#6b7280',
];

const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Edge shift by kind, so kinds sharing a channel stay apart; the screen uses the same. */
export function edgeShift(kind: string): number {
  return ((edgeKindIndex(kind) % 5) - 2) * 4;
}

export function graphSvg(
  g: GraphData,
  layout: Layout = layoutGraph({ nodes: g.nodes, edges: g.edges.filter(drawn) }),
): string {
  const pad = 20;
  const w = layout.width + 2 * pad + 60;
  const h = layout.height + 2 * pad;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="${-pad} ${-pad} ${w} ${h}" font-family="sans-serif">`,
    '<defs>',
  ];
  for (const [i, c] of EDGE_COLOURS.entries())
    out.push(
      `<marker id="a${i}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto"><path d="M0 0L10 5L0 10z" fill="${c}"/></marker>`,
    );
  out.push('</defs>', `<rect x="${-pad}" y="${-pad}" width="${w}" height="${h}" fill="#fafbfc"/>`);
  for (const e of g.edges) {
    if (!drawn(e)) continue;
    const d = drawnEdge(e);
    const a = layout.positions.get(d.from);
    const b = layout.positions.get(d.to);
    if (!a || !b || d.from === d.to) continue;
    const k = edgeKindIndex(e.kind);
    out.push(
      `<path d="${routePath(edgeRoute(layout, a, b, edgeShift(e.kind)))}" fill="none" stroke="${EDGE_COLOURS[k]}" stroke-width="1.5" marker-end="url(#a${k})"><title>${esc(EDGE_KINDS[k]?.label ?? e.kind)}</title></path>`,
    );
  }
  for (const n of g.nodes) {
    const p = layout.positions.get(n.id);
    if (!p) continue;
    out.push(
      `<g transform="translate(${p.x} ${p.y})"><rect width="${NODE_WIDTH}" height="${NODE_HEIGHT}" rx="5" fill="${KIND_FILL[n.kind] ?? '#fff'}" stroke="#8792a8"/>`,
      `<text x="6" y="14" font-size="11" fill="#3b4660">${esc(n.kind.replace('_', ' '))}</text>`,
      `<text x="6" y="31" font-size="13" font-weight="600" fill="#1d2330">${esc(n.label)}</text>`,
      ...summaryOf(n).map(
        (s, i) =>
          `<text x="6" y="${47 + i * 14}" font-size="11" font-family="monospace" fill="#1d2330">${esc(s)}</text>`,
      ),
      '</g>',
    );
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
