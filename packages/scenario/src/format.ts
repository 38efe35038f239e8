/** Human-readable output of a run: the observation table and statement reports the CLI prints. */
import type { Observation } from './observation.js';

/** A plain text table: columns padded to their widest cell. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/**
 * An observation as a table, one row per physical page (sorted by first mapping, so output is
 * stable), then the absent pages compressed into ranges per process and region.
 */
export function formatObservation(obs: Observation): string {
  const pages = [...obs.pages].sort((a, b) => sortKey(a.mappings[0]).localeCompare(sortKey(b.mappings[0])));
  const rows = pages.map((p) => [
    p.pfn === 0 ? 'zero' : String(p.pfn),
    String(p.mapcount),
    p.flags.join(',') || '-',
    p.anonVma ?? '-',
    compressMappings(p.mappings).join(' '),
  ]);
  const out = [
    `observe (step ${obs.step}): ${obs.pages.length} page${obs.pages.length === 1 ? '' : 's'} mapped`,
  ];
  if (rows.length) out.push(table(['pfn', 'mapcount', 'flags', 'anon_vma', 'mapped at'], rows));
  if (obs.absent.length) out.push(`absent: ${compressMappings(obs.absent).join(' ')}`);
  return out.join('\n');
}

function sortKey(m: string | undefined): string {
  if (!m) return '';
  const [p, r, n] = m.split(':');
  return `${p}:${r}:${n.padStart(10, '0')}`;
}

/** `A:heap:0 A:heap:1 A:heap:2` → `A:heap:0..2`. */
export function compressMappings(list: string[]): string[] {
  const groups = new Map<string, number[]>();
  for (const m of list) {
    const i = m.lastIndexOf(':');
    const key = m.slice(0, i);
    const g = groups.get(key) ?? [];
    g.push(Number(m.slice(i + 1)));
    groups.set(key, g);
  }
  const out: string[] = [];
  for (const [key, nums] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    nums.sort((a, b) => a - b);
    for (let i = 0; i < nums.length; ) {
      let j = i;
      while (j + 1 < nums.length && nums[j + 1] === nums[j] + 1) j++;
      out.push(i === j ? `${key}:${nums[i]}` : `${key}:${nums[i]}..${nums[j]}`);
      i = j + 1;
    }
  }
  return out;
}
