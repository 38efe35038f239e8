/**
 * The comparison of two observations of the same step (the contract's JSON, scenario-language.md
 * "Observations"): one from the model, one from the running kernel. PFNs differ between the two
 * worlds, so a physical page is identified by the set of `PROCESS:REGION:PAGE` mappings that map
 * it; extra fields (pfn, anonVma, index, swapped, kpf) are ignored, as the contract says. Contract
 * v2's `vmas` (per process, the VMAs in its regions) and `ksm` (KSM's counters) are compared too,
 * and so is v2's `folio`: not its value, but which pages share a folio (the partition).
 */
import { compressMappings } from '@rmaplab/scenario';

/** The part of an observed page both sides can report. */
export interface ComparedPage {
  mapcount: number;
  flags: readonly string[];
  mappings: readonly string[];
  /** Contract v2: shared by the pages of one large folio; absent on an order-0 page. */
  folio?: number;
}

/** Contract v2: a VMA in a region, as both sides report it. */
export interface ComparedVma {
  region: string;
  first: number;
  last: number;
  prot: string;
  flags: readonly string[];
}

/** Contract v2: the counters of an observation's `ksm`, in its order (/sys/kernel/mm/ksm's names). */
export const KSM_COUNTERS = [
  'pages_shared',
  'pages_sharing',
  'pages_unshared',
  'stable_node_chains',
  'stable_node_dups',
] as const;
export type KsmCounterName = (typeof KSM_COUNTERS)[number];

/** The part of an observation both sides can report. */
export interface ComparedObservation {
  step: number;
  pages: readonly ComparedPage[];
  absent: readonly string[];
  /** Contract v2: every live process's VMAs in its regions, in address order. */
  vmas?: Readonly<Record<string, readonly ComparedVma[]>>;
  /** Contract v2: KSM's counters, once the scenario has run `ksm`. */
  ksm?: Readonly<Record<KsmCounterName, number>>;
}

/**
 * One difference about pages, about the mappings in `where` (they all show the same difference):
 * - `mapcount` / `flags`: both sides map `where` with the same page (same set of mappings), but
 *   its mapcount (and maybe its flags too) or only its flags differ;
 * - `folio`: the same page, mapcount and flags on both sides, but it shares a large folio with
 *   other pages on one side than on the other (the mappings of the folio's pages differ);
 * - `sharing`: the mappings are grouped into pages differently, or a mapping is absent on one side
 *   and mapped on the other;
 * - `unknown`: a mapping is named on one side only (neither mapped nor absent on the other).
 */
export interface PageDifference {
  kind: 'mapcount' | 'flags' | 'folio' | 'sharing' | 'unknown';
  where: string[];
  kernel: PageView | 'absent' | 'unknown';
  model: PageView | 'absent' | 'unknown';
}

/**
 * Contract v2, one VMA: both sides have a VMA over pages `first`..`last` of `region` in `process`,
 * but with another protection or other flags.
 */
export interface VmaDifference {
  kind: 'vma';
  process: string;
  kernel: ComparedVma;
  model: ComparedVma;
}

/**
 * Contract v2, the VMAs of one region of one process: the two sides split (or merged) it into
 * different VMAs, or list the process on one side only (`unknown`).
 */
export interface VmaLayoutDifference {
  kind: 'vma-layout';
  process: string;
  region: string;
  kernel: ComparedVma[] | 'unknown';
  model: ComparedVma[] | 'unknown';
}

/** Contract v2: KSM's counters that differ, or `ksm` reported by one side only (`absent`). */
export interface KsmDifference {
  kind: 'ksm';
  counters: { name: KsmCounterName; kernel: number | 'absent'; model: number | 'absent' }[];
}

/** One difference between the two sides' observations of a step. */
export type Difference = PageDifference | VmaDifference | VmaLayoutDifference | KsmDifference;

/** A page as seen from one of its mappings. */
export interface PageView {
  mapcount: number;
  flags: string[];
  /** Every mapping of the page, sorted. */
  mappings: string[];
  /** Every mapping of every page of its large folio, sorted; empty for an order-0 page. */
  folio: string[];
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
  const folios = new Map<number, string[]>();
  for (const p of obs.pages)
    if (p.folio !== undefined) {
      const pages = folios.get(p.folio);
      if (pages) pages.push(...p.mappings);
      else folios.set(p.folio, [...p.mappings]);
    }
  const at = new Map<string, PageView | 'absent'>();
  for (const p of obs.pages) {
    const view: PageView = {
      mapcount: p.mapcount,
      flags: sortedFlags(p.flags),
      mappings: sortedNames(p.mappings),
      folio: p.folio === undefined ? [] : sortedNames(folios.get(p.folio) ?? []),
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
    return `alone ${v.mapcount} ${v.flags.join(',')} ${v.folio.join(' ')}`;
  return viewKey(v);
}

/**
 * Every difference between the kernel's and the model's observation of one step: the pages' first,
 * sorted by the first mapping concerned, then the VMAs' (by process and region), then KSM's
 * counters. Mappings that see the same pair (kernel page, model page) are reported together, so
 * one page grouped differently gives one difference per distinct grouping, not one per mapping.
 */
export function compareObservations(kernel: ComparedObservation, model: ComparedObservation): Difference[] {
  const pages = comparePages(kernel, model);
  // A contract v1 observation (no `vmas`) has neither VMAs nor KSM's counters to compare with.
  if (!kernel.vmas || !model.vmas) return pages;
  return [...pages, ...compareVmas(kernel.vmas, model.vmas), ...compareKsm(kernel, model)];
}

function comparePages(kernel: ComparedObservation, model: ComparedObservation): PageDifference[] {
  const k = index(kernel);
  const m = index(model);
  const byPair = new Map<string, PageDifference>();
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
): PageDifference['kind'] | null {
  if (kv === 'unknown' || mv === 'unknown') return kv === mv ? null : 'unknown';
  if (kv === 'absent' || mv === 'absent') return kv === mv ? null : 'sharing';
  if (viewKey(kv) !== viewKey(mv)) return 'sharing';
  if (kv.mapcount !== mv.mapcount) return 'mapcount';
  if (kv.flags.join(',') !== mv.flags.join(',')) return 'flags';
  if (kv.folio.join(' ') !== mv.folio.join(' ')) return 'folio';
  return null;
}

/** One side's VMAs by process, then by region, each region's in page order. */
function vmasByRegion(
  vmas: NonNullable<ComparedObservation['vmas']>,
): Map<string, Map<string, ComparedVma[]>> {
  const out = new Map<string, Map<string, ComparedVma[]>>();
  for (const [proc, list] of Object.entries(vmas)) {
    const regions = new Map<string, ComparedVma[]>();
    for (const v of list) {
      const normal = { ...v, flags: sortedFlags(v.flags) };
      regions.set(v.region, [...(regions.get(v.region) ?? []), normal]);
    }
    for (const r of regions.values()) r.sort((a, b) => a.first - b.first);
    out.set(proc, regions);
  }
  return out;
}

const ranges = (list: ComparedVma[]): string => list.map((v) => `${v.first}..${v.last}`).join(' ');

/**
 * The VMA differences, region by region of each process (sorted by name): a region that the two
 * sides split into the same page ranges is compared VMA by VMA (protection and flags, as sets);
 * one split differently is one layout difference.
 */
function compareVmas(
  kernel: NonNullable<ComparedObservation['vmas']>,
  model: NonNullable<ComparedObservation['vmas']>,
): Difference[] {
  const k = vmasByRegion(kernel);
  const m = vmasByRegion(model);
  const out: Difference[] = [];
  const procs = [...new Set([...k.keys(), ...m.keys()])].sort();
  for (const process of procs) {
    const kr = k.get(process);
    const mr = m.get(process);
    const regions = [...new Set([...(kr?.keys() ?? []), ...(mr?.keys() ?? [])])].sort();
    if (!kr || !mr) {
      // A process one side lists and the other does not: every region of it, as the one side has it.
      for (const region of regions)
        out.push({
          kind: 'vma-layout',
          process,
          region,
          kernel: kr ? (kr.get(region) ?? []) : 'unknown',
          model: mr ? (mr.get(region) ?? []) : 'unknown',
        });
      continue;
    }
    for (const region of regions) {
      const kv = kr.get(region) ?? [];
      const mv = mr.get(region) ?? [];
      if (ranges(kv) !== ranges(mv)) {
        out.push({ kind: 'vma-layout', process, region, kernel: kv, model: mv });
        continue;
      }
      for (let i = 0; i < kv.length; i++)
        if (kv[i].prot !== mv[i].prot || kv[i].flags.join(',') !== mv[i].flags.join(','))
          out.push({ kind: 'vma', process, kernel: kv[i], model: mv[i] });
    }
  }
  return out;
}

/** The counters that differ, in the contract's order (`absent` on a side without `ksm`). */
function compareKsm(kernel: ComparedObservation, model: ComparedObservation): Difference[] {
  if (!kernel.ksm && !model.ksm) return [];
  const counters: KsmDifference['counters'] = [];
  for (const name of KSM_COUNTERS) {
    const kv = kernel.ksm?.[name] ?? 'absent';
    const mv = model.ksm?.[name] ?? 'absent';
    if (kv !== mv) counters.push({ name, kernel: kv, model: mv });
  }
  return counters.length ? [{ kind: 'ksm', counters }] : [];
}

function flagText(flags: readonly string[]): string {
  return flags.length ? flags.join(',') : 'no flags';
}

/** A page's large folio by its pages' mappings: "the folio of A:heap:0..15", or "no large folio". */
function folioText(v: PageView): string {
  return v.folio.length ? `the folio of ${placeText(v.folio)}` : 'no large folio';
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

/** One VMA as a line shows it: `0..3 rw account,nohugepage`. */
function vmaText(v: ComparedVma): string {
  return `${v.first}..${v.last} ${v.prot} ${flagText(v.flags)}`;
}

/** How one side has the VMAs of a region: `0..1 r nohugepage | 2..3 rw account,nohugepage`. */
function vmaListText(list: ComparedVma[] | 'unknown'): string {
  if (list === 'unknown') return 'does not know the process';
  return list.length ? `has ${list.map(vmaText).join(' | ')}` : 'has no VMA there';
}

/** The flags one side has and the other has not: `account kernel only, locked model only`. */
function flagDelta(kernel: readonly string[], model: readonly string[]): string {
  const out: string[] = [];
  for (const f of kernel) if (!model.includes(f)) out.push(`${f} kernel only`);
  for (const f of model) if (!kernel.includes(f)) out.push(`${f} model only`);
  return out.join(', ');
}

function formatVmaDifference(d: VmaDifference | VmaLayoutDifference | KsmDifference): string {
  if (d.kind === 'ksm')
    return `ksm: ${d.counters.map((c) => `${c.name} kernel ${c.kernel}, model ${c.model}`).join('; ')}`;
  if (d.kind === 'vma-layout')
    return `${d.process}:${d.region} VMAs differ: kernel ${vmaListText(d.kernel)}, model ${vmaListText(d.model)}`;
  const parts: string[] = [];
  if (d.kernel.prot !== d.model.prot)
    parts.push(`prot differs: kernel ${d.kernel.prot}, model ${d.model.prot}`);
  if (d.kernel.flags.join(',') !== d.model.flags.join(','))
    parts.push(`VMA flags differ: ${flagDelta(d.kernel.flags, d.model.flags)}`);
  return `${d.process}:${d.kernel.region}:${d.kernel.first}..${d.kernel.last} (VMA): ${parts.join('; ')}`;
}

/**
 * One line per difference, e.g.
 * `A:heap:3: kernel maps it with B:heap:3 (mapcount 2, anon,swapbacked), model maps it alone (mapcount 1, anon,swapbacked)`,
 * `A:heap:1: flags differ: kernel anon,swapbacked,mlocked, model anon,swapbacked`,
 * `A:heap:0..15: folio differs: kernel the folio of A:heap:0..15, model no large folio`,
 * `A:heap:0..3 (VMA): VMA flags differ: account kernel only`,
 * `A:heap VMAs differ: kernel has 0..3 rw account, model has 0..1 r no flags | 2..3 rw account`
 * or `ksm: pages_sharing kernel 293, model 298`.
 */
export function formatDifference(d: Difference): string {
  if (d.kind === 'vma' || d.kind === 'vma-layout' || d.kind === 'ksm') return formatVmaDifference(d);
  const place = placeText(d.where);
  if (
    (d.kind === 'mapcount' || d.kind === 'flags' || d.kind === 'folio') &&
    typeof d.kernel === 'object' &&
    typeof d.model === 'object'
  ) {
    const parts: string[] = [];
    if (d.kernel.mapcount !== d.model.mapcount)
      parts.push(`mapcount differs: kernel ${d.kernel.mapcount}, model ${d.model.mapcount}`);
    if (d.kernel.flags.join(',') !== d.model.flags.join(','))
      parts.push(`flags differ: kernel ${flagText(d.kernel.flags)}, model ${flagText(d.model.flags)}`);
    if (d.kernel.folio.join(' ') !== d.model.folio.join(' '))
      parts.push(`folio differs: kernel ${folioText(d.kernel)}, model ${folioText(d.model)}`);
    return `${place}: ${parts.join('; ')}`;
  }
  return `${place}: kernel ${sideText(d.kernel, d.where)}, model ${sideText(d.model, d.where)}`;
}
