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
 * The 4.9 flags that 6.12's try_to_unmap does not take: munlock by rmap walk and MADV_FREE's
 * TTU_LZFREE were replaced, try_to_unmap_one lost its young check (TTU_IGNORE_ACCESS; 0x10 is
 * TTU_SYNC there), and migration entries are made by try_to_migrate() instead (TTU_MIGRATION).
 */
export const TTU_NOT_IN_6_12 = TTU_MIGRATION | TTU_MUNLOCK | TTU_LZFREE | TTU_IGNORE_ACCESS;

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
