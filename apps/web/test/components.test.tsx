import type { Observation } from '@rmaplab/scenario';
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LocksPanel } from '../src/components/LocksPanel';
import { ObservationPanel } from '../src/components/ObservationPanel';
import { StepControls } from '../src/components/StepControls';
import { WalkPanel } from '../src/components/WalkPanel';
import { replayLocks } from '../src/model/locks';
import { walkStateAt } from '../src/model/walk';
import { UNMAP_TRACE } from './events';

afterEach(cleanup);

describe('StepControls', () => {
  it('clamps moves to 0..count and reports them', () => {
    const onCursor = vi.fn();
    render(
      <StepControls cursor={3} count={3} playing={false} onCursor={onCursor} onPlay={() => {}} current="" />,
    );
    fireEvent.click(screen.getByTestId('next'));
    fireEvent.click(screen.getByTestId('prev'));
    fireEvent.change(screen.getByTestId('jump'), { target: { value: '99' } });
    expect(onCursor.mock.calls.map((c) => c[0])).toEqual([3, 2, 3]);
    expect(screen.getByTestId('step-count').textContent).toBe('3');
  });
});

describe('ObservationPanel', () => {
  it('shows one row per page, the absent pages and the JSON line', () => {
    const obs: Observation = {
      step: 4,
      pages: [
        { mapcount: 2, flags: ['anon', 'swapbacked'], mappings: ['A:heap:0', 'B:heap:0'], pfn: 7 },
        { mapcount: 0, flags: ['zero'], mappings: ['A:heap:1'], pfn: 0 },
      ],
      absent: ['A:heap:2'],
    };
    render(<ObservationPanel observation={obs} json={JSON.stringify(obs)} />);
    const rows = screen.getByTestId('observation-table').querySelectorAll('tbody tr');
    expect([...rows].map((r) => r.textContent)).toEqual([
      '72anon swapbackedA:heap:0 B:heap:0',
      '00zeroA:heap:1',
    ]);
    expect(screen.getByTestId('observation').textContent).toContain('A:heap:2');
    expect(screen.getByTestId('observation-json').textContent).toBe(JSON.stringify(obs));
  });
});

describe('WalkPanel', () => {
  it('marks the kernel line of the event at the cursor and moves the cursor on click', () => {
    const onCursor = vi.fn();
    const i = UNMAP_TRACE.findIndex((e) => e.fn === 'invalid_vma' || e.fn === 'page_check_address');
    render(
      <WalkPanel events={UNMAP_TRACE} cursor={i} onCursor={onCursor} walk={walkStateAt(UNMAP_TRACE, i)} />,
    );
    const current = screen.getByTestId('kernel-code').querySelectorAll('.code-current');
    expect(current).toHaveLength(1);
    expect(current[0].textContent).toContain('page_check_address');
    expect(screen.getByTestId('visit-order').textContent).toContain('vma:2 via avc:4');
    fireEvent.click(screen.getByTestId('event-list').querySelectorAll('li')[0]);
    expect(onCursor).toHaveBeenCalledWith(0);
  });
});

describe('LocksPanel', () => {
  it('lists held locks with their mode, and the lock-order reports', () => {
    render(<LocksPanel state={replayLocks(UNMAP_TRACE, 5)} reports={['WARNING: lock order inversion']} />);
    const text = screen.getByTestId('locks-panel').textContent ?? '';
    expect(text).toContain('anon_vma#3->rwsem');
    expect(text).toContain('read');
    expect(text).toContain('pte#1');
    expect(text).toContain('WARNING: lock order inversion');
  });
});
