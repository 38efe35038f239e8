import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readmeExamples, runExample } from '../lib/readme-examples.mjs';
import { publishedPackages, ROOT } from '../lib/workspace.mjs';

// Every code example of every published package's README runs as written, against the built
// packages (scripts/check-packages.mjs runs them again against the packed tarballs). A project
// folder links each package by name, as node_modules would, and puts `rmaplab` on PATH.

const packages = publishedPackages().map((p) => ({
  ...p,
  examples: readmeExamples(readFileSync(join(p.path, 'README.md'), 'utf8')),
}));
let project: string;

beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), 'rmaplab-readme-'));
  mkdirSync(join(project, 'node_modules', '@rmaplab'), { recursive: true });
  mkdirSync(join(project, 'bin'));
  for (const p of packages) symlinkSync(p.path, join(project, 'node_modules', p.json.name));
  const cli = packages.find((p) => p.json.bin?.rmaplab)!;
  writeFileSync(
    join(project, 'bin', 'rmaplab'),
    `#!/bin/sh\nexec "${process.execPath}" "${join(cli.path, cli.json.bin!.rmaplab)}" "$@"\n`,
  );
  chmodSync(join(project, 'bin', 'rmaplab'), 0o755);
});

afterAll(() => {
  if (project) rmSync(project, { recursive: true, force: true });
});

describe.each(packages.map((p) => [p.json.name, p] as const))('%s README', (_name, pkg) => {
  it('has an example to run', () => {
    expect(pkg.examples.length).toBeGreaterThan(0);
  });

  it.each(pkg.examples.map((e) => [e.line, e] as const))(
    'the example at line %i runs as written',
    (_line, example) => {
      const r = runExample(example, {
        cwd: project,
        bin: join(project, 'bin'),
        name: pkg.dir.replace('/', '-'),
        // The verify example builds the kernel helper: into this folder, not the user's cache.
        env: { RMAPLAB_CACHE_DIR: join(project, 'cache') },
      });
      expect(r.status, `${r.file}\n${r.stderr}`).toBe(0);
      if (example.output !== undefined) expect(r.stdout).toBe(example.output);
    },
  );
});

it('the TypeScript examples typecheck, strictly, as a consumer compiles them', () => {
  const dir = join(project, 'typecheck');
  mkdirSync(dir, { recursive: true });
  let count = 0;
  for (const p of packages)
    for (const e of p.examples.filter((e) => e.lang === 'ts')) {
      writeFileSync(join(dir, `${p.dir.replace('/', '-')}-${e.line}.mts`), e.code);
      count++;
    }
  expect(count).toBeGreaterThan(0);
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        resolveJsonModule: true,
        noEmit: true,
        skipLibCheck: true,
        types: ['node'],
        typeRoots: [join(ROOT, 'node_modules', '@types')],
      },
      include: ['*.mts'],
    }),
  );
  const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', dir], {
    cwd: dir,
    encoding: 'utf8',
  });
  expect(tsc.status, tsc.stdout + tsc.stderr).toBe(0);
});
