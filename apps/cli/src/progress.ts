/**
 * Progress of a long run on stderr: only on a terminal, only once a run has taken a second, and
 * erased before results are written and at the end, so it never mixes with them or reaches a pipe
 * or a golden file.
 */
import type { Io } from './io.js';

const QUIET_MS = 1000;
const EVERY_MS = 250;
/** Steps between clock reads: reading the clock per statement would cost more than some statements. */
const CHECK_EVERY = 4096;

export class Progress {
  private readonly enabled: boolean;
  private readonly start: number;
  private last = 0;
  private shown = false;

  constructor(private readonly io: Io) {
    this.enabled = io.stderrIsTTY;
    this.start = this.enabled ? io.now() : 0;
  }

  tick(step: number): void {
    if (!this.enabled || step % CHECK_EVERY !== 0) return;
    const t = this.io.now();
    if (t - this.start < QUIET_MS || t - this.last < EVERY_MS) return;
    this.last = t;
    const rate = Math.round((step * 1000) / (t - this.start));
    this.io.stderr(`\r\x1b[Krmaplab: step ${step} (${rate} statements/s)`);
    this.shown = true;
  }

  /** Erase the line (before results are written, and at the end). */
  clear(): void {
    if (this.shown) this.io.stderr('\r\x1b[K');
    this.shown = false;
  }
}
