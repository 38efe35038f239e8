/**
 * The walk view's side panel: the statement's passes (one rmap walk each, numbered on their own),
 * the VMAs the current pass visited, the trace events (a windowed list: click or Enter moves the
 * cursor), and beside them the kernel code: the call stack of the event at the cursor, its own line
 * marked in its own function. The event list and the code scroll separately, so both stay in view.
 */
import type { TraceEvent } from '@rmaplab/mm';
import { useCallback, useEffect, useMemo, useRef } from 'react';
import { lastCodeStack, listingFor, listingsFor } from '../model/kernel-code';
import { type Pass, passAt, type WalkState } from '../model/walk';
import { ScrollRegion } from './ScrollRegion';
import { usePagedRows, useVirtual } from './virtual';

export interface WalkPanelProps {
  /** All events, or empty when they are fetched page by page (`eventCount` of them). */
  events: readonly TraceEvent[];
  eventCount: number;
  paged: boolean;
  fetchEvents: (from: number, to: number) => Promise<TraceEvent[]>;
  /** Names the statement, so a new one drops fetched pages. */
  listKey: string;
  cursor: number;
  onCursor: (i: number) => void;
  walk: WalkState | null;
  passes: readonly Pass[];
  op: string;
  kernel: string;
}

const ROW = 22;

function passName(p: Pass): string {
  return `pass ${p.index}: ${p.client ?? 'rmap_walk'} → ${p.walker}${p.rmapOne ? ` → ${p.rmapOne}` : ''}`;
}

export function WalkPanel(props: WalkPanelProps) {
  const { events, eventCount, paged, fetchEvents, listKey, cursor, onCursor, walk, passes, op, kernel } =
    props;
  const list = useRef<HTMLElement>(null);
  const code = useRef<HTMLElement>(null);
  const win = useVirtual(list, eventCount, ROW, cursor);
  const row = usePagedRows(listKey, paged ? null : events, fetchEvents, win);
  const { stack, own } = useMemo(
    () => (paged ? { stack: [], own: false } : lastCodeStack(events, cursor, passes, op, kernel)),
    [paged, events, cursor, passes, op, kernel],
  );
  const listings = useMemo(
    () => (paged ? [] : listingsFor(events, passes, op, kernel)),
    [paged, events, passes, op, kernel],
  );
  const currentPass = passAt(passes, cursor);

  // Keep the marked code line in view inside the code column (never by scrolling the page).
  // biome-ignore lint/correctness/useExhaustiveDependencies: follows the cursor's stack
  useEffect(() => {
    const c = code.current;
    const line =
      c?.querySelector<HTMLElement>('.code-current') ??
      c?.querySelector<HTMLElement>('.code-frame:last-of-type');
    if (!c || !line) return;
    const top = line.offsetTop - c.offsetTop;
    if (top < c.scrollTop || top + line.offsetHeight > c.scrollTop + c.clientHeight)
      c.scrollTop = Math.max(0, top - c.clientHeight / 3);
  }, [stack]);

  const move = useCallback(
    (i: number) => onCursor(Math.max(0, Math.min(eventCount - 1, i))),
    [onCursor, eventCount],
  );

  if (eventCount === 0) return <p className="muted">This statement emitted no trace events.</p>;
  const last = stack.at(-1);
  const rows = [];
  for (let i = win.first; i < win.last; i++) {
    const e = row(i);
    const p = passAt(passes, i);
    rows.push(
      <button
        type="button"
        key={i}
        data-index={i}
        className={`ev ev-${e?.kind ?? 'pending'}${i === cursor ? ' ev-current' : ''}${i > cursor ? ' ev-future' : ''}`}
        style={{ height: ROW }}
        aria-current={i === cursor ? 'step' : undefined}
        onClick={() => move(i)}
      >
        <span className="ev-no">{i + 1}</span>
        <span className="ev-pass">{p ? `P${p.index}` : ''}</span>
        {e ? (
          <>
            <span className="ev-fn">{e.fn}</span> <span className="ev-task">{e.task}</span> {e.msg}
          </>
        ) : (
          '…'
        )}
      </button>,
    );
  }
  return (
    <div className="walk-panel">
      <div className="walk-events">
        <div className="walk-toolbar">
          <button type="button" onClick={() => move(0)} aria-label="first event" title="first event">
            «
          </button>
          <button
            type="button"
            onClick={() => move(cursor - 1)}
            aria-label="previous event"
            title="previous event (,)"
          >
            ◀
          </button>
          <span data-testid="event-position">
            event {cursor + 1} / {eventCount}
          </span>
          <button
            type="button"
            onClick={() => move(cursor + 1)}
            aria-label="next event"
            title="next event (.)"
          >
            ▶
          </button>
          <button
            type="button"
            onClick={() => move(eventCount - 1)}
            aria-label="last event"
            title="last event"
          >
            »
          </button>
        </div>
        {passes.length > 0 && (
          <ol className="passes" data-testid="passes">
            {passes.map((p) => (
              <li key={p.index} className={p === currentPass ? 'pass-current' : undefined}>
                <button type="button" className="link" onClick={() => move(p.from)}>
                  {passName(p)}
                </button>{' '}
                <span className="muted">
                  events {p.from + 1}–{p.to + 1}
                </span>
              </li>
            ))}
          </ol>
        )}
        {walk?.pass && walk.visited.length > 0 && (
          <ol
            className="visit-order"
            data-testid="visit-order"
            aria-label={`visits of pass ${walk.pass.index}`}
          >
            {walk.visited.map((v) => (
              <li key={`${v.order}`} data-node={v.node}>
                {v.node}
                {v.avc ? ` via ${v.avc}` : ''}
                {v.addr !== undefined ? ` @0x${v.addr.toString(16)}` : ''}
                {v.skipped ? ' skipped' : ''}
                {v.pte ? ` pte:${v.pte}` : ''}
                {v.result ? ` → ${v.result}` : ''}
              </li>
            ))}
          </ol>
        )}
        {walk?.result && (
          <div className="walk-result">
            pass {walk.pass?.index} result: {walk.result}
          </div>
        )}
        <ScrollRegion className="event-list" testId="event-list" ref={list} label="trace events">
          <div style={{ height: win.before }} />
          {rows}
          <div style={{ height: win.after }} />
        </ScrollRegion>
      </div>
      <ScrollRegion className="walk-code" testId="kernel-code" ref={code} label="kernel code">
        {paged && <p className="muted">This statement has too many events for the code view.</p>}
        {!paged && listings.length === 0 && <p className="muted">No rmap walk in this statement.</p>}
        {!own && last && (
          <p className="muted code-note">
            This event comes from code the panel does not list; the last listed line is marked.
          </p>
        )}
        {listings.map((name) => {
          const l = listingFor(name, kernel);
          if (!l) return null;
          const frame = stack.find((f) => f.listing === name);
          const isLast = frame === last;
          return (
            <section key={name} data-fn={name} className={frame ? 'listing-active' : undefined}>
              <h3>
                {l.fn}(){' '}
                <span className="muted">
                  {l.file}, as of {l.since}
                  {l.until ? ` (until ${l.until})` : ''}, paraphrased
                </span>
              </h3>
              <pre>
                {l.lines.map((line, i) => {
                  const hit = frame && line.id !== '' && line.id === frame.line;
                  return (
                    <div
                      // biome-ignore lint/suspicious/noArrayIndexKey: static listing
                      key={i}
                      data-line={line.id || undefined}
                      className={hit ? (isLast ? 'code-current' : 'code-frame') : undefined}
                    >
                      {line.text}
                    </div>
                  );
                })}
              </pre>
            </section>
          );
        })}
      </ScrollRegion>
    </div>
  );
}
