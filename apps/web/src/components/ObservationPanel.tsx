/**
 * The observation of an `observe` statement: the CLI's table with its cells as the CLI writes them,
 * rows in the observation's own order (a windowed list, so 65,536 rows cost one screenful) and the exact JSON line the CLI prints with --json, fetched when opened.
 */
import { compressMappings, type Observation, type ObservedPage } from '@rmaplab/scenario';
import { useRef, useState } from 'react';
import { ScrollRegion } from './ScrollRegion';
import { usePagedRows, useVirtual } from './virtual';

export interface ObservationPanelProps {
  observation: Observation | undefined;
  /** Rows in the observation (its `pages` is empty when they are fetched page by page). */
  rows: number;
  paged: boolean;
  fetchRows: (from: number, to: number) => Promise<ObservedPage[]>;
  fetchJson: () => Promise<{ text: string; cut: boolean }>;
  /** The step it is from; set when that is not the current one. */
  fromStep?: number;
  listKey: string;
}

const ROW = 20;

export function ObservationPanel(props: ObservationPanelProps) {
  const { observation, rows, paged, fetchRows, fetchJson, fromStep, listKey } = props;
  const box = useRef<HTMLElement>(null);
  const win = useVirtual(box, rows, ROW);
  const row = usePagedRows(listKey, paged ? null : (observation?.pages ?? []), fetchRows, win);
  const [json, setJson] = useState<{ key: string; text: string; cut: boolean } | null>(null);
  if (!observation) return <p className="muted">No observe statement up to this step.</p>;
  const body = [];
  for (let i = win.first; i < win.last; i++) {
    const p = row(i);
    body.push(
      <tr key={i} style={{ height: ROW }}>
        <td>{p ? (p.pfn === 0 ? 'zero' : p.pfn) : '…'}</td>
        <td>{p?.mapcount}</td>
        <td>{p ? p.flags.join(',') || '-' : ''}</td>
        <td>{p ? (p.anonVma ?? '-') : ''}</td>
        <td>{p ? compressMappings(p.mappings).join(' ') : ''}</td>
      </tr>,
    );
  }
  return (
    <div className="observation" data-testid="observation">
      <p className="muted">
        {fromStep !== undefined ? `Latest observation: step ${fromStep}. ` : ''}
        {rows} page{rows === 1 ? '' : 's'} mapped.
      </p>
      <ScrollRegion className="observation-rows" ref={box} label="observed pages">
        <table data-testid="observation-table">
          <thead>
            <tr>
              <th scope="col">pfn</th>
              <th scope="col">mapcount</th>
              <th scope="col">flags</th>
              <th scope="col">anon_vma</th>
              <th scope="col">mapped at</th>
            </tr>
          </thead>
          <tbody>
            {win.before > 0 && <tr style={{ height: win.before }} />}
            {body}
            {win.after > 0 && <tr style={{ height: win.after }} />}
          </tbody>
        </table>
      </ScrollRegion>
      <p>
        <strong>absent:</strong> {observation.absent.length ? observation.absent.join(' ') : '(none)'}
      </p>
      <details
        onToggle={(e) => {
          if ((e.target as HTMLDetailsElement).open && json?.key !== listKey)
            void fetchJson().then((j) => setJson({ key: listKey, ...j }));
        }}
      >
        <summary>JSON (as printed by the CLI with --json)</summary>
        <pre data-testid="observation-json">{json?.key === listKey ? json.text : 'loading…'}</pre>
        {json?.key === listKey && json.cut && (
          <p className="muted">Cut here: `rmaplab run --json` prints the whole line.</p>
        )}
      </details>
    </div>
  );
}
