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
const BAR_WIDTH = 30;

export class Progress {
  private readonly enabled: boolean;
  private readonly start: number;
  private last = 0;
  private shown = false;

  constructor(private readonly io: Io) {
    this.enabled = io.stderrIsTTY;
    this.start = this.enabled ? io.now() : 0;
  }

  /** `rmaplab run` has reached statement `step`. */
  tick(step: number): void {
    if (!this.enabled || step % CHECK_EVERY !== 0) return;
    this.show((elapsed) => `rmaplab: step ${step} (${Math.round((step * 1000) / elapsed)} statements/s)`);
  }

  /** `done` of `total` parts of a job are finished; `now` says what is going on. */
  bar(done: number, total: number, now: string): void {
    if (!this.enabled) return;
    this.show(() => {
      const full = Math.round((BAR_WIDTH * done) / total);
      return `rmaplab: [${'#'.repeat(full)}${'.'.repeat(BAR_WIDTH - full)}] ${done} of ${total}, ${now}`;
    });
  }

  /** Draw `line(elapsed ms)` over the previous one, at most every EVERY_MS, after QUIET_MS. */
  private show(line: (elapsed: number) => string): void {
    const t = this.io.now();
    if (t - this.start < QUIET_MS || t - this.last < EVERY_MS) return;
    this.last = t;
    this.io.stderr(`\r\x1b[K${line(t - this.start)}`);
    this.shown = true;
  }

  /** Erase the line (before results are written, and at the end). */
  clear(): void {
    if (this.shown) this.io.stderr('\r\x1b[K');
    this.shown = false;
  }
}
