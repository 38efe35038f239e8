import { describe, expect, it } from 'vitest';
import { SessionClient } from '../src/worker/client';
import { localPort } from '../src/worker/handler';
import { FULL_EVENTS, FULL_ROWS } from '../src/worker/protocol';

const BIG = 'spawn A\nA: mmap big 4096 anon private\nA: write big 0..4095\nobserve\n';

describe('SessionClient', () => {
  it('runs a scenario and answers for a step, sending long lists page by page', async () => {
    const c = new SessionClient(localPort);
    const o = await c.start(BIG, { progress: () => {} });
    expect(o.steps.map((s) => s.op)).toEqual(['spawn', 'mmap', 'write', 'observe']);
    const write = await c.ask({ type: 'detail', step: 3 });
    expect(write.meta.eventCount).toBeGreaterThan(FULL_EVENTS);
    expect(write).toMatchObject({ eventsPaged: true, events: [] });
    const page = await c.ask({ type: 'events', step: 3, from: 100, to: 110 });
    expect(page).toHaveLength(10);
    const obs = await c.ask({ type: 'detail', step: 4 });
    expect(obs.meta.observationRows).toBeGreaterThan(FULL_ROWS);
    expect(obs.rowsPaged).toBe(true);
    expect((await c.ask({ type: 'rows', step: 4, from: 0, to: 3 })).map((r) => r.mappings[0])).toEqual([
      'A:big:0',
      'A:big:1',
      'A:big:2',
    ]);
    const trace = await c.ask({ type: 'trace' });
    expect(trace.split('\n')[0]).toBe('[1] spawn A');
    expect(trace).toContain('do_anonymous_page');
    const out = await c.ask({ type: 'outputs', from: 4, to: 4 });
    expect(out[0].output).toMatch(/… \d+ more lines$/);
  });

  it('abandons a run that a newer one replaces', async () => {
    const c = new SessionClient(localPort);
    let firstDone = false;
    void c.start(BIG, { progress: () => {} }).then(() => {
      firstDone = true;
    });
    const o = await c.start('spawn A\n', { progress: () => {} });
    expect(o.steps).toHaveLength(1);
    expect(firstDone).toBe(false);
  });
});
