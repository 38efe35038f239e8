/**
 * The comparison of two observations of the same step (the contract's JSON, scenario-language.md
 * "Observations"): one from the model, one from the running kernel. PFNs differ between the two
 * worlds, so a physical page is identified by the set of `PROCESS:REGION:PAGE` mappings that map
 * it; extra fields (pfn, anonVma, index, swapped, kpf) are ignored, as the contract says.
 */
import { compressMappings } from '@rmaplab/scenario';

/** The part of an observed page both sides can report. */
export interface ComparedPage {
  mapcount: number;
  flags: readonly string[];
  mappings: readonly string[];
}

/** The part of an observation both sides can report. */
export interface ComparedObservation {
  step: number;
  pages: readonly ComparedPage[];
  absent: readonly string[];
}

/**
 * One difference, about the mappings in `where` (they all show the same difference):
 * - `mapcount` / `flags`: both sides map `where` with the same page (same set of mappings), but
 *   its mapcount (and maybe its flags too) or only its flags differ;
 * - `sharing`: the mappings are grouped into pages differently, or a mapping is absent on one side
 *   and mapped on the other;
 * - `unknown`: a mapping is named on one side only (neither mapped nor absent on the other).
 */
export interface Difference {
  kind: 'mapcount' | 'flags' | 'sharing' | 'unknown';
  where: string[];
  kernel: PageView | 'absent' | 'unknown';
  model: PageView | 'absent' | 'unknown';
}

/** A page as seen from one of its mappings. */
export interface PageView {
  mapcount: number;
  flags: string[];
  /** Every mapping of the page, sorted. */
  mappings: string[];
}

/** `A:heap:10` after `A:heap:9`: process and region by name, page numerically. */
export function compareMappingNames(a: string, b: string): number {
  const i = a.lastIndexOf(':');
  const j = b.lastIndexOf(':');
  const pa = a.slice(0, i);
  const pb = b.slice(0, j);
  if (pa !== pb) return pa < pb ? -1 : 1;
  return Number(a.slice(i + 1)) - Number(b.slice(j + 1));
}

function sortedNames(list: Iterable<string>): string[] {
  return [...list].sort(compareMappingNames);
}

function sortedFlags(flags: readonly string[]): string[] {
  return [...flags].sort();
}

/** Where each mapping stands on one side: the page it maps, or absent. */
function index(obs: ComparedObservation): Map<string, PageView | 'absent'> {
  const at = new Map<string, PageView | 'absent'>();
  for (const p of obs.pages) {
    const view: PageView = {
      mapcount: p.mapcount,
      flags: sortedFlags(p.flags),
      mappings: sortedNames(p.mappings),
    };
    for (const m of p.mappings) at.set(m, view);
  }
  for (const m of obs.absent) at.set(m, 'absent');
  return at;
}

function viewKey(v: PageView | 'absent' | 'unknown'): string {
  return typeof v === 'string' ? v : v.mappings.join(' ');
}

/**
 * How a side's view groups with others': a page mapped by `name` alone is keyed by what it is, not
 * by its one mapping, so a page the kernel shares among 256 mappings and the model maps 256 times
 * alone gives one difference, not 256.
 */
function groupKey(v: PageView | 'absent' | 'unknown', name: string): string {
  if (typeof v === 'object' && v.mappings.length === 1 && v.mappings[0] === name)
    return `alone ${v.mapcount} ${v.flags.join(',')}`;
  return viewKey(v);
}

/**
 * Every difference between the kernel's and the model's observation of one step, sorted by the
 * first mapping concerned. Mappings that see the same pair (kernel page, model page) are reported
 * together, so one page grouped differently gives one difference per distinct grouping, not one
 * per mapping.
 */
export function compareObservations(kernel: ComparedObservation, model: ComparedObservation): Difference[] {
  const k = index(kernel);
  const m = index(model);
  const byPair = new Map<string, Difference>();
  for (const name of sortedNames(new Set([...k.keys(), ...m.keys()]))) {
    const kv = k.get(name) ?? 'unknown';
    const mv = m.get(name) ?? 'unknown';
    const kind = differenceKind(kv, mv);
    if (kind === null) continue;
    const pair = `${kind}|${groupKey(kv, name)}|${groupKey(mv, name)}`;
    const d = byPair.get(pair);
    if (d) d.where.push(name);
    else byPair.set(pair, { kind, where: [name], kernel: kv, model: mv });
  }
  return [...byPair.values()];
}

function differenceKind(
  kv: PageView | 'absent' | 'unknown',
  mv: PageView | 'absent' | 'unknown',
): Difference['kind'] | null {
  if (kv === 'unknown' || mv === 'unknown') return kv === mv ? null : 'unknown';
  if (kv === 'absent' || mv === 'absent') return kv === mv ? null : 'sharing';
  if (viewKey(kv) !== viewKey(mv)) return 'sharing';
  if (kv.mapcount !== mv.mapcount) return 'mapcount';
  if (kv.flags.join(',') !== mv.flags.join(',')) return 'flags';
  return null;
}

function flagText(flags: string[]): string {
  return flags.length ? flags.join(',') : 'no flags';
}

/** "A:heap:0..3" — the mappings of a difference, compressed into ranges. */
function placeText(names: string[]): string {
  return compressMappings(names).join(' ');
}

/** How one side sees the mappings of a difference: "maps it with B:heap:3 (mapcount 2, anon,swapbacked)". */
function sideText(v: PageView | 'absent' | 'unknown', where: string[]): string {
  if (v === 'absent') return `has ${where.length === 1 ? 'it' : 'them'} absent`;
  if (v === 'unknown') return 'does not know it (no such process or region there)';
  const what = `(mapcount ${v.mapcount}, ${flagText(v.flags)})`;
  if (where.length === 1) {
    const others = v.mappings.filter((x) => x !== where[0]);
    return others.length === 0 ? `maps it alone ${what}` : `maps it with ${placeText(others)} ${what}`;
  }
  if (v.mappings.length === 1) return `maps each alone ${what}`;
  const mine = new Set(where);
  const others = v.mappings.filter((x) => !mine.has(x));
  if (others.length === 0 && v.mappings.length === where.length) return `maps them together ${what}`;
  return `maps them with ${placeText(others)} ${what}`;
}

/**
 * One line per difference, e.g.
 * `A:heap:3: kernel maps it with B:heap:3 (mapcount 2, anon,swapbacked), model maps it alone (mapcount 1, anon,swapbacked)`
 * or `A:heap:1: flags differ: kernel anon,swapbacked,mlocked, model anon,swapbacked`.
 */
export function formatDifference(d: Difference): string {
  const place = placeText(d.where);
  if (
    (d.kind === 'mapcount' || d.kind === 'flags') &&
    typeof d.kernel === 'object' &&
    typeof d.model === 'object'
  ) {
    const parts: string[] = [];
    if (d.kernel.mapcount !== d.model.mapcount)
      parts.push(`mapcount differs: kernel ${d.kernel.mapcount}, model ${d.model.mapcount}`);
    if (d.kernel.flags.join(',') !== d.model.flags.join(','))
      parts.push(`flags differ: kernel ${flagText(d.kernel.flags)}, model ${flagText(d.model.flags)}`);
    return `${place}: ${parts.join('; ')}`;
  }
  return `${place}: kernel ${sideText(d.kernel, d.where)}, model ${sideText(d.model, d.where)}`;
}
