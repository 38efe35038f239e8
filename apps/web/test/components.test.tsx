import type { Observation } from '@rmaplab/scenario';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LocksPanel } from '../src/components/LocksPanel';
import { ObservationPanel } from '../src/components/ObservationPanel';
import { PageTables } from '../src/components/PageTables';
import { StepControls } from '../src/components/StepControls';
import { WalkPanel } from '../src/components/WalkPanel';
import { EXAMPLES } from '../src/model/examples';
import { replayLocks } from '../src/model/locks';
import { runSession } from '../src/model/session';
import { passesOf, walkStateAt } from '../src/model/walk';
import { UNMAP_TRACE } from './events';

afterEach(cleanup);

const kswapd = runSession(EXAMPLES.find((e) => e.name === '02-kswapd-reclaim')!.text);
const reclaim = kswapd.steps.filter((m) => m.op === 'reclaim')[1];
const events = kswapd.detail(reclaim.step).events;
const passes = passesOf(events, 'reclaim');

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
  it('shows one row per page with the CLI’s columns (anon_vma included), and the JSON line on opening', async () => {
    const obs: Observation = {
      step: 4,
      pages: [
        {
          mapcount: 2,
          flags: ['anon', 'swapbacked'],
          mappings: ['A:heap:0', 'B:heap:0'],
          pfn: 7,
          anonVma: 'AV3',
        },
        { mapcount: 0, flags: ['zero'], mappings: ['A:heap:1'], pfn: 0 },
      ],
      absent: ['A:heap:2'],
    };
    render(
      <ObservationPanel
        observation={obs}
        rows={2}
        paged={false}
        fetchRows={() => Promise.reject(new Error('not paged'))}
        fetchJson={() => Promise.resolve({ text: JSON.stringify(obs), cut: false })}
        listKey="k"
      />,
    );
    const table = screen.getByTestId('observation-table');
    expect([...table.querySelectorAll('thead th')].map((t) => t.textContent)).toEqual([
      'pfn',
      'mapcount',
      'flags',
      'anon_vma',
      'mapped at',
    ]);
    expect([...table.querySelectorAll('tbody tr')].map((r) => r.textContent)).toEqual([
      '72anon,swapbackedAV3A:heap:0 B:heap:0',
      'zero0zero-A:heap:1',
    ]);
    expect(screen.getByTestId('observation').textContent).toContain('A:heap:2');
    const details = screen.getByTestId('observation').querySelector('details')!;
    details.open = true;
    fireEvent(details, new Event('toggle'));
    await waitFor(() => expect(screen.getByTestId('observation-json').textContent).toBe(JSON.stringify(obs)));
  });

  it('renders only the rows in view of a long observation, fetching them page by page', async () => {
    const fetchRows = vi.fn((from: number, to: number) =>
      Promise.resolve(
        Array.from({ length: to - from }, (_, i) => ({
          pfn: from + i,
          mapcount: 1,
          flags: [],
          mappings: [],
        })),
      ),
    );
    render(
      <ObservationPanel
        observation={{ step: 1, pages: [], absent: [] }}
        rows={65_536}
        paged
        fetchRows={fetchRows}
        fetchJson={() => Promise.resolve({ text: '', cut: false })}
        listKey="big"
      />,
    );
    await waitFor(() =>
      expect(screen.getByTestId('observation-table').querySelector('tbody tr td')!.textContent).toBe('zero'),
    );
    expect(screen.getByTestId('observation-table').querySelectorAll('tbody tr').length).toBeLessThan(100);
    expect(fetchRows).toHaveBeenCalledWith(0, 256);
  });
});

describe('WalkPanel', () => {
  const props = {
    events,
    eventCount: events.length,
    paged: false,
    fetchEvents: () => Promise.resolve([]),
    listKey: 'k',
    passes,
    op: 'reclaim',
    kernel: '4.9',
  };

  it('marks the event’s own line in its own function, with its callers’ lines, and moves the cursor on click', () => {
    const onCursor = vi.fn();
    const i = events.findIndex((e, j) => j > passes[0].from && e.fn === 'page_check_address');
    render(<WalkPanel {...props} cursor={i} onCursor={onCursor} walk={walkStateAt(events, i, passes)} />);
    const code = screen.getByTestId('kernel-code');
    const current = code.querySelectorAll('.code-current');
    expect(current).toHaveLength(1);
    expect(current[0].closest('section')!.getAttribute('data-fn')).toBe('page_referenced_one');
    expect(current[0].textContent).toContain('page_check_address');
    expect(
      [...code.querySelectorAll('.code-frame')].map((l) => l.closest('section')!.getAttribute('data-fn')),
    ).toEqual(['shrink_page_list', 'page_referenced', 'rmap_walk_anon']);
    expect(screen.getByTestId('passes').textContent).toContain('pass 2: try_to_unmap');
    expect(screen.getByTestId('visit-order').textContent).toContain('vma:2 via avc:4');
    fireEvent.click(screen.getByTestId('event-list').querySelector('[data-index="0"]')!);
    expect(onCursor).toHaveBeenCalledWith(0);
  });

  it('renders only a window of a long event list', () => {
    const many = Array.from({ length: 50_000 }, () => events[0]);
    render(
      <WalkPanel
        {...props}
        events={many}
        eventCount={many.length}
        passes={[]}
        cursor={0}
        onCursor={() => {}}
        walk={null}
      />,
    );
    expect(screen.getByTestId('event-list').querySelectorAll('.ev').length).toBeLessThan(100);
  });
});

describe('LocksPanel', () => {
  it('lists held locks with their mode, the timeline and the lock-order reports', () => {
    render(
      <LocksPanel
        state={replayLocks(UNMAP_TRACE, 5)}
        events={UNMAP_TRACE}
        cursor={5}
        reports={['WARNING: lock order inversion']}
      />,
    );
    const text = screen.getByTestId('locks-panel').textContent ?? '';
    expect(text).toContain('anon_vma#3->rwsem');
    expect(text).toContain('read');
    expect(text).toContain('pte#1');
    expect(text).toContain('WARNING: lock order inversion');
    const bars = screen.getByTestId('lock-timeline').querySelectorAll('.lt-track .lt-bar');
    expect(bars).toHaveLength(3);
    expect([...bars].filter((b) => b.classList.contains('lt-now'))).toHaveLength(2);
  });
});

describe('PageTables', () => {
  it('lists each process’s VMAs and PTEs; a PTE selects its page', () => {
    const onSelect = vi.fn();
    const tables = kswapd.detail(kswapd.steps.length).tables;
    render(<PageTables tables={tables} selected={null} onSelect={onSelect} />);
    const pt = screen.getByTestId('page-tables');
    expect(pt.textContent).toContain('grandchild');
    const present = [...pt.querySelectorAll<HTMLButtonElement>('button.pte')].find((b) => !b.disabled)!;
    fireEvent.click(present);
    expect(onSelect.mock.calls[0][0]).toMatch(/^page:\d+$/);
    expect([...pt.querySelectorAll<HTMLButtonElement>('button.pte')].some((b) => b.disabled)).toBe(true);
  });
});
