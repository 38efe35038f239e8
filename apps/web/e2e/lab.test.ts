/**
 * The lab in a real browser: system Chromium against the built site served on 127.0.0.1. Screenshots
 * of the key states go to test-results/e2e/, and the rendering figures to test-results/e2e/perf.json.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { observationJson, runScenario } from '@rmaplab/scenario';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PerfSample } from '../src/App';
import { runSession } from '../src/model/session';
import { APP_DIR, artifact, type Browser, buildSite, DIST, launch, serve, skipReason } from './harness';

const reason = skipReason();
if (reason) console.log(`e2e skipped: ${reason}`);

const FORK = `# fork shares anonymous pages; a COW write breaks the sharing
spawn A
A: mmap heap 4 anon private
A: write heap 0..2
A: fork B
B: write heap 1
observe
`;

const WALK = `set kernel 4.9
spawn A
A: mmap heap 4 anon private
A: write heap 0
A: fork B
A: fork C
observe
A: walk heap 0
`;

/** Whether the runner can run `walk` yet (@rmaplab/rmap wired into the scenario runner). */
const walkReady = runSession(WALK).problem === null;
if (!walkReady) console.log(`e2e walk test skipped: ${runSession(WALK).problem?.message}`);

/** The CLI's `--json` lines for a scenario: the CLI binary when it is built, else the library it prints from. */
function cliJson(text: string): { lines: string[]; via: string } {
  const bin = join(APP_DIR, '..', 'cli', 'dist', 'bin.js');
  if (existsSync(bin)) {
    const file = join(mkdtempSync(join(tmpdir(), 'rmaplab-cli-')), 'scenario.rmap');
    writeFileSync(file, text);
    const out = execFileSync(process.execPath, [bin, 'run', '--json', file], { encoding: 'utf8' });
    return { lines: out.split('\n').filter((l) => l.trim() !== ''), via: 'rmaplab run --json' };
  }
  const lines = [...runScenario(text)]
    .filter((r) => r.observation)
    .map((r) => observationJson(r.observation!));
  return { lines, via: '@rmaplab/scenario (CLI not built)' };
}

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

describe.skipIf(reason !== null)('rmaplab in Chromium', () => {
  let browser: Browser;
  let server: Server;
  let base: string;
  let page: Page;

  beforeAll(async () => {
    await buildSite();
    ({ url: base, server } = await serve(DIST));
    browser = await launch();
    page = await browser.context.newPage();
    page.on('pageerror', (e) => console.log(`page error: ${e.message}`));
  });

  afterAll(async () => {
    await browser?.close();
    server?.close();
  });

  const editorText = () => page.locator('.cm-content').innerText();
  const stepCount = async () => Number(await page.getByTestId('step-count').innerText());
  /** The ids of the objects drawn, sorted. */
  const drawnIds = async () =>
    (await page.locator('.kobj').evaluateAll((els) => els.map((e) => e.getAttribute('data-id')))).sort();
  const jump = async (n: number) => {
    await page.getByTestId('jump').fill(String(n));
    await expect.poll(() => page.getByTestId('jump').inputValue()).toBe(String(n));
  };
  const open = async (text: string) => {
    await page.goto(`${base}#s=${Buffer.from(text).toString('base64url')}`);
    await page.waitForSelector('.cm-content');
    await expect.poll(editorText).toContain(text.split('\n')[1]);
    // A fragment-only navigation re-runs the scenario after the edit debounce: wait for this run's steps.
    await expect.poll(stepCount).toBe(runSession(text).steps.length);
  };

  it('offers every example of the repository and opens one', async () => {
    await page.goto(base);
    const names = readdirSync(join(APP_DIR, '..', '..', 'examples'))
      .filter((f) => f.endsWith('.rmap'))
      .map((f) => f.replace(/\.rmap$/, ''))
      .sort();
    const offered = (await page.locator('[data-testid=examples] option').allInnerTexts()).slice(1);
    expect(names.length).toBeGreaterThan(0);
    expect(offered).toEqual(names);
    await page.getByTestId('examples').selectOption(names[0]);
    const text = readFileSync(join(APP_DIR, '..', '..', 'examples', `${names[0]}.rmap`), 'utf8');
    await expect.poll(editorText).toContain(
      text
        .split('\n')
        .find((l) => l.trim() !== '')!
        .trim(),
    );
    await page.screenshot({ path: artifact('01-example.png') });
  });

  it('steps forwards and backwards through exact snapshots, by buttons, slider and keys', async () => {
    await open(FORK);
    await expect.poll(stepCount).toBe(6);
    const processes = () => page.locator('.kobj.kind-process').count();
    await jump(4); // after the fork
    await expect.poll(processes).toBe(2);
    await page.getByTestId('prev').click();
    await expect.poll(processes).toBe(1);
    await page.locator('body').press('End');
    await expect.poll(() => page.getByTestId('jump').inputValue()).toBe('6');
    await page.locator('body').press('ArrowLeft');
    await expect.poll(() => page.getByTestId('current-statement').innerText()).toContain('B: write heap 1');
    // What is drawn at each step is what a run of only that many statements builds.
    for (const k of [2, 3, 5]) {
      await jump(k);
      const expected = runSession(FORK)
        .steps[k - 1].graph!.nodes.map((n) => n.id)
        .sort();
      await expect.poll(drawnIds).toEqual(expected);
    }
    await page.screenshot({ path: artifact('02-fork-step5.png') });
  });

  it('inspects a clicked object, pans by dragging and zooms with the wheel', async () => {
    await open(FORK);
    await jump(6);
    await page.locator('.kobj.kind-process').first().click();
    await expect.poll(() => page.getByTestId('inspector').innerText()).toContain('process');
    const transform = () => page.locator('.graph-canvas').evaluate((e) => (e as HTMLElement).style.transform);
    const scale = async () => Number((await transform()).match(/scale\(([^)]+)\)/)![1]);
    const before = await transform();
    const box = (await page.getByTestId('graph').boundingBox())!;
    // Drag from the empty top-left corner of the pane (the inspector covers the right).
    await page.mouse.move(box.x + 20, box.y + 20);
    await page.mouse.down();
    await page.mouse.move(box.x + 120, box.y + 70, { steps: 5 });
    await page.mouse.up();
    expect(await transform()).not.toBe(before);
    const k = await scale();
    await page.mouse.wheel(0, -200);
    await expect.poll(scale).toBeGreaterThan(k);
    // A drag that ended on the pane is not a click: the inspector stays open.
    expect(await page.getByTestId('inspector').count()).toBe(1);
  });

  it('shows the observation exactly as the CLI prints it with --json', async () => {
    await open(FORK);
    await jump(6);
    await page.getByTestId('tab-observation').click();
    const shown = await page.getByTestId('observation-json').textContent();
    const cli = cliJson(FORK);
    console.log(`observation compared with ${cli.via}`);
    expect(shown).toBe(cli.lines[0]);
    const rows = await page.locator('[data-testid=observation-table] tbody tr').count();
    expect(rows).toBe(JSON.parse(cli.lines[0]).pages.length);
    await page.screenshot({ path: artifact('03-observation.png') });
  });

  it.skipIf(!walkReady)(
    'animates the walk: the visited VMAs light up in the order the walk visits them',
    async () => {
      await open(WALK);
      const steps = runSession(WALK).steps;
      const walkStep = steps.findIndex((s) => s.statement.op === 'walk') + 1;
      const expected = steps[walkStep - 1].report!.visits.map((v) => `vma:${v.vma}`);
      expect(expected.length).toBe(3);
      await jump(walkStep);
      await page.getByTestId('tab-walk').click();
      // From the first event, one event at a time: each newly highlighted VMA is the next one in order.
      await page.locator('.walk-toolbar button').first().click();
      const seen: string[] = [];
      const total = steps[walkStep - 1].events.length;
      for (let i = 0; i < total; i++) {
        const visited = await page
          .locator('.kobj.walk-visited')
          .evaluateAll((els) =>
            els.map(
              (e) =>
                [
                  e.getAttribute('data-id')!,
                  Number(e.querySelector('.visit-badge')?.textContent?.split(' ')[0]),
                ] as const,
            ),
          );
        for (const [id] of [...visited].sort((a, b) => a[1] - b[1])) if (!seen.includes(id)) seen.push(id);
        if (i === Math.floor(total / 2)) await page.screenshot({ path: artifact('04-walk-midway.png') });
        await page.locator('body').press('.');
      }
      expect(seen).toEqual(expected);
      await expect.poll(() => page.locator('.code-current').count()).toBeGreaterThan(0);
      await page.screenshot({ path: artifact('05-walk-done.png') });
    },
  );

  it('shows an invalid line inline, keeps the earlier steps, and survives a reload', async () => {
    await open(FORK);
    await page.locator('.cm-content').click();
    await page.keyboard.press('Control+End');
    await page.keyboard.type('A: frobnicate heap');
    await expect.poll(() => page.locator('.cm-lintRange-error').count()).toBe(1);
    await expect.poll(() => page.getByTestId('problem').innerText()).toContain('line 8:4');
    expect(await stepCount()).toBe(6);
    await page.screenshot({ path: artifact('06-inline-error.png') });
    await page.reload();
    await page.waitForSelector('.cm-content');
    await expect.poll(editorText).toContain('A: frobnicate heap');
    // Local storage alone brings it back too (no fragment).
    await page.goto(base);
    await expect.poll(editorText).toContain('A: frobnicate heap');
  });

  it('round-trips the scenario through a share URL', async () => {
    const text = `${FORK}# shared ✓ ünïcode\n`;
    await open(text);
    await expect.poll(() => page.url()).toContain('#s=');
    const url = page.url();
    await page.evaluate(() => localStorage.clear());
    const other = await browser.context.newPage();
    await other.goto(url);
    await other.waitForSelector('.cm-content');
    await expect.poll(() => other.locator('.cm-content').innerText()).toContain('# shared ✓ ünïcode');
    await other.close();
  });

  it('turns a scenario over the size limits into a message at its line', async () => {
    const text = 'spawn A\nA: mmap huge 1000000 anon private\nobserve\n';
    await open(text);
    await expect.poll(() => page.getByTestId('problem').innerText()).toContain('line 2');
    expect(await stepCount()).toBe(1);
    // The refused line does not take the lab down: the state the statements before it built can be shown.
    await jump(1);
    const expected = runSession(text)
      .steps[0].graph!.nodes.map((n) => n.id)
      .sort();
    expect(expected.length).toBeGreaterThan(0);
    await expect.poll(drawnIds).toEqual(expected);
  });

  it('reports rendering speed at 300 and 1,000 objects (benchmark, not a pass/fail timing)', async () => {
    const REPEAT = 5;
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    /** The perf sample of the next paint of a graph of `nodes` objects (not a late one of the page's first, empty graph). */
    const nextSample = async (nodes: number) => {
      const before = await page.evaluate(() => window.__rmaplab!.perf.length);
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
    const figures: Record<string, unknown>[] = [];
    for (const target of [300, 1000]) {
      const text = bigScenario(target);
      const steps = runSession(text).steps;
      const first: PerfSample[] = [];
      const relayout: PerfSample[] = [];
      for (let r = 0; r < REPEAT; r++) {
        // A fresh page each time, so every first render is a real first paint of the large state.
        await page.goto('about:blank');
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
        firstMs: ms(first),
        relayoutMs: ms(relayout),
      };
      figures.push(figure);
      console.log(
        `render ${figure.nodes} objects: median ${figure.firstMedianMs} ms of [${figure.firstMs.join(', ')}] ` +
          `(layout ${figure.layoutMedianMs.toFixed(1)} ms); step with full relayout at ${figure.relayoutNodes} ` +
          `objects: median ${figure.relayoutMedianMs} ms of [${figure.relayoutMs.join(', ')}]`,
      );
      await page.screenshot({ path: artifact(`07-graph-${target}.png`) });
    }
    writeFileSync(artifact('perf.json'), `${JSON.stringify(figures, null, 2)}\n`);
  });
});
