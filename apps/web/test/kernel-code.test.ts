import { compareReleases, parseRelease } from '@rmaplab/mm';
import { describe, expect, it } from 'vitest';
import { EXAMPLES } from '../src/model/examples';
import { codeStack, LISTINGS, lastCodeStack, listingFor, listingsFor } from '../src/model/kernel-code';
import { runSession, withKernel } from '../src/model/session';
import { isRmapOne, type Pass, passAt, passesOf } from '../src/model/walk';
import { expectedFunction } from './expected-code';

/** Every statement that walks the rmap of every example run under `kernel` (its own release: null). */
const walksOf = (kernel: string | null) =>
  EXAMPLES.flatMap((ex) => {
    const s = runSession(kernel ? withKernel(ex.text, kernel) : ex.text);
    return s.steps
      .filter((m) => m.walks)
      .map((m) => ({
        name: `${ex.name} step ${m.step} (${m.source}) under ${m.kernel}`,
        op: m.op,
        kernel: m.kernel,
        events: s.detail(m.step).events,
      }));
  });

/** Every walk of every example: as written, and under 6.12 and 6.18. */
const walkSteps = walksOf(null);
const modernSteps = [...walksOf('6.12'), ...walksOf('6.18')];

describe('the kernel code panel on every example', () => {
  it('has walks to check', () => {
    expect(walkSteps.length).toBeGreaterThan(10);
  });

  it('maps every walk event to its own function and a line of that function that produces it', () => {
    let checked = 0;
    for (const { name, op, kernel, events } of [...walkSteps, ...modernSteps]) {
      const passes = passesOf(events, op, kernel);
      events.forEach((e, i) => {
        const pass = passAt(passes, i);
        if (!pass) return;
        const want = expectedFunction(events, i, pass);
        if (!want) return;
        const stack = codeStack(events, i, passes, op, kernel);
        const where = `${name}, event ${i + 1} ${e.fn}: ${e.msg}`;
        expect(stack.at(-1)?.listing, where).toBe(want);
        const line = listingFor(want, kernel)!.lines.find((l) => l.id === stack.at(-1)!.line);
        expect(line, where).toBeDefined();
        // Its line says it produces this event, except an rmap_one's result, which its deciding line returns.
        if (!isRmapOne(e.fn) || stack.at(-1)!.line === 'return')
          expect(line!.emits ?? [], where).toContain(e.fn);
        checked++;
      });
    }
    expect(checked).toBeGreaterThan(600);
  });

  it('under 6.12 and 6.18 shows each function’s own 6.x listing: no SWAP_*, no 4.9 name', () => {
    const modern = new Set<string>();
    for (const { name, op, kernel, events } of modernSteps) {
      const passes = passesOf(events, op, kernel);
      for (const fn of listingsFor(events, passes, op, kernel)) {
        const l = listingFor(fn, kernel)!;
        expect(l.fn, name).toBe(fn);
        // The listing describes the release (not the oldest one standing in for a missing one).
        expect(
          compareReleases(parseRelease(l.since), parseRelease(kernel)),
          `${name}: ${fn}`,
        ).toBeLessThanOrEqual(0);
        expect(
          l.until === undefined || compareReleases(parseRelease(kernel), parseRelease(l.until)) < 0,
        ).toBe(true);
        const text = l.lines.map((x) => x.text).join('\n');
        expect(text, `${name}: ${fn}`).not.toMatch(/SWAP_|page_check_address\(|PAGEREF_/);
        modern.add(fn);
      }
      for (const e of events)
        expect(e.fn, name).not.toMatch(/^(page_referenced|page_check_address|shrink_page_list)/);
    }
    expect([...modern].sort()).toEqual(
      expect.arrayContaining([
        'folio_mkclean',
        'folio_referenced',
        'folio_referenced_one',
        'migrate_pages',
        'rmap_walk_anon',
        'rmap_walk_file',
        'shrink_folio_list',
        'try_to_migrate',
        'try_to_migrate_one',
        'try_to_unmap',
        'try_to_unmap_one',
      ]),
    );
  });

  it('shows the caller and the client above the walker: shrink_page_list → page_referenced, then → try_to_unmap', () => {
    const reclaim = walkSteps.find(
      (s) => s.op === 'reclaim' && s.kernel === '4.9' && passesOf(s.events, s.op).length === 2,
    )!;
    const passes = passesOf(reclaim.events, 'reclaim');
    expect(passes.map((p) => p.client)).toEqual(['page_referenced', 'try_to_unmap']);
    const probe = (p: Pass) =>
      reclaim.events.findIndex((e, i) => i >= p.from && e.fn === 'page_check_address');
    expect(codeStack(reclaim.events, probe(passes[0]), passes, 'reclaim', '4.9')).toEqual([
      { listing: 'shrink_page_list', line: 'referenced' },
      { listing: 'page_referenced', line: 'walk' },
      { listing: 'rmap_walk_anon', line: 'rmap_one' },
      { listing: 'page_referenced_one', line: 'check' },
    ]);
    expect(
      codeStack(reclaim.events, probe(passes[1]), passes, 'reclaim', '4.9').map((f) => f.listing),
    ).toEqual(['shrink_page_list', 'try_to_unmap', 'rmap_walk_anon', 'try_to_unmap_one']);
    expect(listingsFor(reclaim.events, passes, 'reclaim', '4.9')).toEqual([
      'shrink_page_list',
      'page_referenced',
      'rmap_walk_anon',
      'page_referenced_one',
      'try_to_unmap',
      'try_to_unmap_one',
    ]);
  });

  it('marks the PTE lock on page_check_address’s line, not the line before it', () => {
    const { events, op, kernel } = walkSteps.find((s) => s.op === 'unmap')!;
    const passes = passesOf(events, op);
    const i = events.findIndex((e, j) => e.fn === 'spin_lock' && passAt(passes, j) !== null);
    expect(codeStack(events, i, passes, op, kernel).at(-1)).toEqual({
      listing: 'try_to_unmap_one',
      line: 'check',
    });
  });

  it('keeps the last listed line for an event no listing produces', () => {
    const { events, op, kernel } = walkSteps.find((s) => s.op === 'walk')!;
    const passes = passesOf(events, op);
    const last = events.length - 1;
    expect(events[last].fn).toBe('unlock_page');
    const shown = lastCodeStack(events, last, passes, op, kernel);
    expect(shown.own).toBe(false);
    expect(shown.stack.at(-1)).toEqual({ listing: 'rmap_walk_anon', line: 'return' });
  });
});

describe('listingFor', () => {
  it('picks the listing whose releases hold the release, keyed by function', () => {
    expect(listingFor('try_to_unmap_one', '4.9')?.since).toBe('4.9');
    expect(listingFor('try_to_migrate_one', '6.12')?.since).toBe('5.14');
    expect(listingFor('no_such_function', '4.9')).toBeNull();
    for (const l of LISTINGS) {
      const ids = l.lines.map((x) => x.id).filter((x) => x !== '');
      expect(new Set(ids).size, l.fn).toBe(ids.length);
    }
  });
});
