/**
 * The state graph after the current step: one DOM box per kernel object (so tests and screen readers
 * can find `[data-id="vma:7"]`), placed absolutely from our own layout, every edge of a class in one
 * SVG path, the walk's highlights as classes. A purpose-built renderer rather than a general graph
 * library: the layout is known before anything is drawn, so a step is one React commit and one paint,
 * with no measuring of boxes or handles, and pan/zoom only rewrite one CSS transform.
 */
import { memo, useCallback, useEffect, useLayoutEffect, useMemo, useRef } from 'react';
import {
  edgePath,
  type GraphData,
  type GraphNodeData,
  layoutGraph,
  NODE_HEIGHT,
  NODE_WIDTH,
  type Placed,
  summaryOf,
} from '../model/graph';
import { DETAIL_ZOOM, fitTransform, type ViewTransform, zoomAt } from '../model/viewport';
import type { WalkState } from '../model/walk';

interface KernelBoxProps {
  node: GraphNodeData;
  at: Placed;
  className: string;
  /** 1-based visit order in the walk, when visited. */
  visit?: number;
  /** rmap_one result or invalid_vma skip, shown beside the order. */
  outcome?: string;
}

/** One kernel object. Memoised on stable props, so a highlight change re-renders only the boxes it touches. */
const KernelBox = memo(function KernelBox({ node, at, className, visit, outcome }: KernelBoxProps) {
  return (
    <div
      className={className}
      data-id={node.id}
      title={`${node.kind} ${node.label}`}
      style={{ left: at.x, top: at.y, width: NODE_WIDTH, height: NODE_HEIGHT }}
    >
      <div className="kobj-kind">{node.kind.replace('_', ' ')}</div>
      <div className="kobj-label">{node.label}</div>
      {summaryOf(node).map((s) => (
        <div className="kobj-field" key={s}>
          {s}
        </div>
      ))}
      {visit !== undefined && (
        <span className="visit-badge" data-testid="visit-badge">
          {visit}
          {outcome ? ` ${outcome}` : ''}
        </span>
      )}
    </div>
  );
});

/** Highlight classes of every node the walk touched, by node id. */
export function walkClasses(walk: WalkState | null): Map<string, string[]> {
  const cls = new Map<string, string[]>();
  const add = (id: string | null | undefined, c: string) => {
    if (!id) return;
    const list = cls.get(id) ?? [];
    list.push(c);
    cls.set(id, list);
  };
  if (!walk) return cls;
  add(walk.root, 'walk-root');
  add(walk.page, 'walk-page');
  for (const v of walk.visited) {
    add(v.node, v.skipped ? 'walk-skipped' : 'walk-visited');
    add(v.avc, 'walk-avc');
  }
  for (const id of walk.current) add(id, 'walk-current');
  return cls;
}

export interface GraphViewProps {
  graph: GraphData;
  walk: WalkState | null;
  selected: string | null;
  onSelect: (id: string | null) => void;
  /** Called after the browser has painted a new graph, with the layout time, for the perf report. */
  onRendered?: (nodes: number, layoutMs: number) => void;
}

/** A press that moves less than this many pixels is a click (inspect), not a pan. */
const CLICK_SLOP = 4;
const WHEEL_STEP = 1.0015;
const BUTTON_STEP = 1.25;

export function GraphView({ graph, walk, selected, onSelect, onRendered }: GraphViewProps) {
  const viewport = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLDivElement>(null);
  const view = useRef<ViewTransform>({ x: 0, y: 0, k: 1 });
  const layoutMs = useRef(0);
  const layout = useMemo(() => {
    const t0 = performance.now();
    const l = layoutGraph(graph);
    layoutMs.current = performance.now() - t0;
    return l;
  }, [graph]);

  /** Pan and zoom write the transform straight to the DOM: no React render per wheel tick or drag. */
  const apply = useCallback((t: ViewTransform) => {
    view.current = t;
    const c = canvas.current;
    if (!c) return;
    c.style.transform = `translate(${t.x}px, ${t.y}px) scale(${t.k})`;
    viewport.current?.classList.toggle('graph-coarse', t.k < DETAIL_ZOOM);
  }, []);

  const fit = useCallback(() => {
    const v = viewport.current;
    if (v) apply(fitTransform(layout.width, layout.height, v.clientWidth, v.clientHeight));
  }, [apply, layout]);

  // Refit when the set of objects changes size, not on every highlight; before paint, so no frame
  // shows the new graph at the old zoom.
  const count = graph.nodes.length;
  const fitted = useRef(-1);
  useLayoutEffect(() => {
    if (fitted.current === count) return;
    fitted.current = count;
    fit();
  }, [count, fit]);

  const zoomBy = useCallback(
    (factor: number, px?: number, py?: number) => {
      const v = viewport.current;
      if (!v) return;
      apply(zoomAt(view.current, factor, px ?? v.clientWidth / 2, py ?? v.clientHeight / 2));
    },
    [apply],
  );

  // Wheel zoom needs a non-passive listener to keep the page from scrolling.
  useEffect(() => {
    const v = viewport.current;
    if (!v) return;
    const onWheel = (e: WheelEvent) => {
      e.preventDefault();
      const r = v.getBoundingClientRect();
      zoomBy(WHEEL_STEP ** -e.deltaY, e.clientX - r.left, e.clientY - r.top);
    };
    v.addEventListener('wheel', onWheel, { passive: false });
    return () => v.removeEventListener('wheel', onWheel);
  }, [zoomBy]);

  // Drag pans; a press that does not move is a click on the object under it, or on the empty pane.
  const press = useRef<{ x: number; y: number; from: ViewTransform; moved: boolean } | null>(null);
  const onPointerDown = (e: React.PointerEvent) => {
    if (e.button !== 0) return;
    press.current = { x: e.clientX, y: e.clientY, from: view.current, moved: false };
  };
  const onPointerMove = (e: React.PointerEvent) => {
    const p = press.current;
    if (!p) return;
    const dx = e.clientX - p.x;
    const dy = e.clientY - p.y;
    if (!p.moved && Math.hypot(dx, dy) < CLICK_SLOP) return;
    if (!p.moved) viewport.current?.setPointerCapture(e.pointerId);
    p.moved = true;
    apply({ ...p.from, x: p.from.x + dx, y: p.from.y + dy });
  };
  const onPointerUp = (e: React.PointerEvent) => {
    const p = press.current;
    press.current = null;
    if (!p || p.moved) return;
    const box = (e.target as Element).closest('[data-id]');
    onSelect(box ? box.getAttribute('data-id') : null);
  };

  const cls = useMemo(() => walkClasses(walk), [walk]);
  const visits = useMemo(() => new Map(walk?.visited.map((v) => [v.node, v]) ?? []), [walk]);

  const edges = useMemo(() => {
    const hot = new Set(walk?.visited.flatMap((v) => (v.avc ? [v.avc, v.node] : [v.node])) ?? []);
    let plain = '';
    let walked = '';
    const labels: { id: string; x: number; y: number; text: string }[] = [];
    for (const e of graph.edges) {
      const a = layout.positions.get(e.from);
      const b = layout.positions.get(e.to);
      if (!a || !b || e.from === e.to) continue;
      const d = edgePath(a, b);
      if (hot.has(e.from) && hot.has(e.to)) walked += d;
      else plain += d;
      // Only the i_mmap order is worth a label on the canvas; PTE labels (hundreds) are in the inspector.
      if (e.label && e.kind === 'i_mmap')
        labels.push({ id: e.id, x: (a.x + b.x) / 2, y: (a.y + b.y) / 2, text: e.label });
    }
    return { plain, walked, labels };
  }, [graph, layout, walk]);

  // Report once the frame with the new graph has been painted: the first animation frame after the
  // commit paints it, and a timeout after the second frame runs after that paint.
  useEffect(() => {
    if (!onRendered) return;
    let id = requestAnimationFrame(() => {
      id = requestAnimationFrame(() => {
        id = window.setTimeout(() => onRendered(graph.nodes.length, layoutMs.current), 0);
      });
    });
    return () => {
      cancelAnimationFrame(id);
      clearTimeout(id);
    };
  }, [graph, onRendered]);

  return (
    <div className="graph" data-testid="graph">
      <div
        className="graph-viewport"
        ref={viewport}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={() => {
          press.current = null;
        }}
      >
        <div className="graph-canvas" ref={canvas} style={{ width: layout.width, height: layout.height }}>
          <svg className="graph-edges" width={layout.width} height={layout.height} aria-hidden="true">
            <path className="edge" d={edges.plain} />
            <path className="edge edge-walk" d={edges.walked} />
            {edges.labels.map((l) => (
              <text key={l.id} className="edge-label" x={l.x} y={l.y}>
                {l.text}
              </text>
            ))}
          </svg>
          {graph.nodes.map((n) => {
            const v = visits.get(n.id);
            const extra = cls.get(n.id);
            let className = `kobj kind-${n.kind}`;
            if (extra) className += ` ${extra.join(' ')}`;
            if (n.id === selected) className += ' selected';
            return (
              <KernelBox
                key={n.id}
                node={n}
                at={layout.positions.get(n.id) ?? ORIGIN}
                className={className}
                {...(v ? { visit: v.order, outcome: v.skipped ? 'skipped' : (v.result ?? v.pte) } : {})}
              />
            );
          })}
        </div>
      </div>
      <div className="graph-controls">
        <button type="button" title="zoom in" data-testid="zoom-in" onClick={() => zoomBy(BUTTON_STEP)}>
          +
        </button>
        <button type="button" title="zoom out" data-testid="zoom-out" onClick={() => zoomBy(1 / BUTTON_STEP)}>
          −
        </button>
        <button type="button" title="fit the whole graph" data-testid="zoom-fit" onClick={fit}>
          ⤢
        </button>
      </div>
    </div>
  );
}

const ORIGIN: Placed = { x: 0, y: 0 };
