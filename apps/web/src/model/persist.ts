/**
 * Where the scenario lives between visits: the URL (so a link shares it) and local storage (so a
 * reload or a closed tab loses nothing). Links are `#z=<base64url of the deflate-raw compressed
 * UTF-8 text>` (the browser's CompressionStream: a 2,000-statement scenario fits in a few KB); links
 * of the first form, `#s=<base64url of the text>`, still open. The fragment is never sent to a
 * server, so a static host serves every scenario from one file.
 */

export const STORAGE_KEY = 'rmaplab.scenario';
const PLAIN = '#s=';
const DEFLATED = '#z=';

function toBase64url(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The bytes of a base64url string, or why there are none. */
function fromBase64url(code: string): Uint8Array | string {
  if (!/^[A-Za-z0-9_-]*$/.test(code)) return 'it has characters that base64url does not use';
  if (code.length % 4 === 1) return 'it is cut short (no base64url text has that length)';
  const bin = atob(code.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

/** Run bytes through a (de)compression stream. */
async function through(bytes: Uint8Array, t: CompressionStream | DecompressionStream): Promise<Uint8Array> {
  const writer = t.writable.getWriter();
  const written = writer.write(bytes as Uint8Array<ArrayBuffer>).then(() => writer.close());
  // A damaged input fails both ends: the reader's error is the one thrown, this one is only awaited.
  written.catch(() => {});
  const reader = t.readable.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
  }
  await written;
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** The fragment that carries `text`, compressed. */
export async function scenarioHash(text: string): Promise<string> {
  const z = await through(new TextEncoder().encode(text), new CompressionStream('deflate-raw'));
  return DEFLATED + toBase64url(z);
}

export type HashScenario =
  | { kind: 'none' }
  | { kind: 'scenario'; text: string }
  | { kind: 'broken'; reason: string };

/** What a URL fragment carries: a scenario, nothing of ours, or a scenario link that cannot be read (and why). */
export async function scenarioFromHash(hash: string): Promise<HashScenario> {
  const deflated = hash.startsWith(DEFLATED);
  if (!deflated && !hash.startsWith(PLAIN)) return { kind: 'none' };
  const bytes = fromBase64url(hash.slice(3));
  if (typeof bytes === 'string') return { kind: 'broken', reason: bytes };
  let raw = bytes;
  if (deflated) {
    try {
      raw = await through(bytes, new DecompressionStream('deflate-raw'));
    } catch {
      return { kind: 'broken', reason: 'its compressed data is damaged or cut short' };
    }
  }
  try {
    return { kind: 'scenario', text: new TextDecoder('utf-8', { fatal: true }).decode(raw) };
  } catch {
    return { kind: 'broken', reason: 'it does not decode to UTF-8 text' };
  }
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

export interface Opening {
  text: string;
  /** Set when the link's scenario could not be read: why, and that the stored one is offered instead. */
  broken?: string;
  /** Where the text came from. */
  from: 'link' | 'stored' | 'default';
}

/**
 * The scenario to open at start-up: a shared link wins over what this browser last edited, which
 * wins over the default. A broken link opens nothing of its own: it says why, and the stored (or
 * default) scenario is shown, not saved over anything, until the reader chooses.
 */
export async function initialScenario(
  hash: string,
  store: TextStore | undefined,
  fallback: string,
): Promise<Opening> {
  const h = await scenarioFromHash(hash);
  if (h.kind === 'scenario') return { text: h.text, from: 'link' };
  const stored = loadStored(store);
  const base: Opening =
    stored !== null ? { text: stored, from: 'stored' } : { text: fallback, from: 'default' };
  return h.kind === 'broken' ? { ...base, broken: h.reason } : base;
}
