/**
 * The walk view's side panel: the statement's trace events (click one to move the cursor there), and
 * the kernel code with the line that produced the event at the cursor.
 */
import type { TraceEvent } from '@rmaplab/mm';
import { useEffect, useRef } from 'react';
import { LISTINGS, lastCodeLine, listingsFor } from '../model/kernel-code';
import type { WalkState } from '../model/walk';

export interface WalkPanelProps {
  events: readonly TraceEvent[];
  cursor: number;
  onCursor: (i: number) => void;
  walk: WalkState | null;
}

export function WalkPanel({ events, cursor, onCursor, walk }: WalkPanelProps) {
  const current = useRef<HTMLLIElement>(null);
  // Keep the event at the cursor in view as the walk plays.
  // biome-ignore lint/correctness/useExhaustiveDependencies: the ref moves with the cursor
  useEffect(() => {
    current.current?.scrollIntoView?.({ block: 'nearest' });
  }, [cursor]);
  if (events.length === 0) return <p className="muted">This statement emitted no trace events.</p>;
  const at = lastCodeLine(events, cursor);
  const listings = listingsFor(events);
  return (
    <div className="walk-panel">
      <div className="walk-events">
        <div className="walk-toolbar">
          <button type="button" onClick={() => onCursor(0)} title="first event">
            «
          </button>
          <button type="button" onClick={() => onCursor(Math.max(0, cursor - 1))} title="previous event (,)">
            ◀
          </button>
          <span data-testid="event-position">
            event {cursor + 1} / {events.length}
          </span>
          <button
            type="button"
            onClick={() => onCursor(Math.min(events.length - 1, cursor + 1))}
            title="next event (.)"
          >
            ▶
          </button>
          <button type="button" onClick={() => onCursor(events.length - 1)} title="last event">
            »
          </button>
        </div>
        {walk && walk.visited.length > 0 && (
          <ol className="visit-order" data-testid="visit-order">
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
        {walk?.result && <div className="walk-result">result: {walk.result}</div>}
        <ol className="event-list" data-testid="event-list">
          {events.map((e, i) => (
            <li
              // biome-ignore lint/suspicious/noArrayIndexKey: events are an append-only list of one step
              key={i}
              ref={i === cursor ? current : undefined}
              className={`ev ev-${e.kind}${i === cursor ? ' ev-current' : ''}${i > cursor ? ' ev-future' : ''}`}
              onClick={() => onCursor(i)}
              onKeyDown={(k) => k.key === 'Enter' && onCursor(i)}
            >
              <span className="ev-fn">{e.fn}</span> <span className="ev-task">{e.task}</span> {e.msg}
            </li>
          ))}
        </ol>
      </div>
      <div className="walk-code" data-testid="kernel-code">
        {listings.length === 0 && <p className="muted">No rmap walk in this statement.</p>}
        {listings.map((name) => {
          const l = LISTINGS[name];
          return (
            <section key={name}>
              <h4>
                {l.name} <span className="muted">{l.source}</span>
              </h4>
              <pre>
                {l.lines.map((line, i) => (
                  <div
                    // biome-ignore lint/suspicious/noArrayIndexKey: static listing
                    key={i}
                    className={
                      at && at.listing === name && line.id !== '' && at.line === line.id
                        ? 'code-current'
                        : undefined
                    }
                  >
                    {line.text}
                  </div>
                ))}
              </pre>
            </section>
          );
        })}
      </div>
    </div>
  );
}
