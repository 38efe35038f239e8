/**
 * The rmap lab: scenario editor on the left; on the right the step's narration, the state graph
 * (during a walk: the state the walk traverses, event by event) with the inspector docked beside
 * it, and below them the walk, locks, page-table, observation and output panels. The scenario runs
 * in a Web Worker; the page asks it for the step on screen. All state derives from (scenario text,
 * step cursor, event cursor); the text lives in the URL fragment and local storage, saved once a
 * run has finished.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { download, svgToPng } from './components/download';
import { Editor } from './components/Editor';
import { ErrorBoundary } from './components/ErrorBoundary';
import { GraphView } from './components/GraphView';
import { Inspector } from './components/Inspector';
import { LocksPanel } from './components/LocksPanel';
import { Narration } from './components/Narration';
import { ObservationPanel } from './components/ObservationPanel';
import { PageTables } from './components/PageTables';
import { StepControls } from './components/StepControls';
import { WalkPanel } from './components/WalkPanel';
import { graphChanges } from './model/diff';
import { EXAMPLES, STARTER } from './model/examples';
import { graphSvg } from './model/export';
import { focusOnPage } from './model/focus';
import { replayLocks } from './model/locks';
import { initialScenario, type Opening, scenarioFromHash } from './model/persist';
import { kernelChoices, kernelOf, type RunOutcome, withKernel } from './model/session';
import { passesOf, walkStateAt } from './model/walk';
import { storage, useScenarioRun, useStepView } from './useSession';
import { SessionClient } from './worker/client';
import type { Replies, StepView } from './worker/protocol';

type Tab = 'walk' | 'locks' | 'tables' | 'observation' | 'output';
const TABS: readonly [Tab, string][] = [
  ['walk', 'walk'],
  ['locks', 'locks'],
  ['tables', 'page tables'],
  ['observation', 'observation'],
  ['output', 'output'],
];

/** Figures the e2e run reads back to report rendering speed. */
export interface PerfSample {
  nodes: number;
  layoutMs: number;
  /** From the step change to the first frame painted with the new graph. */
  renderMs: number;
  /** Of which: until the step's data arrived from the session worker. */
  dataMs: number;
}

declare global {
  interface Window {
    __rmaplab?: { perf: PerfSample[]; outcome: () => RunOutcome | null };
  }
}

const PLAY_STEP_MS = 700;
const PLAY_EVENT_MS = 180;
/** Steps the output tab lists, ending at the current one. */
const OUTPUT_WINDOW = 30;

export function App() {
  const client = useMemo(() => new SessionClient(), []);
  useEffect(() => () => client.close(), [client]);
  const [opening, setOpening] = useState<Opening | null>(null);
  const [text, setText] = useState('');
  const [broken, setBroken] = useState<string | null>(null);
  const [cursor, setCursor] = useState(0);
  const [eventCursor, setEventCursor] = useState(-1);
  const [playing, setPlaying] = useState(false);
  const [tab, setTab] = useState<Tab>('walk');
  const [selected, setSelected] = useState<string | null>(null);
  const [focus, setFocus] = useState<string | null>(null);
  const [notice, setNotice] = useState('');
  const [viewKey, setViewKey] = useState(0);
  const [obsView, setObsView] = useState<StepView | null>(null);
  const [outputs, setOutputs] = useState<Replies['outputs']>([]);
  const stepStart = useRef(0);
  const dataAt = useRef(0);
  const fileInput = useRef<HTMLInputElement>(null);

  /** Open a different scenario: from the first step, with the view back at its start. */
  const openText = useCallback((t: string) => {
    setText(t);
    setCursor(0);
    setEventCursor(-1);
    setSelected(null);
    setFocus(null);
    setPlaying(false);
    setViewKey((k) => k + 1);
  }, []);

  // First load: a shared link, else what this browser last had, else the first example.
  useEffect(() => {
    void initialScenario(window.location.hash, storage(), EXAMPLES[0]?.text ?? STARTER).then((o) => {
      setOpening(o);
      setText(o.text);
      if (o.broken) setBroken(o.broken);
    });
  }, []);

  const { outcome, running, runError } = useScenarioRun(client, text, opening !== null, broken !== null);

  // A shared link pasted into this tab.
  useEffect(() => {
    const onHash = () => {
      void scenarioFromHash(window.location.hash).then((h) => {
        if (h.kind === 'scenario') {
          setBroken(null);
          openText(h.text);
        } else if (h.kind === 'broken') setBroken(h.reason);
      });
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, [openText]);

  const steps = outcome?.steps ?? [];
  const count = steps.length;
  const at = Math.min(cursor, count);
  const meta = at > 0 ? steps[at - 1] : null;

  const detail = useStepView(client, outcome, at, dataAt);
  const d = detail && detail.meta.step === at ? detail : null;
  const shownDetail = d ?? detail;

  const events = shownDetail?.events ?? [];
  const eventCount = shownDetail?.meta.eventCount ?? 0;
  const op = shownDetail?.meta.op ?? '';
  const stepKernel = shownDetail?.meta.kernel;
  const passes = useMemo(() => passesOf(events, op, stepKernel), [events, op, stepKernel]);
  const isWalk = passes.length > 0 && !shownDetail?.eventsPaged;
  const ev = Math.min(eventCursor < 0 ? eventCount - 1 : eventCursor, eventCount - 1);

  /** Move to a step; `animate` starts its events from the first (play), otherwise shows them all. */
  const goTo = useCallback(
    (n: number, animate = false) => {
      const to = Math.max(0, Math.min(count, n));
      stepStart.current = performance.now();
      setCursor(to);
      const s = to > 0 ? steps[to - 1] : null;
      setEventCursor(animate && s?.walks ? 0 : -1);
      if (s?.observed) setTab('observation');
      else if (s?.walks) setTab('walk');
    },
    [count, steps],
  );

  const walk = useMemo(() => (isWalk ? walkStateAt(events, ev, passes) : null), [isWalk, events, ev, passes]);
  const locks = useMemo(() => replayLocks(events, ev), [events, ev]);
  const lockReports = useMemo(() => steps.slice(0, at).flatMap((s) => s.lockReports), [steps, at]);

  // The state on screen: during a walk, the frame in force at the event cursor (the state before the
  // statement, changed event by event); otherwise the step's own state.
  const frame = useMemo(() => {
    if (!isWalk || !shownDetail || shownDetail.frames.length === 0 || ev >= eventCount - 1) return null;
    let f = shownDetail.frames[0];
    for (const x of shownDetail.frames) if (x.at <= ev) f = x;
    return f;
  }, [isWalk, shownDetail, ev, eventCount]);
  const fullGraph = outcome
    ? frame
      ? frame.graph
      : shownDetail
        ? shownDetail.graph
        : outcome.initial
    : null;
  const tables = frame ? frame.tables : (shownDetail?.tables ?? null);
  const changes = useMemo(() => {
    if (!shownDetail) return null;
    if (frame && shownDetail.frames[0]) return graphChanges(shownDetail.frames[0].graph, frame.graph);
    return shownDetail.changes;
  }, [shownDetail, frame]);
  const focusMissing = focus !== null && fullGraph !== null && !fullGraph.nodes.some((n) => n.id === focus);
  const graph = useMemo(
    () => (fullGraph && focus && !focusMissing ? focusOnPage(fullGraph, focus) : fullGraph),
    [fullGraph, focus, focusMissing],
  );

  // The observation tab shows the latest observation up to this step.
  const lastObsStep = useMemo(() => {
    for (let i = at; i >= 1; i--) if (steps[i - 1].observed) return i;
    return 0;
  }, [steps, at]);
  useEffect(() => {
    if (!outcome || tab !== 'observation' || lastObsStep === 0) return;
    let live = true;
    client.ask({ type: 'detail', step: lastObsStep }).then(
      (v) => live && setObsView(v),
      () => {},
    );
    return () => {
      live = false;
    };
  }, [outcome, tab, lastObsStep, client]);
  useEffect(() => {
    if (!outcome || tab !== 'output') return;
    let live = true;
    client.ask({ type: 'outputs', from: at - OUTPUT_WINDOW + 1, to: at }).then(
      (o) => live && setOutputs(o),
      () => {},
    );
    return () => {
      live = false;
    };
  }, [outcome, tab, at, client]);

  // Play: walk steps animate event by event, then the next step.
  useEffect(() => {
    if (!playing || (at > 0 && !d)) return;
    const animating = isWalk && ev < eventCount - 1;
    const id = setTimeout(
      () => {
        if (animating) setEventCursor(ev + 1);
        else if (at < count) goTo(at + 1, true);
        else setPlaying(false);
      },
      animating ? PLAY_EVENT_MS : PLAY_STEP_MS,
    );
    return () => clearTimeout(id);
  }, [playing, d, isWalk, ev, eventCount, at, count, goTo]);

  // Keyboard: arrows step (Alt+arrows also from inside the editor), space plays unless it presses a
  // focused control, ',' and '.' move through events, Escape closes the inspector.
  useEffect(() => {
    const onKey = (k: KeyboardEvent) => {
      const target = k.target as HTMLElement | null;
      const typing = !!target?.closest('.cm-editor, input, select, textarea');
      if (typing && !k.altKey) return;
      const control = !!target?.closest('button, a[href], summary, [role="button"]');
      let handled = true;
      if (k.key === 'ArrowRight') goTo(at + 1);
      else if (k.key === 'ArrowLeft') goTo(at - 1);
      else if (k.key === 'Home') goTo(0);
      else if (k.key === 'End') goTo(count);
      else if (k.key === ' ' && !typing && !control) setPlaying((p) => !p);
      else if (k.key === '.') setEventCursor(Math.min(eventCount - 1, ev + 1));
      else if (k.key === ',') setEventCursor(Math.max(0, ev - 1));
      else if (k.key === 'Escape' && !typing) setSelected(null);
      else handled = false;
      if (handled) k.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [at, count, ev, eventCount, goTo]);

  useEffect(() => {
    window.__rmaplab ??= { perf: [], outcome: () => outcome };
    window.__rmaplab.outcome = () => outcome;
  }, [outcome]);

  const onRendered = useCallback((nodes: number, layoutMs: number) => {
    window.__rmaplab?.perf.push({
      nodes,
      layoutMs,
      renderMs: performance.now() - stepStart.current,
      dataMs: dataAt.current - stepStart.current,
    });
  }, []);

  const fetchEvents = useCallback(
    (from: number, to: number) => client.ask({ type: 'events', step: at, from, to }),
    [client, at],
  );
  const fetchRows = useCallback(
    (from: number, to: number) => client.ask({ type: 'rows', step: lastObsStep, from, to }),
    [client, lastObsStep],
  );
  const fetchJson = useCallback(() => client.ask({ type: 'json', step: lastObsStep }), [client, lastObsStep]);

  const openFile = async (f: File | undefined) => {
    if (!f) return;
    openText(await f.text());
    setBroken(null);
    setNotice(`opened ${f.name}`);
  };
  const share = async () => {
    try {
      await navigator.clipboard.writeText(window.location.href);
      setNotice('link copied');
    } catch {
      setNotice('copy the address bar to share this scenario');
    }
  };
  const exportGraph = async (as: 'svg' | 'png') => {
    if (!graph) return;
    const svg = graphSvg(graph);
    const name = `rmaplab-step-${at}.${as}`;
    try {
      download(name, as === 'svg' ? new Blob([svg], { type: 'image/svg+xml' }) : await svgToPng(svg));
      setNotice(`saved ${name}`);
    } catch (e) {
      setNotice(`could not export: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  const exportTrace = async () => {
    const t = await client.ask({ type: 'trace' });
    download('rmaplab-trace.txt', new Blob([t], { type: 'text/plain' }));
    setNotice('saved rmaplab-trace.txt');
  };

  const problem = outcome?.problem ?? null;
  return (
    <div className="app">
      <header>
        <h1>rmaplab</h1>
        <select
          data-testid="examples"
          aria-label="open an example"
          value=""
          onChange={(e) => {
            const ex = EXAMPLES.find((x) => x.name === e.target.value);
            if (ex) {
              setBroken(null);
              openText(ex.text);
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
          aria-label="scenario file"
          data-testid="open-file"
          onChange={(e) => void openFile(e.target.files?.[0])}
        />
        <button
          type="button"
          onClick={() => download('scenario.rmap', new Blob([text], { type: 'text/plain' }))}
        >
          Save
        </button>
        <button type="button" onClick={() => void share()} data-testid="share">
          Share link
        </button>
        <fieldset className="export">
          <legend>export</legend>
          <button
            type="button"
            data-testid="export-svg"
            onClick={() => void exportGraph('svg')}
            disabled={!graph}
          >
            SVG
          </button>
          <button
            type="button"
            data-testid="export-png"
            onClick={() => void exportGraph('png')}
            disabled={!graph}
          >
            PNG
          </button>
          <button
            type="button"
            data-testid="export-trace"
            onClick={() => void exportTrace()}
            disabled={!outcome}
          >
            trace
          </button>
        </fieldset>
        <span className="notice" data-testid="notice" role="status">
          {notice}
        </span>
      </header>
      {broken !== null && (
        <div className="banner" role="alert" data-testid="broken-link">
          This link’s scenario could not be read: {broken}. The link stays in the address bar; the editor
          shows {opening?.from === 'stored' ? 'the scenario this browser had last' : 'the first example'}.{' '}
          <button type="button" data-testid="use-stored" onClick={() => setBroken(null)}>
            Keep working on it (replaces the link)
          </button>
        </div>
      )}
      {runError !== null && (
        <div className="banner" role="alert" data-testid="run-error">
          The run stopped: {runError}. The scenario was not saved; shorten it or open another one.
        </div>
      )}
      <main>
        <section className="left" aria-label="scenario">
          {opening && (
            <Editor
              text={text}
              onChange={(t) => {
                setText(t);
                setBroken(null);
              }}
              problem={problem}
              stepLine={meta?.line ?? 0}
            />
          )}
          {problem && (
            <div className={`problem problem-${problem.kind}`} data-testid="problem" role="alert">
              {problem.message}
            </div>
          )}
          <StepControls
            cursor={at}
            count={count}
            playing={playing}
            onCursor={(n) => goTo(n)}
            onPlay={() => setPlaying((p) => !p)}
            current={meta ? `${meta.step}: ${meta.source}` : '(empty machine)'}
          />
        </section>
        <section className="right" aria-label="state">
          <Narration
            running={running}
            meta={meta}
            changes={changes}
            midWalk={frame !== null}
            focus={focus}
            focusMissing={focusMissing}
            onUnfocus={() => setFocus(null)}
          />
          <div className="graph-area">
            {graph ? (
              <ErrorBoundary name="graph view" resetKey={graph}>
                <GraphView
                  graph={graph}
                  walk={walk}
                  changes={changes}
                  selected={selected}
                  onSelect={setSelected}
                  viewKey={viewKey}
                  onRendered={onRendered}
                />
              </ErrorBoundary>
            ) : outcome ? (
              <div className="too-large" data-testid="too-large">
                This state has more than{' '}
                {shownDetail?.meta.graphSize
                  ? (shownDetail.meta.graphSize - 1).toLocaleString('en')
                  : 'a few thousand'}{' '}
                objects; the graph view draws at most a few thousand. The panels below still show this step.
              </div>
            ) : (
              <div className="too-large">running the scenario…</div>
            )}
            {selected && graph && (
              <Inspector
                graph={fullGraph ?? graph}
                id={selected}
                onClose={() => setSelected(null)}
                onSelect={setSelected}
                focus={focus}
                onFocus={setFocus}
              />
            )}
          </div>
          <div className="tabs" role="tablist" aria-label="panels">
            {TABS.map(([t, label]) => (
              <button
                type="button"
                role="tab"
                key={t}
                aria-selected={tab === t}
                className={tab === t ? 'active' : undefined}
                onClick={() => setTab(t)}
                data-testid={`tab-${t}`}
              >
                {label}
              </button>
            ))}
          </div>
          <div
            className={`panel panel-${tab}`}
            role="tabpanel"
            aria-label={tab}
            // biome-ignore lint/a11y/noNoninteractiveTabindex: a tab panel is focusable (WAI-ARIA tabs), and it scrolls
            tabIndex={0}
          >
            <ErrorBoundary name={`${tab} panel`} resetKey={`${at}/${ev}/${tab}`}>
              {tab === 'walk' &&
                (at === 0 ? (
                  <p className="muted">No statement has run yet: step forward (→) to see its trace events.</p>
                ) : (
                  <WalkPanel
                    events={events}
                    eventCount={eventCount}
                    paged={shownDetail?.eventsPaged ?? false}
                    fetchEvents={fetchEvents}
                    listKey={`${viewKey}/${at}`}
                    cursor={ev}
                    onCursor={(i) => {
                      setEventCursor(i);
                      setPlaying(false);
                    }}
                    walk={walk}
                    passes={passes}
                    op={op}
                    kernel={shownDetail?.meta.kernel ?? '4.9'}
                  />
                ))}
              {tab === 'locks' && (
                <LocksPanel state={locks} events={events} cursor={ev} reports={lockReports} />
              )}
              {tab === 'tables' && <PageTables tables={tables} selected={selected} onSelect={setSelected} />}
              {tab === 'observation' &&
                (lastObsStep === 0 ? (
                  <p className="muted">No observe statement up to this step.</p>
                ) : (
                  <ObservationPanel
                    observation={obsView?.meta.step === lastObsStep ? obsView.observation : undefined}
                    rows={steps[lastObsStep - 1].observationRows}
                    paged={obsView?.rowsPaged ?? false}
                    fetchRows={fetchRows}
                    fetchJson={fetchJson}
                    listKey={`${viewKey}/${lastObsStep}/${outcome ? steps.length : 0}`}
                    {...(lastObsStep !== at ? { fromStep: lastObsStep } : {})}
                  />
                ))}
              {tab === 'output' && (
                <ol className="output" data-testid="output">
                  {outputs
                    .filter((s) => s.step <= at)
                    .map((s) => (
                      <li key={s.step} value={s.step} className={s.step === at ? 'current' : undefined}>
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
