import { cleanup, fireEvent, render } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { GraphView, WINDOWED_FROM } from '../src/components/GraphView';
import { edgeRoute, type GraphData, layoutGraph, routePath } from '../src/model/graph';
import type { WalkState } from '../src/model/walk';

afterEach(cleanup);

// jsdom has neither pointer events nor pointer capture: a MouseEvent carries the same button and coordinates.
globalThis.PointerEvent ??= class PointerEvent extends MouseEvent {} as typeof globalThis.PointerEvent;
Element.prototype.setPointerCapture ??= () => {};

const GRAPH: GraphData = {
  nodes: [
    { id: 'mm:1', kind: 'process', label: 'A', fields: { pid: 1 } },
    { id: 'vma:2', kind: 'vma', label: 'A heap', fields: { vm_pgoff: 0 } },
    { id: 'avc:3', kind: 'avc', label: 'AVC3', fields: {} },
    { id: 'anon_vma:4', kind: 'anon_vma', label: 'AV4', fields: {} },
    { id: 'page:5', kind: 'page', label: 'pfn 5', fields: {} },
  ],
  edges: [
    { id: 'e1', from: 'mm:1', to: 'vma:2', kind: 'vma' },
    { id: 'e2', from: 'vma:2', to: 'avc:3', kind: 'anon_vma_chain' },
    { id: 'e3', from: 'avc:3', to: 'anon_vma:4', kind: 'avc_anon_vma' },
    { id: 'e4', from: 'vma:2', to: 'page:5', kind: 'pte', label: 'A:heap:0' },
    { id: 'e5', from: 'page:5', to: 'anon_vma:4', kind: 'mapping' },
    { id: 'e6', from: 'vma:2', to: 'anon_vma:4', kind: 'anon_vma' },
  ],
};

const WALK: WalkState = {
  pass: null,
  root: 'anon_vma:4',
  page: 'page:5',
  visited: [{ node: 'vma:2', avc: 'avc:3', order: 1, result: 'SWAP_AGAIN' }],
  current: ['vma:2'],
  result: null,
};

function boxes(container: HTMLElement): HTMLElement[] {
  return [...container.querySelectorAll<HTMLElement>('.kobj')];
}

describe('GraphView', () => {
  it('draws one keyboard-reachable box per object at its layout position, with kind, walk and change classes', () => {
    const { container } = render(
      <GraphView
        graph={GRAPH}
        walk={WALK}
        changes={{ added: ['page:5'], changed: ['mm:1'], removed: [] }}
        selected="mm:1"
        onSelect={() => {}}
      />,
    );
    const layout = layoutGraph(GRAPH);
    expect(boxes(container).map((b) => b.dataset.id)).toEqual(GRAPH.nodes.map((n) => n.id));
    for (const b of boxes(container)) {
      const p = layout.positions.get(b.dataset.id!)!;
      expect([b.style.left, b.style.top]).toEqual([`${p.x}px`, `${p.y}px`]);
      expect(b.tabIndex).toBe(0);
      expect(b.getAttribute('role')).toBe('button');
    }
    const cls = (id: string) => container.querySelector(`[data-id="${id}"]`)!.className.split(' ');
    expect(cls('vma:2')).toEqual(expect.arrayContaining(['kind-vma', 'walk-visited', 'walk-current']));
    expect(cls('avc:3')).toContain('walk-avc');
    expect(cls('anon_vma:4')).toContain('walk-root');
    expect(cls('mm:1')).toEqual(expect.arrayContaining(['selected', 'chg-changed']));
    expect(cls('page:5')).toContain('chg-added');
    expect(container.querySelector('[data-id="vma:2"] .visit-badge')!.textContent).toBe('1 SWAP_AGAIN');
  });

  it('draws each edge in its pointer’s direction with an arrowhead by kind, and a legend of the kinds present', () => {
    const { container, getByTestId } = render(
      <GraphView graph={GRAPH} walk={WALK} selected={null} onSelect={() => {}} />,
    );
    const edges = [...container.querySelectorAll('path.edge')].map((p) => [
      p.getAttribute('data-kind'),
      p.getAttribute('data-from'),
      p.getAttribute('data-to'),
    ]);
    // avc->vma points from the AVC to its VMA; vma->anon_vma is left out (the AVCs show it).
    expect(edges).toEqual([
      ['vma', 'mm:1', 'vma:2'],
      ['anon_vma_chain', 'avc:3', 'vma:2'],
      ['avc_anon_vma', 'avc:3', 'anon_vma:4'],
      ['pte', 'vma:2', 'page:5'],
      ['mapping', 'page:5', 'anon_vma:4'],
    ]);
    for (const p of container.querySelectorAll('path.edge'))
      expect(p.getAttribute('marker-end')).toMatch(/^url\(#arrow-\d+\)$/);
    const l = layoutGraph(GRAPH);
    const pte = container.querySelector('path[data-kind="pte"]')!;
    expect(pte.getAttribute('d')).toBe(
      routePath(edgeRoute(l, l.positions.get('vma:2')!, l.positions.get('page:5')!, 4 * ((0 % 5) - 2))),
    );
    expect(container.querySelector('path[data-kind="anon_vma_chain"]')!.classList.contains('edge-walk')).toBe(
      true,
    );
    expect([...getByTestId('legend').querySelectorAll('li')].map((li) => li.textContent)).toEqual([
      'PTE',
      'page->mapping',
      'avc->vma',
      'avc->anon_vma',
      'mm → VMA',
    ]);
  });

  it('selects the clicked object, clears on the empty pane, does not select at the end of a drag; Enter selects', () => {
    const onSelect = vi.fn();
    const { container } = render(<GraphView graph={GRAPH} walk={null} selected={null} onSelect={onSelect} />);
    const box = container.querySelector('[data-id="vma:2"] .kobj-label')!;
    fireEvent.pointerDown(box, { button: 0, clientX: 10, clientY: 10 });
    fireEvent.pointerUp(box, { button: 0, clientX: 10, clientY: 10 });
    const pane = container.querySelector('.graph-viewport')!;
    fireEvent.pointerDown(pane, { button: 0, clientX: 10, clientY: 10 });
    fireEvent.pointerUp(pane, { button: 0, clientX: 10, clientY: 10 });
    fireEvent.pointerDown(box, { button: 0, clientX: 10, clientY: 10 });
    fireEvent.pointerMove(box, { clientX: 60, clientY: 40 });
    fireEvent.pointerUp(box, { clientX: 60, clientY: 40 });
    fireEvent.keyDown(container.querySelector('[data-id="page:5"]')!, { key: 'Enter' });
    expect(onSelect.mock.calls).toEqual([['vma:2'], [null], ['page:5']]);
    expect((container.querySelector('.graph-canvas') as HTMLElement).style.transform).toMatch(/^translate\(/);
  });

  it('keeps pan and zoom across steps and starts again for a new scenario', () => {
    const { container, rerender } = render(
      <GraphView graph={GRAPH} walk={null} selected={null} onSelect={() => {}} viewKey={1} />,
    );
    const canvas = container.querySelector('.graph-canvas') as HTMLElement;
    const pane = container.querySelector('.graph-viewport')!;
    fireEvent.pointerDown(pane, { button: 0, clientX: 10, clientY: 10 });
    fireEvent.pointerMove(pane, { clientX: 110, clientY: 60 });
    fireEvent.pointerUp(pane, { clientX: 110, clientY: 60 });
    const panned = canvas.style.transform;
    const more = {
      nodes: [...GRAPH.nodes, { id: 'page:9', kind: 'page', label: 'pfn 9', fields: {} }],
      edges: GRAPH.edges,
    };
    rerender(<GraphView graph={more} walk={null} selected={null} onSelect={() => {}} viewKey={1} />);
    expect(canvas.style.transform).toBe(panned);
    rerender(<GraphView graph={more} walk={null} selected={null} onSelect={() => {}} viewKey={2} />);
    expect(canvas.style.transform).not.toBe(panned);
  });

  it('renders only the boxes near the view of a large graph', () => {
    const n = WINDOWED_FROM * 3;
    const big: GraphData = {
      nodes: Array.from({ length: n }, (_, i) => ({
        id: `page:${i}`,
        kind: 'page',
        label: `pfn ${i}`,
        fields: {},
      })),
      edges: [],
    };
    // jsdom lays nothing out: give the viewport a screen's size.
    const size = vi.spyOn(HTMLElement.prototype, 'clientWidth', 'get').mockReturnValue(1000);
    const height = vi.spyOn(HTMLElement.prototype, 'clientHeight', 'get').mockReturnValue(600);
    try {
      const { container } = render(<GraphView graph={big} walk={null} selected={null} onSelect={() => {}} />);
      expect(boxes(container).length).toBeGreaterThan(0);
      expect(boxes(container).length).toBeLessThan(n / 2);
    } finally {
      size.mockRestore();
      height.mockRestore();
    }
  });
});
