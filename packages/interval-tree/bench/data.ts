/**
 * Data generation of the kernel's lib/interval_tree_test.c (6.12 form), with its exact PRNG, so that
 * the benchmark runs on the same intervals and queries as the kernel module.
 */
import { prandomSeedState, prandomU32State } from '../src/prandom.js';

export interface KernelTestData {
  /** node i is [starts[i], lasts[i]] */
  starts: number[];
  lasts: number[];
  /** stabbing points: query k is [queries[k], queries[k]] */
  queries: number[];
}

/**
 * `init()` of lib/interval_tree_test.c in 6.12: for node i draw b then a, `b = (u32 >> 4) % max_endpoint`,
 * `a = (u32 >> 4) % b`, giving [a, b]; then the queries `(u32 >> 4) % max_endpoint`.
 * The kernel divides by zero when b == 0 (probability ~2^-28 per node); here a = 0 in that case.
 */
export function kernelTestData(
  nnodes: number,
  nsearches: number,
  maxEndpoint: number,
  seed: bigint,
): KernelTestData {
  if (!(maxEndpoint >= 1 && maxEndpoint <= 0xffffffff))
    throw new RangeError('max_endpoint must be in 1..2^32-1');
  const st = prandomSeedState(seed);
  // Plain arrays of small integers, as a JS caller would have them (all values are < 2^28).
  const starts: number[] = [];
  const lasts: number[] = [];
  for (let i = 0; i < nnodes; i++) {
    const b = (prandomU32State(st) >>> 4) % maxEndpoint;
    const r = prandomU32State(st) >>> 4; // drawn even when b == 0, to keep the stream aligned
    const a = b === 0 ? 0 : r % b;
    starts.push(a | 0); // < 2^28: exact, and kept as small integers (Smis) for every library
    lasts.push(b | 0);
  }
  const queries: number[] = [];
  for (let k = 0; k < nsearches; k++) queries.push(((prandomU32State(st) >>> 4) % maxEndpoint) | 0);
  return { starts, lasts, queries };
}
