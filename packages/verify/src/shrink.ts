/**
 * Minimising a failing scenario: delta debugging (Zeller's ddmin) over its statements, so a
 * difference found in a random scenario is reported as the shortest statement list that still
 * shows a difference.
 */

/**
 * The smallest sub-list of `lines` (order kept) for which `fails` still holds, by removing
 * chunks of halving size and then single lines until no removal keeps it failing. `fails(lines)`
 * must hold on entry. Comment lines are dropped first.
 */
export async function shrinkScenario(
  lines: readonly string[],
  fails: (lines: string[]) => Promise<boolean>,
): Promise<string[]> {
  let current = lines.filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));
  if (!(await fails(current))) current = [...lines];
  let chunk = Math.max(1, Math.floor(current.length / 2));
  for (;;) {
    let removed = false;
    for (let at = 0; at < current.length; ) {
      const candidate = [...current.slice(0, at), ...current.slice(at + chunk)];
      if (candidate.length > 0 && (await fails(candidate))) {
        current = candidate;
        removed = true;
      } else at += chunk;
    }
    if (chunk === 1 && !removed) return current;
    if (!removed) chunk = Math.max(1, Math.floor(chunk / 2));
  }
}
