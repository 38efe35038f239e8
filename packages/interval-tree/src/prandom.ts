/**
 * The kernel's seeded pseudo-random generator, as used by lib/interval_tree_test.c:
 * `prandom_seed_state()` + `prandom_u32_state()` (a Tausworthe LFSR113 generator; include/linux/prandom.h,
 * lib/random32.c). Reproducing it bit for bit lets the benchmark run on exactly the kernel test's data.
 */

/** `struct rnd_state`: four 32-bit Tausworthe states (held as unsigned integers). */
export interface RndState {
  s1: number;
  s2: number;
  s3: number;
  s4: number;
}

/** `__seed(x, m)`: each component has a minimum below which the LFSR would degenerate. */
function seedComponent(x: number, m: number): number {
  return x < m ? (x + m) >>> 0 : x;
}

/**
 * `prandom_seed_state()`: folds a 64-bit seed into 32 bits as `(u32)((seed >> 32) ^ (seed << 10) ^ seed)`
 * and derives the four states from it. No warm-up rounds, as in the kernel.
 * @param seed a u64 seed, as a bigint (or a safe integer); taken modulo 2^64.
 */
export function prandomSeedState(seed: bigint | number): RndState {
  const s = BigInt.asUintN(64, BigInt(seed));
  const folded = Number(BigInt.asUintN(32, (s >> 32n) ^ (s << 10n) ^ s));
  return {
    s1: seedComponent(folded, 2),
    s2: seedComponent(folded, 8),
    s3: seedComponent(folded, 16),
    s4: seedComponent(folded, 128),
  };
}

/** `prandom_u32_state()`: advances `state` and returns the next unsigned 32-bit value. */
export function prandomU32State(state: RndState): number {
  // TAUSWORTHE(s, a, b, c, d) = ((s & c) << d) ^ (((s << a) ^ s) >> b), all on u32.
  state.s1 = (((state.s1 & 0xfffffffe) << 18) ^ (((state.s1 << 6) ^ state.s1) >>> 13)) >>> 0;
  state.s2 = (((state.s2 & 0xfffffff8) << 2) ^ (((state.s2 << 2) ^ state.s2) >>> 27)) >>> 0;
  state.s3 = (((state.s3 & 0xfffffff0) << 7) ^ (((state.s3 << 13) ^ state.s3) >>> 21)) >>> 0;
  state.s4 = (((state.s4 & 0xffffff80) << 13) ^ (((state.s4 << 3) ^ state.s4) >>> 12)) >>> 0;
  return (state.s1 ^ state.s2 ^ state.s3 ^ state.s4) >>> 0;
}

/** The seed hard-coded in lib/interval_tree_test.c (a module parameter from about 6.14 on). */
export const KERNEL_TEST_SEED = 3141592653589793238n;

/** A small object wrapper: `new Prandom(seed).u32()`. */
export class Prandom {
  readonly state: RndState;
  constructor(seed: bigint | number = KERNEL_TEST_SEED) {
    this.state = prandomSeedState(seed);
  }
  /** The next `prandom_u32_state()` output. */
  u32(): number {
    return prandomU32State(this.state);
  }
}
