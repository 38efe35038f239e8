/** The fields of the clicked kernel object, as buildGraph exposes them. */
import type { GraphData } from '../model/graph';

export function Inspector({ graph, id, onClose }: { graph: GraphData; id: string; onClose: () => void }) {
  const node = graph.nodes.find((n) => n.id === id);
  const links = graph.edges.filter((e) => e.from === id || e.to === id);
  return (
    <aside className="inspector" data-testid="inspector">
      <button type="button" className="close" onClick={onClose} title="close">
        ×
      </button>
      {!node ? (
        <p className="muted">{id} does not exist at this step.</p>
      ) : (
        <>
          <h3>
            {node.kind} <code>{node.label}</code>
          </h3>
          <table>
            <tbody>
              <tr>
                <th>id</th>
                <td>{node.id}</td>
              </tr>
              {Object.entries(node.fields).map(([k, v]) => (
                <tr key={k}>
                  <th>{k}</th>
                  <td>{v === null ? 'NULL' : String(v)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {links.length > 0 && (
            <>
              <h4>links</h4>
              <ul>
                {links.map((e) => (
                  <li key={e.id}>
                    {e.from === id ? `→ ${e.to}` : `← ${e.from}`}{' '}
                    <span className="muted">{e.label ?? e.kind}</span>
                  </li>
                ))}
              </ul>
            </>
          )}
        </>
      )}
    </aside>
  );
}
