/**
 * The line above the graph: the step and its statement, the scenario's comment on that line, what
 * the step (or the walk so far) created, changed and removed — or, at step 0, what to do first.
 */
import type { GraphChanges } from '../model/diff';
import type { StepMeta } from '../model/session';

export interface NarrationProps {
  /** Statements run so far while a run is going, else null. */
  running: number | null;
  meta: StepMeta | null;
  changes: GraphChanges | null;
  /** The changes are those of the walk so far, not of the whole statement. */
  midWalk: boolean;
  focus: string | null;
  focusMissing: boolean;
  onUnfocus: () => void;
}

export function Narration({
  running,
  meta,
  changes,
  midWalk,
  focus,
  focusMissing,
  onUnfocus,
}: NarrationProps) {
  const any =
    changes && (changes.added.length > 0 || changes.changed.length > 0 || changes.removed.length > 0);
  return (
    <div className="narration" data-testid="narration">
      {running !== null ? (
        <span>running… {running > 0 ? `${running} statements so far` : ''}</span>
      ) : meta ? (
        <>
          <strong>
            Step {meta.step}: <code>{meta.source}</code>
          </strong>
          {meta.narration && <span className="narration-text"> — {meta.narration}</span>}
          {any && (
            <span className="changes" data-testid="changes">
              {' '}
              {midWalk ? 'so far in this statement: ' : ''}
              <span className="chg-key chg-added">{changes.added.length} created</span>{' '}
              <span className="chg-key chg-changed">{changes.changed.length} changed</span>{' '}
              {changes.removed.length > 0 && (
                <span className="chg-removed">
                  {changes.removed.length} removed (
                  {changes.removed.map((r) => `${r.kind} ${r.label}`).join(', ')})
                </span>
              )}
            </span>
          )}
        </>
      ) : (
        <span data-testid="start-hint">
          Step 0: the machine before the first statement. Press ▶ or → to run the next statement, or play
          (space) to watch the whole scenario; click an object to inspect it.
        </span>
      )}
      {focus && (
        <span className="focus-note">
          {' '}
          {focusMissing
            ? `${focus} is not in this state; showing everything. `
            : `Focused on ${focus}; the rest is folded. `}
          <button type="button" className="link" onClick={onUnfocus}>
            show everything
          </button>
        </span>
      )}
    </div>
  );
}
