import {
  type MmSystem,
  OLDEST_MODELLED,
  previousRelease,
  type RuleId,
  type RuleSet,
  ruleById,
} from '@rmaplab/mm';

/**
 * The results and flags of the rmap API, and how each release spells them — include/linux/rmap.h.
 *
 * The model computes with one vocabulary, 4.9's: rmap_one, rmap_walk and try_to_unmap return the
 * SWAP_* codes below, and flags are the model's own bits (4.9's values). What people and tools read
 * is what the selected release returns: the SWAP_* codes up to 4.11; from 4.12 rmap_one and
 * try_to_unmap return bool and rmap_walk nothing (rules swap-codes-removed, rmap-walk-void); from
 * 5.14 try_to_unmap returns nothing either and its callers test page_mapped() (ttu-void). The TTU
 * flags come and go, and 4.12 renumbered them: TTU_FLAG_TABLE has each with its values.
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

/** The name of a SWAP_* code (4.9 to 4.11's spelling of a result). */
export function swapName(code: number): string {
  return SWAP_NAMES[code] ?? `SWAP_?${code}`;
}

/** How a release writes the result of a function that returns nothing. */
export const VOID = 'void';

/**
 * rmap_one's result as the release returns it: a SWAP_* code up to 4.11; from 4.12 a bool, true to
 * go on walking (SWAP_AGAIN) and false to stop (any other code: the walk ends there).
 */
export function rmapOneWord(rules: RuleSet, code: number): string {
  if (!rules['swap-codes-removed']) return swapName(code);
  return code === SWAP_AGAIN ? 'true' : 'false';
}

/** rmap_walk()'s result: the last rmap_one code up to 4.11, nothing from 4.12. */
export function walkResultWord(rules: RuleSet, code: number): string {
  return rules['rmap-walk-void'] ? VOID : swapName(code);
}

/** Whether a try_to_unmap code says nothing maps the page any more. */
export function unmapped(code: number): boolean {
  return code === SWAP_SUCCESS || code === SWAP_LZFREE;
}

/**
 * try_to_unmap()'s result: a SWAP_* code up to 4.11; 4.12–5.13 a bool, true when nothing maps the
 * page any more; from 5.14 nothing, so the word is the caller's own test (page_mapped(), from 5.19
 * folio_mapped()) of the page after it.
 */
export function unmapResultWord(sys: MmSystem, code: number): string {
  if (!sys.rules['swap-codes-removed']) return swapName(code);
  if (!sys.rules['ttu-void']) return String(unmapped(code));
  return `${VOID}; ${sys.name('page_mapped')}() = ${!unmapped(code)}`;
}

/** The model's bit of each TTU_* flag: 4.9's value for a flag 4.9 has, a bit of its own otherwise. */
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
export const TTU_SPLIT_FREEZE = 1 << 13;
export const TTU_SYNC = 1 << 14;
export const TTU_HWPOISON = 1 << 15;

/** One TTU_* flag of enum ttu_flags and its history. */
export interface TtuFlag {
  readonly name: string;
  /** The model's bit for it (the constants above): model code tests these, whatever the release. */
  readonly bit: number;
  /**
   * Its value in the kernel from the release of each rule on, oldest first: a rule of `null` is
   * 4.9, a value of `null` means the release has no such flag.
   */
  readonly values: readonly (readonly [RuleId | null, number | null])[];
  /** What a release without it does instead (for the error that names a flag the release lacks). */
  readonly instead?: string;
}

/**
 * enum ttu_flags through the timeline — include/linux/rmap.h as read in the trees of 4.9, 4.10,
 * 4.11, 4.12, 4.14, 5.12, 5.14, 6.2, 6.3, 6.12 and 6.18: 4.12 dropped TTU_UNMAP and TTU_LZFREE and
 * renumbered the rest from 0x1; 5.11 dropped TTU_IGNORE_ACCESS, whose 0x10 TTU_SYNC took in 5.13;
 * 5.14 moved migration and munlock into functions of their own; 6.3 inverted the hwpoison flag.
 */
export const TTU_FLAG_TABLE = [
  {
    name: 'TTU_UNMAP',
    bit: TTU_UNMAP,
    values: [
      [null, 0x1],
      ['ttu-lzfree-removed', null],
    ],
    instead: 'try_to_unmap always unmaps',
  },
  {
    name: 'TTU_MIGRATION',
    bit: TTU_MIGRATION,
    values: [
      [null, 0x2],
      ['ttu-lzfree-removed', 0x1],
      ['try-to-migrate', null],
    ],
    instead: 'migration entries come from try_to_migrate() (the migrate statement)',
  },
  {
    name: 'TTU_MUNLOCK',
    bit: TTU_MUNLOCK,
    values: [
      [null, 0x4],
      ['ttu-lzfree-removed', 0x2],
      ['page-mlock', null],
    ],
    instead: 'munlock walks with page_mlock(), and from 5.18 counts mlock_count instead',
  },
  {
    name: 'TTU_LZFREE',
    bit: TTU_LZFREE,
    values: [
      [null, 0x8],
      ['ttu-lzfree-removed', null],
    ],
    instead: 'lazily freed pages are recognised by !PageSwapBacked',
  },
  {
    name: 'TTU_SPLIT_HUGE_PMD',
    bit: TTU_SPLIT_HUGE_PMD,
    values: [
      [null, 0x10],
      ['ttu-lzfree-removed', 0x4],
    ],
  },
  {
    name: 'TTU_IGNORE_MLOCK',
    bit: TTU_IGNORE_MLOCK,
    values: [
      [null, 0x100],
      ['ttu-lzfree-removed', 0x8],
    ],
  },
  {
    name: 'TTU_IGNORE_ACCESS',
    bit: TTU_IGNORE_ACCESS,
    values: [
      [null, 0x200],
      ['ttu-lzfree-removed', 0x10],
      ['ttu-ignore-access-removed', null],
    ],
    instead: 'try_to_unmap_one ignores the young bit',
  },
  {
    name: 'TTU_SYNC',
    bit: TTU_SYNC,
    values: [['ttu-sync', 0x10]],
    instead: 'page_vma_mapped_walk may skip an empty-looking PTE without its lock',
  },
  {
    name: 'TTU_IGNORE_HWPOISON',
    bit: TTU_IGNORE_HWPOISON,
    values: [
      [null, 0x400],
      ['ttu-lzfree-removed', 0x20],
      ['ttu-hwpoison', null],
    ],
    instead: 'TTU_HWPOISON asks for the hwpoison entry instead',
  },
  {
    name: 'TTU_HWPOISON',
    bit: TTU_HWPOISON,
    values: [['ttu-hwpoison', 0x20]],
    instead: 'TTU_IGNORE_HWPOISON, with the opposite meaning',
  },
  {
    name: 'TTU_BATCH_FLUSH',
    bit: TTU_BATCH_FLUSH,
    values: [
      [null, 0x800],
      ['ttu-lzfree-removed', 0x40],
    ],
  },
  {
    name: 'TTU_RMAP_LOCKED',
    bit: TTU_RMAP_LOCKED,
    values: [
      [null, 0x1000],
      ['ttu-lzfree-removed', 0x80],
    ],
  },
  {
    name: 'TTU_SPLIT_FREEZE',
    bit: TTU_SPLIT_FREEZE,
    values: [
      ['ttu-split-freeze', 0x100],
      ['try-to-migrate', null],
    ],
    instead: 'the THP split freezes a page with try_to_migrate()',
  },
] as const satisfies readonly TtuFlag[];

/** Every flag name any release has, in the table's order. */
export type TtuFlagName = (typeof TTU_FLAG_TABLE)[number]['name'];
export const TTU_FLAG_NAMES: readonly TtuFlagName[] = TTU_FLAG_TABLE.map((f) => f.name);

const FLAGS: readonly TtuFlag[] = TTU_FLAG_TABLE;

/** The flag's value in the release of `rules`, or null when the release has no such flag. */
export function ttuFlagValue(rules: RuleSet, flag: TtuFlag): number | null {
  let value: number | null = null;
  for (const [rule, v] of flag.values) if (rule === null || rules[rule]) value = v;
  return value;
}

/**
 * The releases that have the flag, one span per value: `4.9–4.11 (0x200), 4.12–5.10 (0x10)`, or
 * `5.13 on (0x10)` for a flag the newest release still has.
 */
export function ttuFlagReleases(flag: TtuFlag): string {
  const spans: string[] = [];
  flag.values.forEach(([rule, value], i) => {
    if (value === null) return;
    const since = rule === null ? OLDEST_MODELLED : ruleById(rule).since;
    const next = flag.values[i + 1]?.[0];
    const span = next ? `${since}–${previousRelease(ruleById(next).since)}` : `${since} on`;
    spans.push(`${span} (0x${value.toString(16)})`);
  });
  return spans.join(', ');
}

/** A flag that the release does not have, or a name that is no flag; `index` is its place in the list. */
export class TtuFlagError extends RangeError {
  constructor(
    message: string,
    readonly index: number,
  ) {
    super(message);
    this.name = 'TtuFlagError';
  }
}

/**
 * The model's flags from their kernel names as the release of `sys` has them (`TTU_MIGRATION`, ...).
 * A name that is no flag, or a flag the release lacks, is a TtuFlagError naming the releases that
 * have it and what this one does instead.
 */
export function ttuFlags(sys: MmSystem, names: readonly string[]): number {
  let flags = 0;
  names.forEach((name, i) => {
    const flag = FLAGS.find((f) => f.name === name);
    if (!flag)
      throw new TtuFlagError(`unknown try_to_unmap flag ${name} (known: ${TTU_FLAG_NAMES.join(', ')})`, i);
    if (ttuFlagValue(sys.rules, flag) === null) throw new TtuFlagError(notInRelease(sys, flag), i);
    flags |= flag.bit;
  });
  return flags;
}

function notInRelease(sys: MmSystem, flag: TtuFlag): string {
  const instead = flag.instead ? `, and without it ${flag.instead}` : '';
  return `${flag.name}: not a try_to_unmap flag in Linux ${sys.options.kernel}; it is in ${ttuFlagReleases(flag)}${instead}`;
}

/** The model's bits that the release of `rules` has no flag for. */
export function ttuFlagsMissing(rules: RuleSet): number {
  let mask = 0;
  for (const f of FLAGS) if (ttuFlagValue(rules, f) === null) mask |= f.bit;
  return mask;
}

/** Throws a TtuFlagError for the first of the model's `flags` that the release of `sys` lacks. */
export function checkTtuFlags(sys: MmSystem, flags: number): void {
  const missing = FLAGS.find((f) => flags & f.bit && ttuFlagValue(sys.rules, f) === null);
  if (missing) throw new TtuFlagError(notInRelease(sys, missing), 0);
}

/** The release's names of the flags set in `flags`, by their value in it. */
export function ttuFlagNames(rules: RuleSet, flags: number): string[] {
  return FLAGS.map((f) => [f, ttuFlagValue(rules, f)] as const)
    .filter(([f, v]) => v !== null && flags & f.bit)
    .sort(([, a], [, b]) => (a as number) - (b as number))
    .map(([f]) => f.name);
}

/** The value of the model's `flags` in the release's enum ttu_flags (flags it lacks count nothing). */
export function ttuFlagsValue(rules: RuleSet, flags: number): number {
  let value = 0;
  for (const f of FLAGS) if (flags & f.bit) value |= ttuFlagValue(rules, f) ?? 0;
  return value;
}

/** Flags as a caller writes them: `TTU_IGNORE_MLOCK|TTU_SYNC = 0x18`, or `0`. */
export function formatTtuFlags(names: readonly string[], value: number): string {
  return names.length ? `${names.join('|')} = 0x${value.toString(16)}` : '0';
}
