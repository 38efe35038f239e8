/**
 * Where the scenario lives between visits: the URL (so a link shares it) and local storage (so a
 * reload or a closed tab loses nothing). The URL form is `#s=<base64url of the UTF-8 text>`, kept in
 * the fragment so that no server ever sees it and a static host serves every scenario from one file.
 */

export const STORAGE_KEY = 'rmaplab.scenario';
const HASH_PREFIX = '#s=';

/** Encode a scenario for the URL fragment (base64url, no padding). */
export function encodeScenario(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Decode `encodeScenario` output; null when it is not valid base64url or not UTF-8. */
export function decodeScenario(code: string): string | null {
  if (!/^[A-Za-z0-9_-]*$/.test(code)) return null;
  try {
    const bin = atob(code.replace(/-/g, '+').replace(/_/g, '/'));
    const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

/** The fragment that carries `text`. */
export function scenarioHash(text: string): string {
  return HASH_PREFIX + encodeScenario(text);
}

/** The scenario a fragment carries, or null when it carries none. */
export function scenarioFromHash(hash: string): string | null {
  return hash.startsWith(HASH_PREFIX) ? decodeScenario(hash.slice(HASH_PREFIX.length)) : null;
}

/** Minimal storage surface, so tests and private-mode browsers (where storage throws) are handled alike. */
export interface TextStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export function loadStored(store: TextStore | undefined): string | null {
  try {
    return store?.getItem(STORAGE_KEY) ?? null;
  } catch {
    return null;
  }
}

/** Save the scenario; false when storage is unavailable or full (the URL still carries it). */
export function saveStored(store: TextStore | undefined, text: string): boolean {
  try {
    if (!store) return false;
    store.setItem(STORAGE_KEY, text);
    return true;
  } catch {
    return false;
  }
}

/**
 * The scenario to open at start-up: a shared link wins over what this browser last edited, which wins
 * over the default.
 */
export function initialScenario(hash: string, store: TextStore | undefined, fallback: string): string {
  return scenarioFromHash(hash) ?? loadStored(store) ?? fallback;
}
