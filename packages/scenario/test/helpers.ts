/** Shared helpers of the scenario tests. */

/** The statement without positions, so parsed statements compare with the data they were written from. */
export function strip(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(strip);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (k === 'step' || k === 'span' || k === 'text' || k === 'flagSpans' || k.endsWith('Span')) continue;
      out[k] = strip(x);
    }
    return out;
  }
  return v;
}
