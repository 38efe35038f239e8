/** The session worker: runs scenarios off the main thread, so a long run never freezes the page. */
import { sessionHandler } from './handler';
import type { FromWorker, ToWorker } from './protocol';

/** The part of DedicatedWorkerGlobalScope used here (the webworker lib clashes with the DOM lib). */
interface Scope {
  postMessage(m: FromWorker): void;
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
}

const scope = self as unknown as Scope;
const handle = sessionHandler((m) => scope.postMessage(m));
scope.onmessage = (e) => handle(e.data);
