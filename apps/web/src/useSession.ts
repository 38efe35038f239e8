/**
 * The app's two conversations with the session worker: running the scenario (shortly after typing
 * stops) and saving it once the run has finished, and asking for the step on screen (with its
 * neighbours asked for ahead).
 */
import { type RefObject, useEffect, useRef, useState } from 'react';
import { saveStored, scenarioHash } from './model/persist';
import type { RunOutcome } from './model/session';
import type { SessionClient } from './worker/client';
import type { StepView } from './worker/protocol';

/** This page's local storage, or nothing where the browser refuses it (private modes). */
export function storage(): Storage | undefined {
  try {
    return window.localStorage;
  } catch {
    return undefined;
  }
}

/**
 * Run `text` shortly after it stops changing (at once the first time). Save it — storage and the
 * URL fragment — only once its run has finished: a scenario that takes the run down is never stored
 * to do it again on the next visit. `keepLink` holds the URL as it is (a broken link being shown).
 */
export function useScenarioRun(client: SessionClient, text: string, ready: boolean, keepLink: boolean) {
  const [outcome, setOutcome] = useState<RunOutcome | null>(null);
  const [running, setRunning] = useState<number | null>(null);
  const [runError, setRunError] = useState<string | null>(null);
  const firstRun = useRef(true);
  const ranText = useRef<string | null>(null);
  useEffect(() => {
    if (!ready) return;
    const id = setTimeout(
      () => {
        firstRun.current = false;
        setRunning(0);
        client.start(text, { progress: (n) => setRunning(n) }).then(
          (o) => {
            ranText.current = text;
            setRunning(null);
            setRunError(null);
            setOutcome(o);
          },
          (e: Error) => {
            setRunning(null);
            setRunError(e.message);
          },
        );
      },
      firstRun.current ? 0 : 250,
    );
    return () => clearTimeout(id);
  }, [text, ready, client]);

  useEffect(() => {
    if (!outcome || keepLink || ranText.current === null) return;
    const t = ranText.current;
    saveStored(storage(), t);
    let live = true;
    void scenarioHash(t).then((hash) => {
      if (live && window.location.hash !== hash) window.history.replaceState(null, '', hash);
    });
    return () => {
      live = false;
    };
  }, [outcome, keepLink]);

  return { outcome, running, runError };
}

/** Step views kept in the page: the current one and its neighbours. */
const PREFETCHED = 5;

/**
 * The view of step `at`, asked of the worker; the previous one stays until it arrives (check its
 * `meta.step`). The steps either side are asked for next, so that stepping finds them here.
 * `arrived` gets the time the current one came, for the perf report.
 */
export function useStepView(
  client: SessionClient,
  outcome: RunOutcome | null,
  at: number,
  arrived: RefObject<number>,
): StepView | null {
  const [detail, setDetail] = useState<StepView | null>(null);
  const views = useRef<{ outcome: RunOutcome | null; map: Map<number, Promise<StepView>> }>({
    outcome: null,
    map: new Map(),
  });
  useEffect(() => {
    if (!outcome) return;
    if (views.current.outcome !== outcome) views.current = { outcome, map: new Map() };
    const cache = views.current.map;
    const view = (n: number) => {
      let v = cache.get(n);
      if (!v) {
        v = client.ask({ type: 'detail', step: n });
        v.catch(() => cache.delete(n));
        cache.set(n, v);
        for (const k of cache.keys()) if (cache.size > PREFETCHED && Math.abs(k - n) > 1) cache.delete(k);
      }
      return v;
    };
    let live = true;
    view(at).then(
      (d) => {
        if (!live) return;
        arrived.current = performance.now();
        setDetail(d);
        if (at < outcome.steps.length) void view(at + 1);
        if (at > 0) void view(at - 1);
      },
      () => {},
    );
    return () => {
      live = false;
    };
  }, [outcome, at, client, arrived]);
  return detail;
}
