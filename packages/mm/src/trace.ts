/** Ids of the objects an event is about, so viewers can highlight them. */
export interface TraceRefs {
  mm?: number;
  vma?: number;
  anonVma?: number;
  avc?: number;
  pfn?: number;
  addr?: number;
  file?: string;
  lock?: string;
  result?: string;
}

/**
 * One step of the model, named after the kernel function that performs it. The CLI prints these,
 * the web app animates them, tests assert on them.
 *  - `call`: a modelled kernel function did something (fn names it);
 *  - `lock`: a simulated lock was taken, released, contended or a trylock failed;
 *  - `walk`: an rmap walk event (visit of a VMA, rmap_one result, ...), emitted by @rmaplab/rmap.
 */
export interface TraceEvent {
  kind: 'call' | 'lock' | 'walk';
  /** Kernel function name, e.g. `anon_vma_clone`, `down_write`, `rmap_walk_anon`. */
  fn: string;
  /** The task that runs it: `pid:name`. */
  task: string;
  /** One readable line. */
  msg: string;
  refs?: TraceRefs;
}

export type TraceSink = (e: TraceEvent) => void;
