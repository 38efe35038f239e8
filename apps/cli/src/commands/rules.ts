/**
 * `rmaplab rules [--kernel V]`: the timeline of rules (@rmaplab/mm rules.ts) — every behaviour of
 * the model that changed between releases, with the release and commit that brought it. With
 * `--kernel`, which of them are in force in that release.
 */
import {
  type KernelRule,
  NEWEST_MODELLED,
  OLDEST_MODELLED,
  parseRelease,
  RULES,
  rulesFor,
} from '@rmaplab/mm';
import { colorsFor, type Io } from '../io.js';

export interface RulesFlags {
  /** A release already checked by the caller; absent: the whole timeline. */
  kernel?: string;
  json: boolean;
}

/** The words of `text` in lines of at most `width` characters, each after `indent`. */
function wrap(text: string, width: number, indent: string): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(indent + line);
  return lines.join('\n');
}

export function rulesCommand(io: Io, flags: RulesFlags): number {
  const inForce = flags.kernel ? rulesFor(parseRelease(flags.kernel)) : null;
  if (flags.json) {
    for (const r of RULES) io.stdout(`${JSON.stringify(inForce ? { ...r, inForce: inForce[r.id] } : r)}\n`);
    return 0;
  }
  const c = colorsFor(io, 'stdout');
  const count = inForce ? RULES.filter((r) => inForce[r.id]).length : RULES.length;
  const head = inForce
    ? `Linux ${flags.kernel}: ${count} of ${RULES.length} rules in force`
    : `${RULES.length} rules between Linux ${OLDEST_MODELLED} and ${NEWEST_MODELLED}, oldest first`;
  const out = [c.bold(head), ''];
  for (const r of RULES as readonly KernelRule[]) {
    const mark = inForce ? (inForce[r.id as keyof typeof inForce] ? 'in force  ' : 'not yet   ') : '';
    const evidence = r.evidence === 'recalled' ? c.dim(' (release recalled, not yet checked)') : '';
    out.push(
      `${mark}${c.bold(r.since.padEnd(5))} ${c.cyan(r.id)}  ${r.commit ?? 'commit unknown'}${evidence}`,
    );
    out.push(wrap(r.title, 88, `${' '.repeat(mark.length)}      `));
    out.push(c.dim(wrap(r.change, 88, `${' '.repeat(mark.length)}      `)));
  }
  io.stdout(`${out.join('\n')}\n`);
  return 0;
}
