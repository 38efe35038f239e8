/** The locks panel: the statement's lock timeline, held locks per task at the event cursor, contention, and lock-order reports. */
import type { TraceEvent } from '@rmaplab/mm';
import type { LockState } from '../model/locks';
import { LockTimeline } from './LockTimeline';

export interface LocksPanelProps {
  state: LockState;
  events: readonly TraceEvent[];
  cursor: number;
  /** lockdep-style reports raised up to the current step. */
  reports: readonly string[];
}

export function LocksPanel({ state, events, cursor, reports }: LocksPanelProps) {
  const tasks = [...state.held.entries()];
  return (
    <div className="locks-panel" data-testid="locks-panel">
      <h3>Timeline</h3>
      <LockTimeline events={events} cursor={cursor} />
      <h3>Held at this event</h3>
      {tasks.length === 0 ? (
        <p className="muted">No task holds a simulated lock.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">task</th>
              <th scope="col">lock</th>
              <th scope="col">mode</th>
            </tr>
          </thead>
          <tbody>
            {tasks.flatMap(([task, held]) =>
              held.map((h) => (
                <tr key={`${task}/${h.lock}/${h.since}`}>
                  <td>{task}</td>
                  <td>{h.lock}</td>
                  <td>{h.mode}</td>
                </tr>
              )),
            )}
          </tbody>
        </table>
      )}
      <h3>Contention</h3>
      {state.incidents.length === 0 ? (
        <p className="muted">None in this statement so far.</p>
      ) : (
        <ul>
          {state.incidents.map((c) => (
            <li key={c.index}>
              {c.task}: {c.action} on {c.lock}
            </li>
          ))}
        </ul>
      )}
      <h3>Lock-order reports</h3>
      {reports.length === 0 ? (
        <p className="muted">The lock validator has reported nothing.</p>
      ) : (
        reports.map((r, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: reports are append-only
          <pre key={i} className="lock-report">
            {r}
          </pre>
        ))
      )}
    </div>
  );
}
