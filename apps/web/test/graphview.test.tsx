import { cleanup, fireEvent, render } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { GraphView } from '../src/components/GraphView';
import { edgePath, type GraphData, layoutGraph, NODE_HEIGHT, NODE_WIDTH } from '../src/model/graph';
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
  ],
  edges: [
    { id: 'e1', from: 'mm:1', to: 'vma:2', kind: 'mmap' },
    { id: 'e2', from: 'vma:2', to: 'avc:3', kind: 'anon_vma_chain' },
    { id: 'e3', from: 'avc:3', to: 'anon_vma:4', kind: 'avc' },
  ],
};

const WALK: WalkState = {
  root: 'anon_vma:4',
  page: null,
  visited: [{ node: 'vma:2', avc: 'avc:3', order: 1, result: 'SWAP_AGAIN' }],
  current: ['vma:2'],
  result: null,
};

function boxes(container: HTMLElement): HTMLElement[] {
  return [...container.querySelectorAll<HTMLElement>('.kobj')];
}

describe('GraphView', () => {
  it('draws one box per object at its layout position, with kind and walk classes and the visit badge', () => {
    const { container } = render(<GraphView graph={GRAPH} walk={WALK} selected="mm:1" onSelect={() => {}} />);
    const layout = layoutGraph(GRAPH);
    expect(boxes(container).map((b) => b.dataset.id)).toEqual(GRAPH.nodes.map((n) => n.id));
    for (const b of boxes(container)) {
      const p = layout.positions.get(b.dataset.id!)!;
      expect([b.style.left, b.style.top]).toEqual([`${p.x}px`, `${p.y}px`]);
    }
    const cls = (id: string) => container.querySelector(`[data-id="${id}"]`)!.className.split(' ');
    expect(cls('vma:2')).toEqual(expect.arrayContaining(['kind-vma', 'walk-visited', 'walk-current']));
    expect(cls('avc:3')).toContain('walk-avc');
    expect(cls('anon_vma:4')).toContain('walk-root');
    expect(cls('mm:1')).toContain('selected');
    expect(container.querySelector('[data-id="vma:2"] .visit-badge')!.textContent).toBe('1 SWAP_AGAIN');
    // The walked edges (VMA → AVC) are drawn in the highlighted path, the rest in the plain one.
    const walked = container.querySelector('.edge-walk')!.getAttribute('d');
    const p = layout.positions;
    expect(walked).toBe(edgePath(p.get('vma:2')!, p.get('avc:3')!));
  });

  it('selects the clicked object, clears on the empty pane, and does not select at the end of a drag', () => {
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
    expect(onSelect.mock.calls).toEqual([['vma:2'], [null]]);
    // The drag moved the canvas by the pointer's travel.
    expect((container.querySelector('.graph-canvas') as HTMLElement).style.transform).toMatch(
      /^translate\(50px, 30px\)/,
    );
  });
});

describe('edgePath', () => {
  it('runs from the right side of the left box to the left side of the right box, either way round', () => {
    const a = { x: 0, y: 0 };
    const b = { x: 400, y: 100 };
    const mid = NODE_HEIGHT / 2;
    expect(edgePath(a, b)).toMatch(new RegExp(`^M${NODE_WIDTH} ${mid}C.* 400 ${100 + mid}$`));
    expect(edgePath(b, a)).toMatch(new RegExp(`^M400 ${100 + mid}C.* ${NODE_WIDTH} ${mid}$`));
  });
});
