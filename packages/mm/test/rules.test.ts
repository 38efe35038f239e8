import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compareReleases,
  formatRelease,
  type KernelRule,
  lockOrderFor,
  MmSystem,
  NEWEST_MODELLED,
  namesFor,
  OLDEST_MODELLED,
  parseRelease,
  previousRelease,
  ReleaseError,
  RULES,
  rulesFor,
  timelinePoints,
} from '../src/index.js';

/** Every mainline release the model covers, 4.9 … 6.18, in order. */
const MODELLED: string[] = [
  ...Array.from({ length: 12 }, (_, i) => `4.${9 + i}`),
  ...Array.from({ length: 20 }, (_, i) => `5.${i}`),
  ...Array.from({ length: 19 }, (_, i) => `6.${i}`),
];

describe('kernel releases', () => {
  it('parses MAJOR.MINOR[.PATCH] and normalises a .0 patch away', () => {
    expect(parseRelease('6.12')).toEqual([6, 12]);
    expect(parseRelease('6.12.19')).toEqual([6, 12, 19]);
    expect(formatRelease(parseRelease('4.9.0'))).toBe('4.9');
    expect(formatRelease(parseRelease('6.18.44'))).toBe('6.18.44');
    for (const r of MODELLED) expect(formatRelease(parseRelease(r))).toBe(r);
  });

  it('orders releases numerically, a stable update after its release', () => {
    const sorted = ['6.12.1', '4.20', '6.2', '5.0', '6.12', '4.9.300']
      .map(parseRelease)
      .sort(compareReleases);
    expect(sorted.map(formatRelease)).toEqual(['4.9.300', '4.20', '5.0', '6.2', '6.12', '6.12.1']);
  });

  it.each([
    ['4.8', /older than the model reaches; the nearest the model can represent: 4\.9$/],
    ['2.6.34', /older than the model reaches/],
    ['4.21', /there is no Linux 4\.21; the nearest the model can represent: 4\.20, 5\.0$/],
    ['5.20', /there is no Linux 5\.20; the nearest the model can represent: 5\.19, 6\.0$/],
    ['3.20', /there is no Linux 3\.20; the nearest the model can represent: 4\.9$/],
    ['2.7', /there is no Linux 2\.7; the nearest the model can represent: 4\.9$/],
    ['6.19', /newer than the model reaches; the nearest the model can represent: 6\.18$/],
    ['7.0', /newer than the model reaches/],
    ['6.012', /is not a kernel release/],
    ['6', /is not a kernel release/],
    ['v6.12', /is not a kernel release/],
    ['6.12.1.1', /one number too many/],
  ])('refuses %s, naming the nearest modelled releases', (text, message) => {
    expect(() => parseRelease(text)).toThrow(ReleaseError);
    expect(() => parseRelease(text)).toThrow(message);
  });

  it('names the release just before each modelled one, across the ends of a series', () => {
    for (let i = 1; i < MODELLED.length; i++) expect(previousRelease(MODELLED[i])).toBe(MODELLED[i - 1]);
    expect(previousRelease('5.0')).toBe('4.20');
    expect(previousRelease('6.0')).toBe('5.19');
    expect(previousRelease('6.12.19')).toBe('6.11');
    expect(() => previousRelease('4.9')).toThrow(/older than the model reaches/);
  });
});

describe('the rule catalogue', () => {
  it('lists each rule once, oldest first, each inside the modelled range', () => {
    const ids = RULES.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const r of RULES) {
      expect(r.id).toMatch(/^[a-z0-9]+(-[a-z0-9.]+)*$/);
      expect(r.commit === null || /^[0-9a-f]{12}$/.test(r.commit), `${r.id} commit`).toBe(true);
      expect(compareReleases(parseRelease(r.since), parseRelease(OLDEST_MODELLED))).toBeGreaterThan(0);
    }
    const sinces = RULES.map((r) => parseRelease(r.since));
    for (let i = 1; i < sinces.length; i++)
      expect(compareReleases(sinces[i - 1], sinces[i]), `${RULES[i].id} out of order`).toBeLessThanOrEqual(0);
  });

  it('puts a rule in force from its release on, and not in the one before', () => {
    for (const rule of RULES) {
      const at = MODELLED.indexOf(rule.since);
      expect(at, rule.since).toBeGreaterThan(0);
      expect(rulesFor(parseRelease(rule.since))[rule.id]).toBe(true);
      expect(rulesFor(parseRelease(`${rule.since}.7`))[rule.id]).toBe(true);
      expect(rulesFor(parseRelease(MODELLED[at - 1]))[rule.id]).toBe(false);
    }
  });

  it('never takes a rule back: what is in force in a release stays in force in every later one', () => {
    fc.assert(
      fc.property(fc.constantFrom(...MODELLED), fc.constantFrom(...MODELLED), (a, b) => {
        const [early, late] = compareReleases(parseRelease(a), parseRelease(b)) <= 0 ? [a, b] : [b, a];
        const before = rulesFor(parseRelease(early));
        const after = rulesFor(parseRelease(late));
        for (const r of RULES) if (before[r.id]) expect(after[r.id]).toBe(true);
      }),
    );
  });

  it('has no rule in force at the oldest release and every rule at the newest', () => {
    expect(Object.values(rulesFor(parseRelease(OLDEST_MODELLED))).some(Boolean)).toBe(false);
    expect(Object.values(rulesFor(parseRelease(NEWEST_MODELLED))).every(Boolean)).toBe(true);
  });

  it('names the timeline points in order: the ends and every release a rule starts in', () => {
    const points = timelinePoints();
    expect(points[0]).toBe(OLDEST_MODELLED);
    expect(points.at(-1)).toBe(NEWEST_MODELLED);
    for (const r of RULES) expect(points).toContain(r.since);
    for (let i = 1; i < points.length; i++)
      expect(compareReleases(parseRelease(points[i - 1]), parseRelease(points[i]))).toBeLessThan(0);
  });

  it('renames each name once a rule, never to itself, and says so in the rule’s change', () => {
    let renames = 0;
    for (const r of RULES as readonly KernelRule[]) {
      if (!r.renames) continue;
      const from = r.renames.map(([a]) => a);
      expect(new Set(from).size, r.id).toBe(from.length);
      for (const [a, b] of r.renames) {
        expect(a, r.id).not.toBe(b);
        // PAGEREF_* → FOLIOREF_*: a family of enum values is named once, by its prefix.
        const named = (n: string) => (/^[A-Z]/.test(n) ? n.split('_')[0] : n);
        expect(`${r.change} ${r.title}`, `${r.id}: ${a}`).toContain(named(a));
        expect(r.change, `${r.id}: ${b}`).toContain(named(b));
        renames++;
      }
    }
    expect(renames).toBeGreaterThan(15);
  });

  it('spells names as the release does: 4.9 as written, each rename from its release on, chains to the last', () => {
    const at = (r: string) => namesFor(rulesFor(parseRelease(r)));
    expect(at('4.9').get('page_check_address')).toBeUndefined();
    expect(at('4.9').get('try_to_munlock_one')).toBe('try_to_unmap_one');
    expect(at('4.11').get('page_check_address')).toBe('page_vma_mapped_walk');
    expect(at('5.7').get('mmap_sem')).toBeUndefined();
    expect(at('5.8').get('mmap_sem')).toBe('mmap_lock');
    expect(at('5.14').get('try_to_munlock_one')).toBe('page_mlock_one');
    // munlock_vma_page → munlock_page (5.18) → munlock_folio (6.3)
    expect(at('5.17').get('munlock_vma_page')).toBeUndefined();
    expect(at('5.18').get('munlock_vma_page')).toBe('munlock_page');
    expect(at('6.3').get('munlock_vma_page')).toBe('munlock_folio');
    expect(at('6.0').get('PAGEREF_KEEP')).toBeUndefined();
    expect(at('6.1').get('PAGEREF_KEEP')).toBe('FOLIOREF_KEEP');
    // Every rename of every rule is in force at the newest release, under its last name.
    const newest = at(NEWEST_MODELLED);
    for (const r of RULES as readonly KernelRule[])
      for (const [from] of r.renames ?? []) expect(newest.has(from), from).toBe(true);
  });

  it('an MmSystem emits events and names its locks in its release’s names', () => {
    for (const [kernel, fn, lock] of [
      ['4.9', 'page_referenced_one', 'mm1->mmap_sem'],
      ['6.12', 'folio_referenced_one', 'mm1->mmap_lock'],
    ] as const) {
      const sys = new MmSystem({ kernel });
      const seen: string[] = [];
      sys.setTrace((e) => seen.push(`${e.fn}: ${e.msg}`));
      sys.trace('page_referenced_one', 'called');
      sys.emit({ kind: 'walk', fn: 'page_check_address', task: 'x', msg: 'probe' });
      const mm = sys.newMm('A');
      mm.mmapSem.downRead(sys.current);
      mm.mmapSem.upRead(sys.current);
      expect(seen.slice(0, 3)).toEqual([
        `${fn}: called`,
        `${kernel === '4.9' ? 'page_check_address' : 'page_vma_mapped_walk'}: probe`,
        `down_read: took ${lock} (read)`,
      ]);
      expect(sys.name('shrink_page_list')).toBe(kernel === '4.9' ? 'shrink_page_list' : 'shrink_folio_list');
    }
  });

  it('untraced() keeps its work out of the trace and restores the sink, even when it throws', () => {
    const sys = new MmSystem({ kernel: '6.12' });
    const seen: string[] = [];
    sys.setTrace((e) => seen.push(e.fn));
    expect(() =>
      sys.untraced(() => {
        sys.trace('hidden', '');
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(sys.tracing).toBe(true);
    sys.trace('shown', '');
    expect(seen).toEqual(['shown']);
  });

  it('an MmSystem asks its release: rules, max_page_sharing default and lock order follow it', () => {
    const old = new MmSystem({ kernel: '4.12' });
    const mid = new MmSystem({ kernel: '5.10.7' });
    expect(old.options.kernel).toBe('4.12');
    expect(mid.options.kernel).toBe('5.10.7');
    expect(old.rules['ksm-max-page-sharing']).toBe(false);
    expect(mid.rules['ksm-max-page-sharing']).toBe(true);
    expect(old.options.ksmMaxSharing).toBe(Number.POSITIVE_INFINITY);
    expect(mid.options.ksmMaxSharing).toBe(256);
    expect(new MmSystem({ kernel: '4.12', ksmMaxSharing: 9 }).options.ksmMaxSharing).toBe(
      Number.POSITIVE_INFINITY,
    );
    expect(lockOrderFor(parseRelease('6.11')).name).toBe('linux-4.9');
    expect(lockOrderFor(parseRelease('6.18')).name).toBe('linux-6.12');
    expect(() => new MmSystem({ kernel: '3.7' })).toThrow(/older than the model reaches/);
  });
});
