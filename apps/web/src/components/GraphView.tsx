/**
 * The state graph: one DOM box per kernel object (so tests, screen readers and the keyboard reach
 * `[data-id="vma:7"]`), placed absolutely from our own layout, over one SVG of typed, directed
 * edges (a path and an arrowhead per edge, coloured by kind, routed along the free lanes). A purpose-built
 * renderer rather than a general graph library: the layout is known before anything is drawn, so a
 * step is one React commit and one paint, and pan/zoom only rewrite one CSS transform. A large graph
 * renders only the boxes near the view.
 */
import { memo, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { GraphChanges } from '../model/diff';
import { drawn, drawnEdge, edgeKindIndex, kindsIn } from '../model/edges';
import { EDGE_COLOURS, edgeShift } from '../model/export';
import {
  type Cell,
  edgeRoute,
  type GraphData,
  type GraphNodeData,
  type Layout,
  layoutGraph,
  NODE_HEIGHT,
  NODE_WIDTH,
  routePath,
  summaryOf,
} from '../model/graph';
import {
  DETAIL_ZOOM,
  fitTransform,
  readableTransform,
  revealTransform,
  type ViewTransform,
  zoomAt,
} from '../model/viewport';
import type { WalkState } from '../model/walk';

interface KernelBoxProps {
  node: GraphNodeData;
  at: Cell;
  className: string;
  selected: boolean;
  /** 1-based visit order in the walk's pass, when visited. */
  visit?: number;
  /** rmap_one result or invalid_vma skip, shown beside the order. */
  outcome?: string;
  onKey: (e: React.KeyboardEvent, id: string) => void;
  onFocusBox: (id: string) => void;
}

/** One kernel object. Memoised on stable props, so a highlight change re-renders only the boxes it touches. */
const KernelBox = memo(function KernelBox({
  node,
  at,
  className,
  selected,
  visit,
  outcome,
  onKey,
  onFocusBox,
}: KernelBoxProps) {
  return (
    // biome-ignore lint/a11y/useSemanticElements: a positioned box holding several lines, not a form button
    <div
      className={className}
      data-id={node.id}
      role="button"
      tabIndex={0}
      aria-pressed={selected}
      onKeyDown={(e) => onKey(e, node.id)}
      onFocus={() => onFocusBox(node.id)}
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

/** Highlight classes of every node the walk touched or the step changed, by node id. */
export function highlightClasses(
  walk: WalkState | null,
  changes: GraphChanges | null,
): Map<string, string[]> {
  const cls = new Map<string, string[]>();
  const add = (id: string | null | undefined, c: string) => {
    if (!id) return;
    const list = cls.get(id) ?? [];
    list.push(c);
    cls.set(id, list);
  };
  for (const id of changes?.added ?? []) add(id, 'chg-added');
  for (const id of changes?.changed ?? []) add(id, 'chg-changed');
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
  changes?: GraphChanges | null;
  selected: string | null;
  onSelect: (id: string | null) => void;
  /** A new value puts the view back to its readable start (a new scenario); steps keep pan and zoom. */
  viewKey?: number;
  /** Called after the browser has painted a new graph, with the layout time, for the perf report. */
  onRendered?: (nodes: number, layoutMs: number) => void;
}

/** A press that moves less than this many pixels is a click (inspect), not a pan. */
const CLICK_SLOP = 4;
const WHEEL_STEP = 1.0015;
const BUTTON_STEP = 1.25;
/** Graphs with more objects than this render only the boxes near the view. */
export const WINDOWED_FROM = 400;
/** How far beyond the view (a fraction of it) windowed boxes are rendered, so a pan shows no gap. */
const WINDOW_MARGIN = 0.5;

interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

function viewBox(t: ViewTransform, w: number, h: number): Box {
  const mx = (w * WINDOW_MARGIN) / t.k;
  const my = (h * WINDOW_MARGIN) / t.k;
  return { x0: -t.x / t.k - mx, y0: -t.y / t.k - my, x1: (w - t.x) / t.k + mx, y1: (h - t.y) / t.k + my };
}

function inside(c: Cell, b: Box): boolean {
  return c.x + NODE_WIDTH >= b.x0 && c.x <= b.x1 && c.y + NODE_HEIGHT >= b.y0 && c.y <= b.y1;
}

export function GraphView({
  graph,
  walk,
  changes,
  selected,
  onSelect,
  viewKey = 0,
  onRendered,
}: GraphViewProps) {
  const viewport = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLDivElement>(null);
  const view = useRef<ViewTransform>({ x: 0, y: 0, k: 1 });
  const layoutMs = useRef(0);
  const layout: Layout = useMemo(() => {
    const t0 = performance.now();
    const l = layoutGraph({ nodes: graph.nodes, edges: graph.edges.filter(drawn) });
    layoutMs.current = performance.now() - t0;
    return l;
  }, [graph]);
  const windowed = graph.nodes.length > WINDOWED_FROM;
  const [win, setWin] = useState<Box | null>(null);
  const winFrame = useRef(0);

  /** Pan and zoom write the transform straight to the DOM: no React render per wheel tick or drag. */
  const apply = useCallback(
    (t: ViewTransform, now = false) => {
      view.current = t;
      const c = canvas.current;
      const v = viewport.current;
      if (!c || !v) return;
      c.style.transform = `translate(${t.x}px, ${t.y}px) scale(${t.k})`;
      v.classList.toggle('graph-coarse', t.k < DETAIL_ZOOM);
      if (!windowed) return;
      cancelAnimationFrame(winFrame.current);
      if (now) {
        setWin(viewBox(t, v.clientWidth, v.clientHeight));
        return;
      }
      winFrame.current = requestAnimationFrame(() => setWin(viewBox(t, v.clientWidth, v.clientHeight)));
    },
    [windowed],
  );

  const fit = useCallback(() => {
    const v = viewport.current;
    if (v) apply(fitTransform(layout.width, layout.height, v.clientWidth, v.clientHeight));
  }, [apply, layout]);

  // A new scenario starts at the readable 1:1 view; a step keeps the reader's pan and zoom. Before
  // paint, so no frame shows the new graph at the old place.
  const started = useRef<number | null>(null);
  const wasEmpty = useRef(true);
  useLayoutEffect(() => {
    const v = viewport.current;
    if (!v) return;
    // The empty machine of step 0 has no size to start from: the first objects get the start view.
    const empty = layout.positions.size === 0;
    if (started.current !== viewKey || (wasEmpty.current && !empty)) {
      started.current = viewKey;
      wasEmpty.current = empty;
      apply(
        readableTransform(layout.width, layout.height, v.clientWidth, v.clientHeight, layout.startY),
        true,
      );
    } else apply(view.current, true);
  }, [viewKey, layout, apply]);

  const zoomBy = useCallback(
    (factor: number, px?: number, py?: number) => {
      const v = viewport.current;
      if (!v) return;
      apply(zoomAt(view.current, factor, px ?? v.clientWidth / 2, py ?? v.clientHeight / 2));
    },
    [apply],
  );

  // The wheel scrolls the view; with Ctrl (or a pinch, which arrives as Ctrl+wheel) it zooms. It
  // needs a non-passive listener to keep the page from scrolling.
  useEffect(() => {
    const v = viewport.current;
    if (!v) return;
    const onWheel = (e: WheelEvent) => {
      e.preventDefault();
      const r = v.getBoundingClientRect();
      if (e.ctrlKey || e.metaKey) zoomBy(WHEEL_STEP ** -e.deltaY, e.clientX - r.left, e.clientY - r.top);
      else apply({ ...view.current, x: view.current.x - e.deltaX, y: view.current.y - e.deltaY });
    };
    v.addEventListener('wheel', onWheel, { passive: false });
    return () => v.removeEventListener('wheel', onWheel);
  }, [zoomBy, apply]);

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
    if (!p.moved && Math.abs(dx) + Math.abs(dy) < CLICK_SLOP) return;
    if (!p.moved) (e.currentTarget as Element).setPointerCapture?.(e.pointerId);
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

  const onKey = useCallback(
    (e: React.KeyboardEvent, id: string) => {
      if (e.key !== 'Enter' && e.key !== ' ') return;
      e.preventDefault();
      e.stopPropagation();
      onSelect(id);
    },
    [onSelect],
  );
  // A box reached by Tab is brought into view.
  const onFocusBox = useCallback(
    (id: string) => {
      const v = viewport.current;
      const c = layout.positions.get(id);
      if (!v || !c) return;
      const t = revealTransform(
        view.current,
        c.x,
        c.y,
        NODE_WIDTH,
        NODE_HEIGHT,
        v.clientWidth,
        v.clientHeight,
      );
      if (t.x !== view.current.x || t.y !== view.current.y) apply(t);
      // Focus must not scroll the viewport itself (its overflow is hidden; the transform pans).
      v.scrollTop = 0;
      v.scrollLeft = 0;
    },
    [layout, apply],
  );

  const cls = useMemo(() => highlightClasses(walk, changes ?? null), [walk, changes]);
  const visits = useMemo(() => new Map(walk?.visited.map((v) => [v.node, v]) ?? []), [walk]);

  const shown = useMemo(() => {
    if (!windowed) return null;
    // Until the view is measured (the layout effect below, before paint), nothing is known to be visible.
    if (!win) return new Set<string>();
    const ids = new Set<string>();
    for (const [id, c] of layout.positions) if (inside(c, win)) ids.add(id);
    return ids;
  }, [windowed, win, layout]);

  const edges = useMemo(() => {
    const hot = new Set(walk?.visited.flatMap((v) => (v.avc ? [v.avc, v.node] : [v.node])) ?? []);
    if (walk?.root) hot.add(walk.root);
    const out: { id: string; d: string; k: number; hot: boolean; from: string; to: string; kind: string }[] =
      [];
    for (const e of graph.edges) {
      if (!drawn(e)) continue;
      const d = drawnEdge(e);
      if (shown && !shown.has(d.from) && !shown.has(d.to)) continue;
      const a = layout.positions.get(d.from);
      const b = layout.positions.get(d.to);
      if (!a || !b || d.from === d.to) continue;
      out.push({
        id: e.id,
        d: routePath(edgeRoute(layout, a, b, edgeShift(e.kind))),
        k: edgeKindIndex(e.kind),
        hot: hot.has(d.from) && hot.has(d.to),
        from: d.from,
        to: d.to,
        kind: e.kind,
      });
    }
    return out;
  }, [graph, layout, walk, shown]);

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

  const legend = useMemo(() => kindsIn(graph), [graph]);

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
            <defs>
              {EDGE_COLOURS.map((c, i) => (
                <marker
                  // biome-ignore lint/suspicious/noArrayIndexKey: one marker per colour, fixed
                  key={i}
                  id={`arrow-${i}`}
                  viewBox="0 0 10 10"
                  refX="10"
                  refY="5"
                  markerWidth="7"
                  markerHeight="7"
                  orient="auto"
                >
                  <path d="M0 0L10 5L0 10z" fill={c} />
                </marker>
              ))}
            </defs>
            {edges.map((e) => (
              <path
                key={e.id}
                className={e.hot ? 'edge edge-walk' : 'edge'}
                d={e.d}
                stroke={EDGE_COLOURS[e.k]}
                markerEnd={`url(#arrow-${e.k})`}
                data-kind={e.kind}
                data-from={e.from}
                data-to={e.to}
              />
            ))}
          </svg>
          {graph.nodes.map((n) => {
            if (shown && !shown.has(n.id)) return null;
            const v = visits.get(n.id);
            const extra = cls.get(n.id);
            let className = `kobj kind-${n.kind}`;
            if (extra) className += ` ${extra.join(' ')}`;
            if (n.id === selected) className += ' selected';
            return (
              <KernelBox
                key={n.id}
                node={n}
                at={layout.positions.get(n.id)!}
                className={className}
                selected={n.id === selected}
                onKey={onKey}
                onFocusBox={onFocusBox}
                {...(v ? { visit: v.order, outcome: v.skipped ? 'skipped' : (v.result ?? v.pte) } : {})}
              />
            );
          })}
        </div>
      </div>
      <div className="graph-bar">
        <div className="graph-controls">
          <button
            type="button"
            aria-label="zoom in"
            title="zoom in (Ctrl+wheel)"
            data-testid="zoom-in"
            onClick={() => zoomBy(BUTTON_STEP)}
          >
            +
          </button>
          <button
            type="button"
            aria-label="zoom out"
            title="zoom out (Ctrl+wheel)"
            data-testid="zoom-out"
            onClick={() => zoomBy(1 / BUTTON_STEP)}
          >
            −
          </button>
          <button
            type="button"
            aria-label="fit the whole graph"
            title="fit the whole graph"
            data-testid="zoom-fit"
            onClick={fit}
          >
            fit
          </button>
          <button
            type="button"
            aria-label="1:1 (readable size)"
            title="readable size (1:1)"
            data-testid="zoom-reset"
            onClick={() => {
              const v = viewport.current;
              if (v)
                apply(
                  readableTransform(
                    layout.width,
                    layout.height,
                    v.clientWidth,
                    v.clientHeight,
                    layout.startY,
                  ),
                );
            }}
          >
            1:1
          </button>
        </div>
        {legend.length > 0 && (
          <ul className="legend" data-testid="legend" aria-label="edge kinds">
            {legend.map((k) => (
              <li key={k.kind} title={k.title}>
                <svg width="26" height="10" aria-hidden="true">
                  <line
                    x1="0"
                    y1="5"
                    x2="20"
                    y2="5"
                    stroke={EDGE_COLOURS[edgeKindIndex(k.kind)]}
                    strokeWidth="2"
                  />
                  <path d="M18 1L26 5L18 9z" fill={EDGE_COLOURS[edgeKindIndex(k.kind)]} />
                </svg>
                {k.label}
              </li>
            ))}
          </ul>
        )}
      </div>
    </div>
  );
}
