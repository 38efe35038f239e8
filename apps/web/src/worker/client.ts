/**
 * The app's side of the session worker: one run at a time (a new run ends the worker of the old
 * one, which may be busy for seconds), and requests answered as promises. Tests hand in another
 * port (the same handler in the page, see `localPort`), so the page bundle never holds the model.
 */
import type { RunOutcome } from '../model/session';
import type { FromWorker, Replies, Request, ToWorker } from './protocol';

export interface Port {
  send(m: ToWorker): void;
  close(): void;
}

/** Opens a connection to a fresh session backend that delivers its messages to `receive`. */
export type PortFactory = (receive: (m: FromWorker) => void, crashed: (message: string) => void) => Port;

/** The real one: a module Worker. */
export const workerPort: PortFactory = (receive, crashed) => {
  const w = new Worker(new URL('./session.worker.ts', import.meta.url), { type: 'module' });
  w.onmessage = (e: MessageEvent<FromWorker>) => receive(e.data);
  w.onerror = (e) => {
    e.preventDefault();
    crashed(e.message || 'the session worker stopped (out of memory?)');
  };
  return { send: (m) => w.postMessage(m), close: () => w.terminate() };
};

export interface RunCallbacks {
  progress(steps: number): void;
}

type Pending = { resolve(v: unknown): void; reject(e: Error): void };

export class SessionClient {
  private port: Port | null = null;
  private run = 0;
  private req = 0;
  private readonly pending = new Map<number, Pending>();
  private running: {
    resolve(o: RunOutcome): void;
    reject(e: Error): void;
    progress(n: number): void;
  } | null = null;

  constructor(private readonly factory: PortFactory = workerPort) {}

  private open(): Port {
    return this.factory(
      (m) => this.receive(m),
      (message) => this.crashed(message),
    );
  }

  private crashed(message: string): void {
    const err = new Error(message);
    this.running?.reject(err);
    this.running = null;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.port?.close();
    this.port = null;
  }

  private receive(m: FromWorker): void {
    if (m.run !== this.run) return;
    if (m.type === 'progress') this.running?.progress(m.steps);
    else if (m.type === 'ran') {
      this.running?.resolve(m.outcome);
      this.running = null;
    } else if (m.type === 'reply') {
      this.pending.get(m.req)?.resolve(m.value);
      this.pending.delete(m.req);
    } else if (m.req === null) {
      this.running?.reject(new Error(m.message));
      this.running = null;
    } else {
      this.pending.get(m.req)?.reject(new Error(m.message));
      this.pending.delete(m.req);
    }
  }

  /** Run `text`; a run still going is abandoned (its worker ended) and its promise never settles. */
  start(text: string, cb: RunCallbacks): Promise<RunOutcome> {
    if (this.running || !this.port) {
      this.port?.close();
      this.port = this.open();
      this.running = null;
    }
    for (const p of this.pending.values()) p.reject(new Error('superseded'));
    this.pending.clear();
    const run = ++this.run;
    const port = this.port;
    return new Promise((resolve, reject) => {
      this.running = { resolve, reject, progress: cb.progress };
      port.send({ type: 'run', run, text });
    });
  }

  /** Ask the worker about the last finished run. */
  ask<K extends Request['type']>(ask: Extract<Request, { type: K }>): Promise<Replies[K]> {
    const port = this.port;
    if (!port) return Promise.reject(new Error('no session'));
    const req = ++this.req;
    return new Promise((resolve, reject) => {
      this.pending.set(req, { resolve: resolve as (v: unknown) => void, reject });
      port.send({ type: 'ask', run: this.run, req, ask });
    });
  }

  close(): void {
    this.port?.close();
    this.port = null;
  }
}
