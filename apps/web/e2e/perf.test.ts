/**
 * Speed and memory in Chromium (benchmarks reported in test-results/e2e/perf.json, not pass/fail
 * timings): render times at 300 and 1,000 objects, and a 65,536-page write with 50 observations —
 * its run off the main thread, its long tasks (PerformanceObserver 'longtask'), the page's memory.
 * The assertions only catch what the worker fixed (a page frozen for seconds, a heap of gigabytes).
 */
import { writeFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PerfSample } from '../src/App';
import { runSession } from '../src/model/session';
import { artifact, type Lab, plainLink, skipReason, startLab } from './harness';

const reason = skipReason();

/** A scenario whose final state has about `target` graph objects: processes that each write their own copy of 40 pages. */
function bigScenario(target: number): string {
  const lines = ['spawn P0', 'P0: mmap heap 40 anon private', 'P0: write heap 0..39'];
  for (let i = 1; ; i++) {
    const candidate = [...lines, `P0: fork P${i}`, `P${i}: write heap 0..39`];
    if (runSession(candidate.join('\n')).steps.at(-1)!.graphSize > target) break;
    lines.push(...candidate.slice(lines.length));
  }
  return lines.join('\n');
}

/** Issue 14's link: a 65,536-page write and 50 observations. */
const HUGE = [
  'spawn A',
  'A: mmap big 65536 anon private',
  'A: write big 0..65535',
  ...Array(50).fill('observe'),
].join('\n');

interface Long {
  /** [start, duration] of every long task, in ms since the page's start. */
  longTasks: [number, number][];
}

describe.skipIf(reason !== null)('rmaplab speed and memory in Chromium', () => {
  let lab: Lab;
  let page: Page;
  const figures: Record<string, unknown> = {};

  beforeAll(async () => {
    lab = await startLab();
    page = await lab.browser.context.newPage();
    // Every long task of the page's main thread, from its very start.
    await page.addInitScript(() => {
      const w = window as unknown as Long;
      w.longTasks = [];
      new PerformanceObserver((l) => {
        for (const e of l.getEntries()) w.longTasks.push([e.startTime, e.duration]);
      }).observe({ type: 'longtask', buffered: true });
    });
    page.on('pageerror', (e) => console.log(`page error: ${e.message}`));
  });

  afterAll(async () => {
    writeFileSync(artifact('perf.json'), `${JSON.stringify(figures, null, 2)}\n`);
    await lab?.close();
  });

  const stepCount = async () => Number(await page.getByTestId('step-count').innerText());
  const open = async (text: string) => {
    await page.goto('about:blank');
    await page.goto(`${lab.base}${plainLink(text)}`);
    await page.waitForSelector('.cm-content');
    await expect.poll(stepCount, { timeout: 120_000 }).toBe(runSession(text).steps.length);
  };
  const jump = async (n: number) => {
    await page.getByTestId('jump').fill(String(n));
    await expect.poll(() => page.getByTestId('jump').inputValue()).toBe(String(n));
  };

  it('reports rendering speed at 300 and 1,000 objects', async () => {
    const REPEAT = 5;
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    /** The perf sample of the next paint of a graph of `nodes` objects. */
    const nextSample = async (nodes: number) => {
      const before = await page.evaluate(() => window.__rmaplab?.perf.length ?? 0);
      const find = () =>
        page.evaluate(([from, n]) => window.__rmaplab!.perf.slice(from).find((x) => x.nodes === n), [
          before,
          nodes,
        ] as const);
      return async () => {
        await expect.poll(find).toBeDefined();
        return (await find())!;
      };
    };
    const out: Record<string, unknown>[] = [];
    for (const target of [300, 1000]) {
      const text = bigScenario(target);
      const steps = runSession(text).steps;
      const first: PerfSample[] = [];
      const relayout: PerfSample[] = [];
      for (let r = 0; r < REPEAT; r++) {
        await open(text);
        let sample = await nextSample(steps.at(-1)!.graphSize);
        await jump(steps.length);
        first.push(await sample());
        sample = await nextSample(steps.at(-2)!.graphSize);
        await jump(steps.length - 1); // one step back: new graph, full relayout
        relayout.push(await sample());
      }
      const ms = (xs: PerfSample[]) => xs.map((x) => Math.round(x.renderMs * 10) / 10);
      const figure = {
        target,
        statements: steps.length,
        nodes: first[0].nodes,
        relayoutNodes: relayout[0].nodes,
        firstMedianMs: median(ms(first)),
        relayoutMedianMs: median(ms(relayout)),
        layoutMedianMs: median(first.map((x) => x.layoutMs)),
        dataMedianMs: median(first.map((x) => Math.round(x.dataMs * 10) / 10)),
        relayoutDataMedianMs: median(relayout.map((x) => Math.round(x.dataMs * 10) / 10)),
        firstMs: ms(first),
        relayoutMs: ms(relayout),
      };
      out.push(figure);
      console.log(
        `render ${figure.nodes} objects: median ${figure.firstMedianMs} ms of [${figure.firstMs.join(', ')}] ` +
          `(layout ${figure.layoutMedianMs.toFixed(1)} ms, data from the worker ${figure.dataMedianMs} ms); ` +
          `step with full relayout at ${figure.relayoutNodes} (data ${figure.relayoutDataMedianMs} ms) ` +
          `objects: median ${figure.relayoutMedianMs} ms of [${figure.relayoutMs.join(', ')}]`,
      );
      await page.screenshot({ path: artifact(`07-graph-${target}.png`) });
    }
    figures.render = out;
  });

  it('runs a 65,536-page write and 50 observations off the main thread, saves it only once it has run, and bounds its memory', async () => {
    await open('spawn A\n'); // stored
    await page.goto('about:blank');
    const t0 = Date.now();
    await page.goto(`${lab.base}${plainLink(HUGE)}`);
    await page.waitForSelector('.cm-content');
    // The page's own start-up (module evaluation, the first render) is one task; what follows is the run.
    const loaded = await page.evaluate(() => performance.now());
    // While it runs, the page answers and nothing is stored yet.
    await expect.poll(() => page.getByTestId('narration').innerText()).toContain('running');
    expect(await page.evaluate(() => localStorage.getItem('rmaplab.scenario'))).toBe('spawn A\n');
    await expect.poll(stepCount, { timeout: 180_000, interval: 500 }).toBe(53);
    const runMs = Date.now() - t0;
    await expect.poll(() => page.evaluate(() => localStorage.getItem('rmaplab.scenario'))).toBe(HUGE);
    // The write's 327,687 events and an observation's 65,536 rows, rendered a window at a time.
    await jump(3);
    await page.getByTestId('tab-walk').click();
    await expect.poll(() => page.getByTestId('event-position').innerText()).toMatch(/\/ 327687$/);
    await expect.poll(() => page.getByTestId('event-list').locator('.ev .ev-fn').count()).toBeGreaterThan(5);
    expect(await page.getByTestId('event-list').locator('.ev').count()).toBeLessThan(200);
    await page.getByTestId('event-list').evaluate((el) => {
      el.scrollTop = el.scrollHeight / 2;
    });
    await expect.poll(() => page.getByTestId('event-list').locator('.ev .ev-fn').count()).toBeGreaterThan(5);
    await jump(53);
    await page.getByTestId('tab-observation').click();
    await expect
      .poll(() => page.locator('[data-testid=observation-table] tbody td').first().innerText())
      .not.toBe('…');
    expect(await page.locator('[data-testid=observation-table] tbody tr').count()).toBeLessThan(200);
    for (const k of [4, 30, 10, 52]) {
      await jump(k);
      await expect
        .poll(() => page.locator('[data-testid=observation-table] tbody td').first().innerText())
        .toMatch(/^\d+$/);
    }
    const all = await page.evaluate(() => (window as unknown as Long).longTasks);
    const startup = all.filter(([t]) => t < loaded).map(([, d]) => d);
    const longTasks = all.filter(([t]) => t >= loaded).map(([, d]) => d);
    const heap = await page.evaluate(async () => {
      const p = performance as unknown as {
        measureUserAgentSpecificMemory?: () => Promise<{ bytes: number }>;
      };
      if (!crossOriginIsolated || !p.measureUserAgentSpecificMemory) return null;
      return (await p.measureUserAgentSpecificMemory()).bytes;
    });
    figures.huge = {
      statements: 53,
      runMs,
      longTasks: longTasks.length,
      longestTaskMs: Math.round(Math.max(0, ...longTasks)),
      startupTaskMs: Math.round(Math.max(0, ...startup)),
      heapMB: heap === null ? null : Math.round(heap / 1e6),
    };
    console.log(`65,536-page write + 50 observes: ${JSON.stringify(figures.huge)}`);
    // The target (no task over 100 ms) is a benchmark figure, reported above; what the test asserts
    // is what failed before the worker: the in-page run blocked the page for 25 s and took > 4 GB.
    expect(Math.max(0, ...longTasks)).toBeLessThan(1_000);
    if (heap !== null) expect(heap).toBeLessThan(1.5e9);
  });
});
