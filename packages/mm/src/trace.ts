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
  /** A result as the release writes it (`SWAP_AGAIN`, `true`, `void`, `found`, ...). */
  result?: string;
  /**
   * The model's own code behind an rmap_one's `result` (4.9's SWAP_* value), so that a viewer can
   * tell apart results a release spells alike: from 4.12 a walk stopped at VM_LOCKED and one
   * stopped by a failed check both return false.
   */
  code?: number;
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
  /** Kernel function name as the release names it, e.g. `anon_vma_clone`, `down_write`, `folio_referenced_one`. */
  fn: string;
  /** The task that runs it: `pid:name`. */
  task: string;
  /** One readable line. */
  msg: string;
  refs?: TraceRefs;
}

export type TraceSink = (e: TraceEvent) => void;
