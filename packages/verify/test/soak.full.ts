/**
 * The reliability soak (`pnpm --filter @rmaplab/verify test:soak`, outside `pnpm test`): 10,000
 * random sequences (RMAPLAB_SOAK_SEQUENCES for another number) with the simulator's statements
 * and releases, the invariant checker and rmap completeness after every statement. Prints its
 * figures; any failure is printed with a scenario that reproduces it.
 */
import { describe, expect, it } from 'vitest';
import { formatFailures, formatFigures, soak } from './soak.js';

const SEQUENCES = Number(process.env.RMAPLAB_SOAK_SEQUENCES ?? 10_000);

describe(`soak (${SEQUENCES} sequences)`, () => {
  it('no internal error, no broken invariant, every sampled walk complete, refusals change nothing', () => {
    const { figures, failures } = soak(1, SEQUENCES);
    console.log(formatFigures(figures));
    expect(formatFailures(failures)).toBe('');
  });
});
