/**
 * Which task holds which lock across the events of a statement, as a small Gantt chart: one row per
 * task and lock, one bar per hold (read, write or exclusive), the event cursor as a line.
 */
import type { TraceEvent } from '@rmaplab/mm';
import { useMemo } from 'react';
import { lockSpans } from '../model/locks';

export function LockTimeline({ events, cursor }: { events: readonly TraceEvent[]; cursor: number }) {
  const spans = useMemo(() => lockSpans(events), [events]);
  const rows = useMemo(() => {
    const out = new Map<string, typeof spans>();
    for (const s of spans) {
      const key = `${s.task} ${s.lock}`;
      (out.get(key) ?? out.set(key, []).get(key)!).push(s);
    }
    return [...out];
  }, [spans]);
  if (rows.length === 0) return <p className="muted">No lock was taken in this statement.</p>;
  const n = Math.max(1, events.length);
  const pct = (i: number) => `${(i / n) * 100}%`;
  return (
    <div className="lock-timeline" data-testid="lock-timeline">
      {rows.map(([key, holds]) => (
        <div className="lt-row" key={key}>
          <span className="lt-name" title={key}>
            {key}
          </span>
          <span className="lt-track">
            {holds.map((s) => (
              <span
                key={s.from}
                className={`lt-bar lt-${s.mode}${s.from <= cursor && cursor <= s.to ? ' lt-now' : ''}`}
                style={{ left: pct(s.from), width: pct(s.to - s.from + 1) }}
                title={`${s.mode}, events ${s.from + 1}–${s.to + 1}${s.open ? ' (still held)' : ''}`}
                data-from={s.from}
                data-to={s.to}
              />
            ))}
            {cursor >= 0 && <span className="lt-cursor" style={{ left: pct(cursor + 0.5) }} />}
          </span>
        </div>
      ))}
      <p className="muted lt-key">
        <span className="lt-bar lt-read lt-sample" /> read <span className="lt-bar lt-write lt-sample" />{' '}
        write <span className="lt-bar lt-exclusive lt-sample" /> exclusive · events 1–{events.length}
      </p>
    </div>
  );
}
