/**
 * The state graph after the current step: one DOM node per kernel object (so tests and screen readers
 * can find `[data-id="vma:7"]`), laid out by rank, with the walk's highlights as classes.
 */
import {
  Background,
  Controls,
  type Edge,
  Handle,
  type Node,
  type NodeProps,
  Position,
  ReactFlow,
  ReactFlowProvider,
  useReactFlow,
} from '@xyflow/react';
import { memo, useEffect, useMemo, useRef } from 'react';
import { type GraphData, layoutGraph, NODE_HEIGHT, NODE_WIDTH, summaryOf } from '../model/graph';
import type { WalkState } from '../model/walk';

export interface KernelNodeData extends Record<string, unknown> {
  kind: string;
  label: string;
  summary: string[];
  /** 1-based visit order in the walk, when visited. */
  visit?: number;
  /** rmap_one result or invalid_vma skip, shown beside the order. */
  outcome?: string;
}

type KernelNode = Node<KernelNodeData, 'kernel'>;

const KernelObject = memo(function KernelObject({ data }: NodeProps<KernelNode>) {
  return (
    <div className="kobj-body" title={`${data.kind} ${data.label}`}>
      <Handle type="target" position={Position.Left} isConnectable={false} />
      <Handle type="source" position={Position.Right} isConnectable={false} />
      <div className="kobj-kind">{data.kind.replace('_', ' ')}</div>
      <div className="kobj-label">{data.label}</div>
      {data.summary.map((s) => (
        <div className="kobj-field" key={s}>
          {s}
        </div>
      ))}
      {data.visit !== undefined && (
        <span className="visit-badge" data-testid="visit-badge">
          {data.visit}
          {data.outcome ? ` ${data.outcome}` : ''}
        </span>
      )}
    </div>
  );
});

const nodeTypes = { kernel: KernelObject };

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

function Flow({ graph, walk, selected, onSelect, onRendered }: GraphViewProps) {
  const { fitView } = useReactFlow();
  const layoutMs = useRef(0);
  const layout = useMemo(() => {
    const t0 = performance.now();
    const l = layoutGraph(graph);
    layoutMs.current = performance.now() - t0;
    return l;
  }, [graph]);

  const nodes = useMemo<KernelNode[]>(() => {
    const cls = walkClasses(walk);
    const visits = new Map(walk?.visited.map((v) => [v.node, v]) ?? []);
    return graph.nodes.map((n) => {
      const v = visits.get(n.id);
      const classes = [`kobj`, `kind-${n.kind}`, ...(cls.get(n.id) ?? [])];
      if (n.id === selected) classes.push('selected');
      return {
        id: n.id,
        type: 'kernel',
        position: layout.positions.get(n.id) ?? { x: 0, y: 0 },
        width: NODE_WIDTH,
        height: NODE_HEIGHT,
        className: classes.join(' '),
        draggable: false,
        data: {
          kind: n.kind,
          label: n.label,
          summary: summaryOf(n),
          ...(v ? { visit: v.order, outcome: v.skipped ? 'skipped' : (v.result ?? v.pte) } : {}),
        },
      };
    });
  }, [graph, layout, walk, selected]);

  const edges = useMemo<Edge[]>(() => {
    const hot = new Set(walk?.visited.flatMap((v) => (v.avc ? [v.avc, v.node] : [v.node])) ?? []);
    return graph.edges.map((e) => ({
      id: e.id,
      source: e.from,
      target: e.to,
      className: `edge-${e.kind}${hot.has(e.from) && hot.has(e.to) ? ' edge-walk' : ''}`,
      // Only the i_mmap order is worth a label on the canvas; PTE labels (hundreds) are in the inspector.
      ...(e.label && e.kind === 'i_mmap' ? { label: e.label } : {}),
    }));
  }, [graph, walk]);

  // Refit when the set of objects changes size, not on every highlight.
  const count = graph.nodes.length;
  useEffect(() => {
    void count;
    fitView({ padding: 0.08, duration: 0 });
  }, [count, fitView]);

  // Report once the frame with the new graph has been painted: xyflow draws edges after measuring
  // the nodes (one more frame), and a timeout after the second frame runs after its paint.
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
    <ReactFlow
      nodes={nodes}
      edges={edges}
      nodeTypes={nodeTypes}
      onNodeClick={(_, n) => onSelect(n.id)}
      onPaneClick={() => onSelect(null)}
      nodesConnectable={false}
      nodesDraggable={false}
      minZoom={0.05}
      onlyRenderVisibleElements={graph.nodes.length > 600}
      proOptions={{ hideAttribution: true }}
      fitView
    >
      <Background gap={24} />
      <Controls showInteractive={false} />
    </ReactFlow>
  );
}

export function GraphView(props: GraphViewProps) {
  return (
    <div className="graph" data-testid="graph">
      <ReactFlowProvider>
        <Flow {...props} />
      </ReactFlowProvider>
    </div>
  );
}
