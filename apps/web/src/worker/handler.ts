/** What the session worker does with each message; shared by the worker and the in-page fallback. */
import type { TraceEvent } from '@rmaplab/mm';
import { type RunOutcome, Session } from '../model/session';
import {
  type FromWorker,
  FULL_EVENTS,
  FULL_ROWS,
  JSON_PREVIEW,
  type Request,
  type StepView,
  type ToWorker,
} from './protocol';

/** Output of one step, cut to this many lines (the observation tab has every row). */
const OUTPUT_LINES = 60;

function cutLines(text: string): string {
  let at = -1;
  for (let i = 0; i < OUTPUT_LINES; i++) {
    at = text.indexOf('\n', at + 1);
    if (at < 0) return text;
  }
  const rest = text.slice(at + 1).split('\n').length;
  return `${text.slice(0, at)}\n… ${rest} more lines`;
}

function traceLine(e: TraceEvent): string {
  return `    [${e.task}] ${e.fn}: ${e.msg}`;
}

function answer(s: Session, ask: Request): unknown {
  switch (ask.type) {
    case 'detail': {
      const d = s.detail(ask.step);
      const eventsPaged = d.events.length > FULL_EVENTS;
      const rowsPaged = (d.observation?.pages.length ?? 0) > FULL_ROWS;
      const view: StepView = {
        ...d,
        events: eventsPaged ? [] : d.events,
        ...(d.observation
          ? { observation: rowsPaged ? { ...d.observation, pages: [] } : d.observation }
          : {}),
        eventsPaged,
        rowsPaged,
      };
      return view;
    }
    case 'events':
      return s.detail(ask.step).events.slice(ask.from, ask.to);
    case 'rows':
      return s.detail(ask.step).observation?.pages.slice(ask.from, ask.to) ?? [];
    case 'json': {
      const text = s.observationJson(ask.step) ?? '';
      return { text: text.slice(0, JSON_PREVIEW), cut: text.length > JSON_PREVIEW };
    }
    case 'outputs': {
      const out = [];
      for (let n = Math.max(1, ask.from); n <= Math.min(ask.to, s.steps.length); n++) {
        const m = s.steps[n - 1];
        out.push({ step: n, source: m.source, output: cutLines(s.output(n)) });
      }
      return out;
    }
    case 'trace': {
      const lines: string[] = [];
      for (const m of s.steps) {
        lines.push(`[${m.step}] ${m.source}`);
        for (const e of s.detail(m.step).events) lines.push(traceLine(e));
      }
      return `${lines.join('\n')}\n`;
    }
  }
}

/** A message handler bound to one worker's state. */
export function sessionHandler(post: (m: FromWorker) => void): (m: ToWorker) => void {
  let session: Session | null = null;
  let run = -1;
  return (m) => {
    if (m.type === 'run') {
      run = m.run;
      session = null;
      try {
        const s = new Session(m.text).run((steps) => post({ type: 'progress', run: m.run, steps }));
        session = s;
        const outcome: RunOutcome = { initial: s.initial, steps: s.steps, problem: s.problem };
        post({ type: 'ran', run: m.run, outcome });
      } catch (e) {
        post({ type: 'fail', run: m.run, req: null, message: e instanceof Error ? e.message : String(e) });
      }
      return;
    }
    if (!session || m.run !== run) return;
    try {
      post({ type: 'reply', run: m.run, req: m.req, value: answer(session, m.ask) });
    } catch (e) {
      post({ type: 'fail', run: m.run, req: m.req, message: e instanceof Error ? e.message : String(e) });
    }
  };
}

/** The handler in this thread, answering after a macrotask as a worker would (for tests and jsdom). */
export const localPort = (receive: (m: FromWorker) => void): { send(m: ToWorker): void; close(): void } => {
  const handle = sessionHandler((m) => setTimeout(() => receive(m), 0));
  return { send: (m) => setTimeout(() => handle(m), 0), close: () => {} };
};
