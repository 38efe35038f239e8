/** The locks panel: held locks per task at the event cursor, contention, and lock-order reports. */
import type { LockState } from '../model/locks';

export interface LocksPanelProps {
  state: LockState;
  /** lockdep-style reports raised up to the current step. */
  reports: readonly string[];
}

export function LocksPanel({ state, reports }: LocksPanelProps) {
  const tasks = [...state.held.entries()];
  return (
    <div className="locks-panel" data-testid="locks-panel">
      <h4>Held at this event</h4>
      {tasks.length === 0 ? (
        <p className="muted">No task holds a simulated lock.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>task</th>
              <th>lock</th>
              <th>mode</th>
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
      <h4>Contention</h4>
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
      <h4>Lock-order reports</h4>
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
