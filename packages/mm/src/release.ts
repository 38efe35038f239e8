/**
 * Kernel releases: the points of the timeline that `set kernel VERSION` names. A release is written
 * `MAJOR.MINOR[.PATCH]` (`4.9`, `6.12.19`; for the 2.x series the third number is the release itself:
 * `2.6.34`). Rules (rules.ts) are keyed by the mainline release that brought them, so a stable
 * `6.12.19` runs 6.12's rules.
 */

/** A release as its numbers, most significant first (`[6, 12]`, `[2, 6, 34]`, `[6, 12, 19]`). */
export type Release = readonly number[];

/**
 * The closed mainline series, as the last minor of each major: 2.4 and 2.5 were single series (2.5.N
 * were development releases) and 2.6 ran to 2.6.39, then 3.0–3.19, 4.0–4.20, 5.0–5.19. Majors from 6
 * on are open: a release newer than the model is "not modelled", never "does not exist".
 */
const LAST_MINOR: Readonly<Record<number, number>> = { 2: 6, 3: 19, 4: 20, 5: 19 };
const LAST_2X: Readonly<Record<number, number>> = { 4: 37, 5: 75, 6: 39 };

/** The oldest and newest release the model can represent. */
export const OLDEST_MODELLED = '4.9';
export const NEWEST_MODELLED = '6.18';

/** Why a release cannot be used, with the nearest ones that can (none for text that is no release). */
export class ReleaseError extends RangeError {
  constructor(
    message: string,
    readonly nearest: readonly string[] = [],
  ) {
    super(
      nearest.length ? `${message}; the nearest the model can represent: ${nearest.join(', ')}` : message,
    );
    this.name = 'ReleaseError';
  }
}

/** Numeric comparison, missing numbers counting as 0 (`6.12` < `6.12.1` < `6.13`). */
export function compareReleases(a: Release, b: Release): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** `[6, 12]` → `'6.12'`. */
export function formatRelease(r: Release): string {
  return r.join('.');
}

const numbers = (text: string): Release => text.split('.').map(Number);
const OLDEST = numbers(OLDEST_MODELLED);
const NEWEST = numbers(NEWEST_MODELLED);

/** For a number inside a closed series that names no release: the releases on either side. */
function missingNeighbours(r: Release): string[] | null {
  const [major, minor, third] = r;
  const last = LAST_MINOR[major];
  if (last === undefined) return null;
  if (minor > last) return [`${major}.${last}`, `${major + 1}.0`];
  if (major === 2) {
    const lastRelease = LAST_2X[minor];
    if (lastRelease === undefined) return [`2.4`, `2.6.0`];
    if (third !== undefined && third > lastRelease) return [`2.${minor}.${lastRelease}`, `2.${minor + 1}.0`];
  }
  return null;
}

/**
 * Parse `MAJOR.MINOR[.PATCH]` (decimal, no leading zeros; 2.x takes one more number, `2.6.34.1`).
 * Throws ReleaseError for a number that names no release and for a release the model cannot
 * represent, naming the nearest ones it can.
 */
export function parseRelease(text: string): Release {
  if (!/^(0|[1-9]\d*)(\.(0|[1-9]\d*)){1,3}$/.test(text))
    throw new ReleaseError(
      `${JSON.stringify(text)} is not a kernel release (MAJOR.MINOR[.PATCH], e.g. 6.12)`,
    );
  // `4.9.0` is 4.9 itself (from 3.0 on the third number is a stable update).
  const r = text.split('.').map(Number);
  if (r[0] >= 3 && r.length === 3 && r[2] === 0) r.pop();
  if (r.length === 4 && r[0] !== 2)
    throw new ReleaseError(`${JSON.stringify(text)} has one number too many (MAJOR.MINOR[.PATCH])`);
  const missing = missingNeighbours(r);
  if (missing) throw new ReleaseError(`there is no Linux ${text}`, clampToModel(missing));
  if (compareReleases(r, OLDEST) < 0)
    throw new ReleaseError(`Linux ${text} is older than the model reaches`, [OLDEST_MODELLED]);
  if (compareReleases(r.slice(0, 2), NEWEST) > 0)
    throw new ReleaseError(`Linux ${text} is newer than the model reaches`, [NEWEST_MODELLED]);
  return r;
}

function clampToModel(releases: string[]): string[] {
  const clamped = releases.map((s) => {
    const v = numbers(s);
    if (compareReleases(v, OLDEST) < 0) return OLDEST_MODELLED;
    if (compareReleases(v, NEWEST) > 0) return NEWEST_MODELLED;
    return s;
  });
  return [...new Set(clamped)];
}

/** True when release `r` is `since` or later. */
export function atLeast(r: Release, since: string): boolean {
  return compareReleases(r, numbers(since)) >= 0;
}

/**
 * The mainline release just before `since` (`MAJOR.MINOR`): 4.12 → 4.11, 5.0 → 4.20, 6.0 → 5.19.
 * A rule's scenario runs under it to show the behaviour the rule replaced. Throws ReleaseError when
 * that release is older than the model reaches (there is nothing before 4.9 to compare with).
 */
export function previousRelease(since: string): string {
  const [major, minor] = parseRelease(since);
  const previous = minor > 0 ? `${major}.${minor - 1}` : `${major - 1}.${LAST_MINOR[major - 1]}`;
  return formatRelease(parseRelease(previous));
}
