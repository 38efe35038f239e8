/**
 * The e2e harness: build the site, serve dist/ on 127.0.0.1 with a tiny static server, and drive the
 * system's Chromium (Debian's package; never a downloaded browser) with playwright-core and a fresh
 * profile per run.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium } from 'playwright-core';

export const APP_DIR = fileURLToPath(new URL('..', import.meta.url));
export const DIST = join(APP_DIR, 'dist');
export const ARTIFACTS = join(APP_DIR, 'test-results', 'e2e');
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** Why the e2e tests cannot run here, or null when they can. */
export function skipReason(): string | null {
  return existsSync(CHROMIUM)
    ? null
    : `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM)`;
}

/** Build the site into dist/ with Vite (the same build as `pnpm build`). */
export async function buildSite(): Promise<void> {
  const { build } = await import('vite');
  // Vitest sets NODE_ENV=test, which Vite would honour and bundle React's development build.
  const env = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ root: APP_DIR, logLevel: 'warn', configFile: join(APP_DIR, 'vite.config.ts') });
  } finally {
    process.env.NODE_ENV = env;
  }
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
};

/** Serve `root` on 127.0.0.1 at a free port; resolves to the base URL. */
export function serve(root: string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    let file = join(root, path);
    if (!file.startsWith(root)) {
      res.writeHead(403).end();
      return;
    }
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file)) {
      res.writeHead(404).end('not found');
      return;
    }
    // Cross-origin isolated, so the page may measure its memory (performance.measureUserAgentSpecificMemory).
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-embedder-policy': 'require-corp',
    });
    res.end(readFileSync(file));
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      resolve({ url: `http://127.0.0.1:${port}/`, server });
    });
  });
}

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // measureUserAgentSpecificMemory() answers at once instead of waiting for the next GC.
  '--enable-blink-features=ForceEagerMeasureMemory',
];

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** System Chromium with a fresh profile directory, removed on close. */
export async function launch(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'rmaplab-e2e-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: FLAGS,
    headless: true,
    viewport: { width: 1440, height: 900 },
    acceptDownloads: true,
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export function artifact(name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  return join(ARTIFACTS, name);
}

export interface Lab {
  base: string;
  browser: Browser;
  close(): Promise<void>;
}

/** Build the site once per test file, serve it and start Chromium. */
export async function startLab(): Promise<Lab> {
  await buildSite();
  const { url, server } = await serve(DIST);
  const browser = await launch();
  return {
    base: url,
    browser,
    async close() {
      await browser.close();
      server.close();
    },
  };
}

/** The share-link fragment of a scenario, in the first (plain) form the app still reads. */
export function plainLink(text: string): string {
  return `#s=${Buffer.from(text).toString('base64url')}`;
}
