import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type PackageJson,
  publishedPackages,
  REPOSITORY,
  ROOT,
  workspacePackages,
} from '../lib/workspace.mjs';

/**
 * ESM-only packages: `import` works on every Node 20, `require()` of an ES module only where Node
 * loads ES modules synchronously without a flag, from 20.19 and 22.12 on.
 */
const ENGINES = '^20.19.0 || >=22.12.0';

const published = publishedPackages();
const rootJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

/** Every file under `dir` (recursively) whose name matches `pattern`. */
function files(dir: string, pattern: RegExp): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path, pattern);
    return pattern.test(name) ? [path] : [];
  });
}

/** The package a bare specifier names (`react-dom/client` → `react-dom`), or null for a relative or built-in one. */
function packageOf(spec: string): string | null {
  if (spec.startsWith('.') || isBuiltin(spec)) return null;
  return spec
    .split('/')
    .slice(0, spec.startsWith('@') ? 2 : 1)
    .join('/');
}

/**
 * The packages that `files` import: static imports and re-exports (`import type` and
 * `export type` left out unless `withTypes`) and dynamic `import()`.
 */
function importsOf(paths: string[], withTypes: boolean): string[] {
  const out = new Set<string>();
  for (const file of paths) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(
      /(?:^|[\n;])\s*(?:import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s*)?['"]([^'"]+)['"]/g,
    ))
      if (withTypes || !m[1]) out.add(packageOf(m[2]) ?? '');
    for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) out.add(packageOf(m[1]) ?? '');
  }
  out.delete('');
  return [...out].sort();
}

/** What the source imports at run time: tsup bundles any of these that is not a dependency. */
const sourceImports = (dir: string) => importsOf(files(join(dir, 'src'), /\.tsx?$/), false);

/** What the built package imports, from its JavaScript and its declarations: what a consumer needs. */
const builtImports = (dir: string) => importsOf(files(join(dir, 'dist'), /\.(js|d\.ts)$/), true);

const dependencies = (json: PackageJson) => Object.keys(json.dependencies ?? {}).sort();

describe.each(published.map((p) => [p.json.name, p] as const))('%s', (_name, pkg) => {
  const { json, dir, path } = pkg;

  it('points to the repository, its folder in it, the issues, and has keywords', () => {
    expect(json.repository).toEqual({ type: 'git', url: `git+${REPOSITORY}.git`, directory: dir });
    expect(json.homepage).toBe(`${REPOSITORY}/tree/main/${dir}#readme`);
    expect(json.bugs).toEqual({ url: `${REPOSITORY}/issues` });
    expect(json.keywords?.length).toBeGreaterThan(2);
    expect(json.description.length).toBeGreaterThan(20);
  });

  it('ships the MIT LICENSE of the repository', () => {
    expect(json.license).toBe('MIT');
    expect(readFileSync(join(path, 'LICENSE'), 'utf8')).toBe(readFileSync(join(ROOT, 'LICENSE'), 'utf8'));
  });

  it('is ESM-only, says so in its README, and asks for a Node that can require() it', () => {
    expect(json.type).toBe('module');
    expect(JSON.stringify(json.exports ?? {})).not.toMatch(/"require"|\.c[jt]s"/);
    expect(json.engines).toEqual({ node: ENGINES });
    const readme = readFileSync(join(path, 'README.md'), 'utf8');
    expect(readme).toContain('**ESM-only**');
    expect(readme).toContain(`\`${ENGINES}\``);
  });

  it('links its README to its page of the API reference, which exists', () => {
    const readme = readFileSync(join(path, 'README.md'), 'utf8');
    // A library has a page of its own; the command has none and links the index.
    const page = json.exports?.['.'] ? `docs/api/${json.name}.md` : 'docs/api/README.md';
    expect(readme).toContain(`](${REPOSITORY}/blob/main/${page})`);
    expect(existsSync(join(ROOT, page)), page).toBe(true);
  });

  it('publishes files that exist', () => {
    for (const f of json.files ?? [])
      expect(existsSync(join(path, f)) || f === 'dist', `${dir}/${f}`).toBe(true);
    for (const target of Object.values<string | Record<string, string>>(json.exports ?? {}))
      for (const file of typeof target === 'string' ? [target] : Object.values(target))
        if (!file.startsWith('./dist/')) expect(existsSync(join(path, file)), `${dir}/${file}`).toBe(true);
  });
});

describe.each(workspacePackages().map((p) => [p.json.name, p] as const))('%s dependencies', (_name, pkg) => {
  if (pkg.json.private) {
    // An app is bundled whole: its dependencies are what its code uses, types included.
    it('are exactly what src/ imports', () => {
      expect(dependencies(pkg.json)).toEqual(importsOf(files(join(pkg.path, 'src'), /\.tsx?$/), true));
    });
  } else {
    it('are exactly what the built package imports, and cover what src/ imports at run time', () => {
      expect(dependencies(pkg.json)).toEqual(builtImports(pkg.path));
      expect(dependencies(pkg.json)).toEqual(expect.arrayContaining(sourceImports(pkg.path)));
    });
  }

  it('name workspace packages as workspace:^, so consumers can dedupe', () => {
    for (const deps of [pkg.json.dependencies, pkg.json.devDependencies])
      for (const [dep, range] of Object.entries<string>(deps ?? {}))
        if (range.startsWith('workspace:')) expect(range, dep).toBe('workspace:^');
  });
});

describe('pnpm release', () => {
  it('builds every published package before changeset publish', () => {
    const [build, publish] = rootJson.scripts.release.split(' && ');
    expect(publish).toBe('changeset publish');
    expect(build).toMatch(/^turbo run build( --filter=\S+)*$/);
    const dry = spawnSync(
      join(ROOT, 'node_modules/.bin/turbo'),
      [...build.split(' ').slice(1), '--dry=json'],
      { cwd: ROOT, encoding: 'utf8', env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' } },
    );
    expect(dry.status, dry.stderr).toBe(0);
    const built = new Set(
      JSON.parse(dry.stdout)
        .tasks.filter((t: { task: string }) => t.task === 'build')
        .map((t: { package: string }) => t.package),
    );
    for (const p of published) expect(built.has(p.json.name), p.json.name).toBe(true);
  });
});
