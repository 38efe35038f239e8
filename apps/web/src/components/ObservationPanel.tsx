/** The observation of an `observe` statement: the table and the exact JSON line the CLI prints with --json. */
import type { Observation } from '@rmaplab/scenario';

export interface ObservationPanelProps {
  observation: Observation | undefined;
  json: string | undefined;
  /** Set when the observation shown is from an earlier step than the current one. */
  fromStep?: number;
}

export function ObservationPanel({ observation, json, fromStep }: ObservationPanelProps) {
  if (!observation) return <p className="muted">No observe statement up to this step.</p>;
  return (
    <div className="observation" data-testid="observation">
      {fromStep !== undefined && <p className="muted">Latest observation: step {fromStep}.</p>}
      <table data-testid="observation-table">
        <thead>
          <tr>
            <th>pfn</th>
            <th>mapcount</th>
            <th>flags</th>
            <th>mappings</th>
          </tr>
        </thead>
        <tbody>
          {observation.pages.map((p, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: rows are a snapshot
            <tr key={i}>
              <td>{p.pfn ?? ''}</td>
              <td>{p.mapcount}</td>
              <td>{p.flags.join(' ')}</td>
              <td>{p.mappings.join(' ')}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p>
        <strong>absent:</strong> {observation.absent.length ? observation.absent.join(' ') : '(none)'}
      </p>
      <details>
        <summary>JSON (as printed by the CLI with --json)</summary>
        <pre data-testid="observation-json">{json}</pre>
      </details>
    </div>
  );
}
