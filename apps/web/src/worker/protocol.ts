/**
 * The messages between the app and the session worker. The app asks; the worker, which holds the
 * Session, answers with plain data (structured clones). Lists longer than the page sizes below are
 * never sent whole: the app asks for the rows it shows.
 */
import type { TraceEvent } from '@rmaplab/mm';
import type { ObservedPage } from '@rmaplab/scenario';
import type { RunOutcome, StepDetail } from '../model/session';

/** A step with more events than this sends them page by page (the walk and lock views need them whole). */
export const FULL_EVENTS = 5_000;
/** An observation with more rows than this sends them page by page. */
export const FULL_ROWS = 2_000;
/** The longest observation JSON sent for display (the rest is cut, with a note). */
export const JSON_PREVIEW = 200_000;

export type Request =
  | { type: 'detail'; step: number }
  | { type: 'events'; step: number; from: number; to: number }
  | { type: 'rows'; step: number; from: number; to: number }
  | { type: 'json'; step: number }
  | { type: 'outputs'; from: number; to: number }
  | { type: 'trace' };

/** A step as sent: events and observation rows left out when they are too many to send at once. */
export interface StepView extends StepDetail {
  /** True when `events` is empty because the step has more than FULL_EVENTS. */
  eventsPaged: boolean;
  /** True when `observation.pages` is empty because it has more than FULL_ROWS. */
  rowsPaged: boolean;
}

export interface Replies {
  detail: StepView;
  events: TraceEvent[];
  rows: ObservedPage[];
  json: { text: string; cut: boolean };
  outputs: { step: number; source: string; output: string }[];
  trace: string;
}

export type ToWorker =
  | { type: 'run'; run: number; text: string }
  | { type: 'ask'; run: number; req: number; ask: Request };

export type FromWorker =
  | { type: 'progress'; run: number; steps: number }
  | { type: 'ran'; run: number; outcome: RunOutcome }
  | { type: 'reply'; run: number; req: number; value: unknown }
  | { type: 'fail'; run: number; req: number | null; message: string };
