/**
 * The names and rules of a release as the lab needs them outside a run: what a 4.9 name is called
 * in the release (@rmaplab/mm rules.ts renames), and whether a rule is in force there. Trace events
 * and reports already carry the release's names; the lab's own labels (a statement's caller, a
 * pass's client) are written in 4.9's and spelled here.
 */
import { namesFor, parseRelease, type RuleId, type RuleSet, rulesFor } from '@rmaplab/mm';

const byRelease = new Map<string, { rules: RuleSet; names: ReadonlyMap<string, string> } | null>();

function release(text: string) {
  let r = byRelease.get(text);
  if (r === undefined) {
    try {
      const rules = rulesFor(parseRelease(text));
      r = { rules, names: namesFor(rules) };
    } catch {
      r = null;
    }
    byRelease.set(text, r);
  }
  return r;
}

/** `name` (4.9's) as `text`'s release spells it; unchanged for a release the model cannot represent. */
export function nameIn(text: string, name: string): string {
  return release(text)?.names.get(name) ?? name;
}

/** Whether rule `id` is in force in `text`'s release. */
export function ruleInForce(text: string, id: RuleId): boolean {
  return release(text)?.rules[id] ?? false;
}
