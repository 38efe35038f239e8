/** Step controls: first / previous / play / next / last, a slider and a jump-to box. Step 0 is the empty machine. */
export interface StepControlsProps {
  cursor: number;
  count: number;
  playing: boolean;
  onCursor: (step: number) => void;
  onPlay: () => void;
  /** The statement at the cursor, shown beside the controls. */
  current: string;
}

export function StepControls({ cursor, count, playing, onCursor, onPlay, current }: StepControlsProps) {
  const go = (n: number) => onCursor(Math.max(0, Math.min(count, n)));
  return (
    <div className="step-controls" data-testid="step-controls">
      <button type="button" onClick={() => go(0)} title="first (Home)" aria-label="first step">
        «
      </button>
      <button
        type="button"
        onClick={() => go(cursor - 1)}
        title="previous (←)"
        aria-label="previous step"
        data-testid="prev"
      >
        ◀
      </button>
      <button type="button" onClick={onPlay} title="play / pause (space)" data-testid="play">
        {playing ? 'pause' : 'play'}
      </button>
      <button
        type="button"
        onClick={() => go(cursor + 1)}
        title="next (→)"
        aria-label="next step"
        data-testid="next"
      >
        ▶
      </button>
      <button type="button" onClick={() => go(count)} title="last (End)" aria-label="last step">
        »
      </button>
      <input
        type="range"
        min={0}
        max={count}
        value={cursor}
        onChange={(e) => go(Number(e.target.value))}
        aria-label="step"
        data-testid="slider"
      />
      <label>
        step{' '}
        <input
          type="number"
          min={0}
          max={count}
          value={cursor}
          onChange={(e) => go(Number(e.target.value))}
          data-testid="jump"
          className="jump"
        />{' '}
        / <span data-testid="step-count">{count}</span>
      </label>
      <code className="current-statement" data-testid="current-statement">
        {current}
      </code>
    </div>
  );
}
