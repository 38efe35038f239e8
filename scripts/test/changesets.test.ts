import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, workspacePackages } from '../lib/workspace.mjs';

/** The version a package gets from its first `changeset version`. */
const FIRST_VERSION = '0.1.0';

interface Changeset {
  file: string;
  releases: Map<string, string>;
  summary: string;
}

/** The pending changesets, parsed as changesets does: YAML front matter of `"name": bump`, then the note. */
function pendingChangesets(): Changeset[] {
  const dir = join(ROOT, '.changeset');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.md') && f !== 'README.md')
    .map((file) => {
      const m = /^---\n([\s\S]*?)\n---\n([\s\S]*)$/.exec(readFileSync(join(dir, file), 'utf8'));
      if (!m) throw new Error(`.changeset/${file}: no front matter`);
      const releases = new Map(
        m[1].split('\n').map((line) => {
          const r = /^"([^"]+)":\s*(major|minor|patch)$/.exec(line.trim());
          if (!r) throw new Error(`.changeset/${file}: cannot read ${JSON.stringify(line)}`);
          return [r[1], r[2]] as [string, string];
        }),
      );
      return { file, releases, summary: m[2].trim() };
    });
}

/**
 * How @changesets/cli/changelog writes a note: `- ` and its first line, the other lines indented
 * by two spaces.
 */
function changelogEntry(summary: string): string {
  const [first, ...rest] = summary.split('\n').map((l) => l.trimEnd());
  return [`- ${first}`, ...rest.map((l) => (l ? `  ${l}` : l))].join('\n');
}

const packages = workspacePackages();
const changesets = pendingChangesets();
let scratch: string;

/** What `changeset version` left in the scratch copy for the package in `dir`. */
const versioned = (dir: string) => ({
  json: JSON.parse(readFileSync(join(scratch, dir, 'package.json'), 'utf8')),
  changelog: existsSync(join(scratch, dir, 'CHANGELOG.md'))
    ? readFileSync(join(scratch, dir, 'CHANGELOG.md'), 'utf8')
    : undefined,
});

beforeAll(() => {
  // A scratch copy of what `changeset version` reads and writes: the workspace's package.json
  // files, their changelogs and .changeset/ (node_modules linked, for the changelog generator).
  scratch = mkdtempSync(join(tmpdir(), 'rmaplab-changesets-'));
  for (const f of ['package.json', 'pnpm-workspace.yaml', '.changeset'])
    cpSync(join(ROOT, f), join(scratch, f), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(scratch, 'node_modules'));
  for (const p of packages) {
    mkdirSync(join(scratch, p.dir), { recursive: true });
    for (const f of ['package.json', 'CHANGELOG.md'])
      if (existsSync(join(p.path, f))) cpSync(join(p.path, f), join(scratch, p.dir, f));
  }
  const r = spawnSync(join(ROOT, 'node_modules/.bin/changeset'), ['version'], {
    cwd: scratch,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`changeset version failed:\n${r.stdout}\n${r.stderr}`);
});

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('changeset version', () => {
  it('writes every note into the changelog of each package it names, intact', () => {
    expect(changesets.length).toBeGreaterThan(0);
    for (const c of changesets) {
      for (const name of c.releases.keys()) {
        const pkg = packages.find((p) => p.json.name === name);
        expect(pkg, `.changeset/${c.file} names ${name}`).toBeDefined();
        const { changelog } = versioned(pkg!.dir);
        expect(changelog, `${pkg!.dir}/CHANGELOG.md`).toContain(changelogEntry(c.summary));
      }
    }
  });

  it('escapes nothing: no Markdown formatter rewrote a note', () => {
    for (const p of packages) {
      const { changelog } = versioned(p.dir);
      if (changelog) expect(changelog, p.dir).not.toMatch(/\\[_*]/);
    }
  });

  it('gives a package that was never released one note of its own, and the first version', () => {
    for (const p of packages.filter((p) => !p.json.private && !existsSync(join(p.path, 'CHANGELOG.md')))) {
      const own = changesets.filter((c) => c.releases.has(p.json.name));
      expect(
        own.map((c) => c.file),
        `first-release note of ${p.json.name}`,
      ).toHaveLength(1);
      expect(own[0].releases.size, `${own[0].file} is about ${p.json.name} alone`).toBe(1);
      expect(versioned(p.dir).json.version, p.json.name).toBe(FIRST_VERSION);
    }
  });

  it('leaves private packages alone: same version, no changelog', () => {
    const privates = packages.filter((p) => p.json.private);
    expect(privates.map((p) => p.json.name)).toContain('@rmaplab/web');
    for (const p of privates) {
      expect(versioned(p.dir).json.version, p.json.name).toBe(p.json.version);
      expect(versioned(p.dir).changelog, p.json.name).toBeUndefined();
    }
  });

  it('keeps workspace dependencies as workspace:^ (pnpm pack turns them into ^VERSION)', () => {
    for (const p of packages)
      for (const [dep, range] of Object.entries<string>(versioned(p.dir).json.dependencies ?? {}))
        if (dep.startsWith('@rmaplab/')) expect(range, `${p.json.name} → ${dep}`).toBe('workspace:^');
  });
});
