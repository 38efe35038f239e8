import type { RuleId, RuleSet } from '@rmaplab/mm';

/**
 * The return codes and flags of the 4.9 rmap API — include/linux/rmap.h (4.9). 6.12 dropped both
 * (try_to_unmap returns void, rmap_one returns bool); the model keeps the 4.9 codes for both
 * kernels and reports what a 6.12 walk did in their terms (see try-to-unmap.ts).
 */

/** SWAP_SUCCESS — every mapping was removed. */
export const SWAP_SUCCESS = 0;
/** SWAP_AGAIN — keep walking; as a result: a mapping is left, try again later. */
export const SWAP_AGAIN = 1;
/** SWAP_FAIL — the page cannot be unmapped now (young PTE, swap_duplicate failed). */
export const SWAP_FAIL = 2;
/** SWAP_MLOCK — a VM_LOCKED VMA maps the page. */
export const SWAP_MLOCK = 3;
/** SWAP_LZFREE — a clean MADV_FREE page was discarded (4.9 and 4.11 only). */
export const SWAP_LZFREE = 4;

/** The SWAP_* codes' names, by value. */
export const SWAP_NAMES: readonly string[] = [
  'SWAP_SUCCESS',
  'SWAP_AGAIN',
  'SWAP_FAIL',
  'SWAP_MLOCK',
  'SWAP_LZFREE',
];

/** The name of a SWAP_* code. */
export function swapName(code: number): string {
  return SWAP_NAMES[code] ?? `SWAP_?${code}`;
}

/** enum ttu_flags — include/linux/rmap.h (4.9), with its values. */
export const TTU_UNMAP = 1;
export const TTU_MIGRATION = 2;
export const TTU_MUNLOCK = 4;
export const TTU_LZFREE = 8;
export const TTU_SPLIT_HUGE_PMD = 16;
export const TTU_IGNORE_MLOCK = 1 << 8;
export const TTU_IGNORE_ACCESS = 1 << 9;
export const TTU_IGNORE_HWPOISON = 1 << 10;
export const TTU_BATCH_FLUSH = 1 << 11;
export const TTU_RMAP_LOCKED = 1 << 12;

/** Every TTU_* flag by its kernel name. */
export const TTU_FLAGS: Readonly<Record<string, number>> = {
  TTU_UNMAP,
  TTU_MIGRATION,
  TTU_MUNLOCK,
  TTU_LZFREE,
  TTU_SPLIT_HUGE_PMD,
  TTU_IGNORE_MLOCK,
  TTU_IGNORE_ACCESS,
  TTU_IGNORE_HWPOISON,
  TTU_BATCH_FLUSH,
  TTU_RMAP_LOCKED,
};

/**
 * The 4.9 flags that later releases removed, each with the rule that removed it: MADV_FREE's
 * TTU_LZFREE, the young check (TTU_IGNORE_ACCESS), migration by try_to_unmap (TTU_MIGRATION) and
 * munlock by rmap walk (TTU_MUNLOCK), and what took their place.
 */
export const TTU_FLAGS_REMOVED: readonly { flag: number; rule: RuleId; instead: string }[] = [
  {
    flag: TTU_LZFREE,
    rule: 'ttu-lzfree-removed',
    instead: 'lazily freed pages are recognised by !PageSwapBacked',
  },
  {
    flag: TTU_IGNORE_ACCESS,
    rule: 'ttu-ignore-access-removed',
    instead: 'try_to_unmap_one ignores the young bit',
  },
  {
    flag: TTU_MIGRATION,
    rule: 'try-to-migrate',
    instead: 'migration entries come from try_to_migrate() (the migrate statement)',
  },
  { flag: TTU_MUNLOCK, rule: 'mlock-count', instead: 'the page counts its locked mappings (mlock_count)' },
];

/** The TTU_FLAGS_REMOVED flags that the release of `rules` no longer takes, as one mask. */
export function ttuFlagsRemoved(rules: RuleSet): number {
  let mask = 0;
  for (const gone of TTU_FLAGS_REMOVED) if (rules[gone.rule]) mask |= gone.flag;
  return mask;
}

/** Flags from their kernel names (`TTU_MIGRATION`, ...); throws on an unknown name. */
export function parseTtuFlags(names: readonly string[]): number {
  let flags = 0;
  for (const name of names) {
    const f = TTU_FLAGS[name];
    if (f === undefined)
      throw new RangeError(`unknown try_to_unmap flag ${name} (known: ${Object.keys(TTU_FLAGS).join(', ')})`);
    flags |= f;
  }
  return flags;
}

/** The names of the flags set in `flags`, in enum order. */
export function ttuFlagNames(flags: number): string[] {
  return Object.entries(TTU_FLAGS)
    .filter(([, v]) => flags & v)
    .map(([k]) => k);
}
