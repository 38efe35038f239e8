/**
 * The rmap lab: scenario editor on the left; on the right the state graph after the current step and,
 * below it, the walk, locks, observation and output panels. All state derives from (scenario text,
 * step cursor, event cursor); the text lives in the URL fragment and local storage.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Editor } from './components/Editor';
import { ErrorBoundary } from './components/ErrorBoundary';
import { GraphView } from './components/GraphView';
import { Inspector } from './components/Inspector';
import { LocksPanel } from './components/LocksPanel';
import { ObservationPanel } from './components/ObservationPanel';
import { StepControls } from './components/StepControls';
import { WalkPanel } from './components/WalkPanel';
import { EXAMPLES, STARTER } from './model/examples';
import { replayLocks } from './model/locks';
import { initialScenario, saveStored, scenarioFromHash, scenarioHash } from './model/persist';
import { kernelChoices, kernelOf, runSession, type Session, withKernel } from './model/session';
import { WALK_OPS, walkStateAt } from './model/walk';

type Tab = 'walk' | 'locks' | 'observation' | 'output';

/** Figures the e2e run reads back to report rendering speed. */
export interface PerfSample {
  nodes: number;
  layoutMs: number;
  /** From the step change to the first frame painted with the new graph. */
  renderMs: number;
}

declare global {
  interface Window {
    __rmaplab?: { perf: PerfSample[]; session: () => Session };
  }
}

function storage(): Storage | undefined {
  try {
    return window.localStorage;
  } catch {
    return undefined;
  }
}

/** runSession, with a failure of the machinery itself turned into a problem instead of a blank page. */
function safeRun(text: string): Session {
  try {
    return runSession(text);
  } catch (e) {
    return {
      initial: { nodes: [], edges: [] },
      steps: [],
      problem: {
        kind: 'internal',
        message: `internal error before the first step: ${e instanceof Error ? e.message : String(e)}`,
        line: 1,
        column: 1,
        endColumn: 2,
        step: 1,
      },
    };
  }
}

const PLAY_STEP_MS = 700;
const PLAY_EVENT_MS = 180;

export function App() {
  const [text, setText] = useState(() =>
    initialScenario(window.location.hash, storage(), EXAMPLES[0]?.text ?? STARTER),
  );
  const [session, setSession] = useState<Session>(() => safeRun(text));
  const [cursor, setCursor] = useState(0);
  const [eventCursor, setEventCursor] = useState(-1);
  const [playing, setPlaying] = useState(false);
  const [tab, setTab] = useState<Tab>('walk');
  const [selected, setSelected] = useState<string | null>(null);
  const [notice, setNotice] = useState('');
  const stepStart = useRef(0);
  const ranText = useRef(text);
  const fileInput = useRef<HTMLInputElement>(null);

  // Re-run shortly after typing stops; persist at once.
  useEffect(() => {
    saveStored(storage(), text);
    const hash = scenarioHash(text);
    if (window.location.hash !== hash) window.history.replaceState(null, '', hash);
    if (ranText.current === text) return;
    const id = setTimeout(() => {
      ranText.current = text;
      setSession(safeRun(text));
    }, 250);
    return () => clearTimeout(id);
  }, [text]);

  // A shared link pasted into this tab.
  useEffect(() => {
    const onHash = () => {
      const t = scenarioFromHash(window.location.hash);
      if (t !== null) setText(t);
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  const count = session.steps.length;
  const at = Math.min(cursor, count);
  const snap = at > 0 ? session.steps[at - 1] : null;
  const events = snap?.events ?? [];
  const ev = Math.min(eventCursor < 0 ? events.length - 1 : eventCursor, events.length - 1);
  const isWalk = snap !== null && WALK_OPS.has(snap.statement.op);

  /** Move to a step; `animate` starts its events from the first (play), otherwise shows them all. */
  const goTo = useCallback(
    (n: number, animate = false) => {
      const to = Math.max(0, Math.min(count, n));
      stepStart.current = performance.now();
      setCursor(to);
      const s = to > 0 ? session.steps[to - 1] : null;
      setEventCursor(animate && s && WALK_OPS.has(s.statement.op) ? 0 : -1);
      if (s?.statement.op === 'observe') setTab('observation');
      else if (s && WALK_OPS.has(s.statement.op)) setTab('walk');
    },
    [count, session],
  );

  const walk = useMemo(() => (isWalk ? walkStateAt(events, ev) : null), [isWalk, events, ev]);
  const locks = useMemo(() => replayLocks(events, ev), [events, ev]);
  const lockReports = useMemo(() => session.steps.slice(0, at).flatMap((s) => s.lockReports), [session, at]);
  const lastObs = useMemo(() => {
    for (let i = at - 1; i >= 0; i--) if (session.steps[i].observation) return session.steps[i];
    return null;
  }, [session, at]);

  // The graph on screen: the snapshot's, or, when it is too large to draw, the message instead.
  const graph = snap ? snap.graph : session.initial;

  // Play: walk steps animate event by event, then the next step.
  useEffect(() => {
    if (!playing) return;
    const animating = isWalk && ev < events.length - 1;
    const id = setTimeout(
      () => {
        if (animating) setEventCursor(ev + 1);
        else if (at < count) goTo(at + 1, true);
        else setPlaying(false);
      },
      animating ? PLAY_EVENT_MS : PLAY_STEP_MS,
    );
    return () => clearTimeout(id);
  }, [playing, isWalk, ev, events.length, at, count, goTo]);

  // Keyboard: arrows step (Alt+arrows also from inside the editor), space plays, ',' and '.' move through events.
  useEffect(() => {
    const onKey = (k: KeyboardEvent) => {
      const target = k.target as HTMLElement | null;
      const typing = !!target?.closest('.cm-editor, input, select, textarea');
      if (typing && !k.altKey) return;
      let handled = true;
      if (k.key === 'ArrowRight') goTo(at + 1);
      else if (k.key === 'ArrowLeft') goTo(at - 1);
      else if (k.key === 'Home') goTo(0);
      else if (k.key === 'End') goTo(count);
      else if (k.key === ' ' && !typing) setPlaying((p) => !p);
      else if (k.key === '.') setEventCursor(Math.min(events.length - 1, ev + 1));
      else if (k.key === ',') setEventCursor(Math.max(0, ev - 1));
      else handled = false;
      if (handled) k.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [at, count, ev, events.length, goTo]);

  useEffect(() => {
    window.__rmaplab ??= { perf: [], session: () => session };
    window.__rmaplab.session = () => session;
  }, [session]);

  const onRendered = useCallback((nodes: number, layoutMs: number) => {
    window.__rmaplab?.perf.push({ nodes, layoutMs, renderMs: performance.now() - stepStart.current });
  }, []);

  const openFile = async (f: File | undefined) => {
    if (!f) return;
    setText(await f.text());
    setNotice(`opened ${f.name}`);
  };
  const saveFile = () => {
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
    a.download = 'scenario.rmap';
    a.click();
    URL.revokeObjectURL(a.href);
  };
  const share = async () => {
    try {
      await navigator.clipboard.writeText(window.location.href);
      setNotice('link copied');
    } catch {
      setNotice('copy the address bar to share this scenario');
    }
  };

  const problem = session.problem;
  return (
    <div className="app">
      <header>
        <h1>rmaplab</h1>
        <select
          data-testid="examples"
          value=""
          onChange={(e) => {
            const ex = EXAMPLES.find((x) => x.name === e.target.value);
            if (ex) {
              setText(ex.text);
              setCursor(0);
              setNotice(`example ${ex.name}`);
            }
          }}
        >
          <option value="">{EXAMPLES.length ? 'open an example…' : 'no examples in this build'}</option>
          {EXAMPLES.map((x) => (
            <option key={x.name} value={x.name} title={x.title}>
              {x.name}
            </option>
          ))}
        </select>
        <label>
          kernel{' '}
          <select
            data-testid="kernel"
            value={kernelOf(text)}
            onChange={(e) => setText(withKernel(text, e.target.value))}
          >
            {kernelChoices(kernelOf(text)).map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </label>
        <button type="button" onClick={() => fileInput.current?.click()}>
          Open…
        </button>
        <input
          ref={fileInput}
          type="file"
          accept=".rmap,text/plain"
          hidden
          data-testid="open-file"
          onChange={(e) => void openFile(e.target.files?.[0])}
        />
        <button type="button" onClick={saveFile}>
          Save
        </button>
        <button type="button" onClick={() => void share()} data-testid="share">
          Share link
        </button>
        <span className="notice" data-testid="notice">
          {notice}
        </span>
      </header>
      <main>
        <section className="left">
          <Editor text={text} onChange={setText} problem={problem} stepLine={snap?.line ?? 0} />
          {problem && (
            <div className={`problem problem-${problem.kind}`} data-testid="problem" role="alert">
              {problem.kind === 'internal' ? '' : `line ${problem.line}:${problem.column}: `}
              {problem.message}
            </div>
          )}
          <StepControls
            cursor={at}
            count={count}
            playing={playing}
            onCursor={(n) => goTo(n)}
            onPlay={() => setPlaying((p) => !p)}
            current={snap ? `${snap.step}: ${snap.source}` : '(empty machine)'}
          />
        </section>
        <section className="right">
          <div className="graph-area">
            {graph ? (
              <ErrorBoundary name="graph view" resetKey={graph}>
                <GraphView
                  graph={graph}
                  walk={walk}
                  selected={selected}
                  onSelect={setSelected}
                  onRendered={onRendered}
                />
              </ErrorBoundary>
            ) : (
              <div className="too-large" data-testid="too-large">
                This state has {snap?.graphSize} objects; the graph view draws at most a few thousand. The
                panels below still show this step.
              </div>
            )}
            {selected && graph && <Inspector graph={graph} id={selected} onClose={() => setSelected(null)} />}
          </div>
          <nav className="tabs">
            {(['walk', 'locks', 'observation', 'output'] as Tab[]).map((t) => (
              <button
                type="button"
                key={t}
                className={tab === t ? 'active' : undefined}
                onClick={() => setTab(t)}
                data-testid={`tab-${t}`}
              >
                {t}
              </button>
            ))}
          </nav>
          <div className="panel">
            <ErrorBoundary name={`${tab} panel`} resetKey={`${at}/${ev}/${tab}`}>
              {tab === 'walk' && (
                <WalkPanel
                  events={events}
                  cursor={ev}
                  onCursor={(i) => {
                    setEventCursor(i);
                    setPlaying(false);
                  }}
                  walk={walk}
                />
              )}
              {tab === 'locks' && <LocksPanel state={locks} reports={lockReports} />}
              {tab === 'observation' && (
                <ObservationPanel
                  observation={lastObs?.observation}
                  json={lastObs?.observationJson}
                  {...(lastObs && lastObs !== snap ? { fromStep: lastObs.step } : {})}
                />
              )}
              {tab === 'output' && (
                <ol className="output" data-testid="output">
                  {session.steps.slice(0, at).map((s) => (
                    <li key={s.step} value={s.step} className={s === snap ? 'current' : undefined}>
                      <code>{s.source}</code>
                      {s.output && <pre>{s.output}</pre>}
                    </li>
                  ))}
                </ol>
              )}
            </ErrorBoundary>
          </div>
        </section>
      </main>
    </div>
  );
}
