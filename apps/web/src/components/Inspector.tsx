/**
 * The fields of the selected kernel object, as buildStateGraph exposes them, its links, and for a
 * page its reverse map: the PTEs that map it and the VMAs its rmap walk reaches. A docked column
 * beside the graph (under it on a phone), never over it.
 */
import { focusOnPage } from '../model/focus';
import type { GraphData } from '../model/graph';

export interface InspectorProps {
  graph: GraphData;
  id: string;
  onClose: () => void;
  onSelect: (id: string) => void;
  /** The page the graph is focused on, if any. */
  focus: string | null;
  onFocus: (page: string | null) => void;
}

export function Inspector({ graph, id, onClose, onSelect, focus, onFocus }: InspectorProps) {
  const node = graph.nodes.find((n) => n.id === id);
  const links = graph.edges.filter((e) => e.from === id || e.to === id);
  const label = (nid: string) => {
    const n = graph.nodes.find((x) => x.id === nid);
    return n ? `${n.kind.replace('_', ' ')} ${n.label}` : nid;
  };
  const isPage = node?.kind === 'page';
  const mappers = isPage ? graph.edges.filter((e) => e.kind === 'pte' && e.to === id) : [];
  const reach = isPage ? focusOnPage(graph, id).nodes.filter((n) => n.kind === 'vma') : [];
  return (
    <aside className="inspector" data-testid="inspector" aria-label="inspector">
      <button
        type="button"
        className="close"
        onClick={onClose}
        aria-label="close the inspector"
        title="close"
      >
        ×
      </button>
      {!node ? (
        <p className="muted">{id} does not exist at this step.</p>
      ) : (
        <>
          <h2>
            {node.kind} <code>{node.label}</code>
          </h2>
          {isPage && (
            <section className="rmap" data-testid="reverse-map">
              <h3>Reverse map</h3>
              <p>
                Mapped by {mappers.length} PTE{mappers.length === 1 ? '' : 's'}:
              </p>
              <ul>
                {mappers.map((e) => (
                  <li key={e.id}>
                    <button type="button" className="link" onClick={() => onSelect(e.from)}>
                      {label(e.from)}
                    </button>{' '}
                    at {e.label}
                  </li>
                ))}
              </ul>
              <p>
                Its rmap walk reaches {reach.length} VMA{reach.length === 1 ? '' : 's'}.
              </p>
              <button
                type="button"
                data-testid="focus-page"
                onClick={() => onFocus(focus === id ? null : id)}
              >
                {focus === id ? 'show everything' : 'focus on this page'}
              </button>
            </section>
          )}
          <table>
            <tbody>
              <tr>
                <th scope="row">id</th>
                <td>{node.id}</td>
              </tr>
              {Object.entries(node.fields).map(([k, v]) => (
                <tr key={k}>
                  <th scope="row">{k}</th>
                  <td>{v === null ? 'NULL' : String(v)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {links.length > 0 && (
            <>
              <h3>links</h3>
              <ul>
                {links.map((e) => {
                  const other = e.from === id ? e.to : e.from;
                  return (
                    <li key={e.id}>
                      {e.from === id ? '→ ' : '← '}
                      <button type="button" className="link" onClick={() => onSelect(other)}>
                        {label(other)}
                      </button>{' '}
                      <span className="muted">{e.label ?? e.kind}</span>
                    </li>
                  );
                })}
              </ul>
            </>
          )}
        </>
      )}
    </aside>
  );
}
