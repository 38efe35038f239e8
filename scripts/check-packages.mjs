#!/usr/bin/env node
// The packaging check: CI's packaging step, and on its own `pnpm packaging` (which builds the
// packages first; `node scripts/check-packages.mjs` does not). Packs every published package with
// pnpm (which turns workspace:^ into ^VERSION), checks each tarball's manifest and files, installs
// all tarballs into a fresh npm project in a temporary folder (offline: the packages have no other
// dependencies), runs publint (warnings are errors) on each installed package and
// @arethetypeswrong/cli (ESM-only profile) on each tarball, imports and require()s each library,
// runs every README example there, and runs `rmaplab --help` and `rmaplab demo` from the
// project's node_modules/.bin, and as root `rmaplab verify examples/01-fork-cow.rmap` (building
// the kernel helper from the installed package's source). The temporary folder is removed at the
// end, whatever happened.
import { execFile, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { readmeExamples, runExample } from './lib/readme-examples.mjs';
import { publishedPackages, ROOT } from './lib/workspace.mjs';

const run = promisify(execFile);
const BIN = join(ROOT, 'node_modules', '.bin');
const packages = publishedPackages();
const tmp = mkdtempSync(join(tmpdir(), 'rmaplab-packaging-'));
const tarballs = join(tmp, 'tarballs');
const project = join(tmp, 'project');
/** @type {string[]} */
const failures = [];
const started = performance.now();

/**
 * Record a failure (the check goes on, to report them all) and say it.
 * @param {string} what
 * @param {string} [detail]
 */
function fail(what, detail = '') {
  failures.push(what);
  console.error(`FAIL ${what}${detail ? `\n${detail.trimEnd()}` : ''}`);
}

/**
 * Run `body`, printing the phase's name and how long it took.
 * @param {string} name
 * @param {() => Promise<unknown>} body
 */
async function phase(name, body) {
  const t = performance.now();
  console.log(`-- ${name}`);
  await body();
  console.log(`   ${((performance.now() - t) / 1000).toFixed(1)} s`);
}

/**
 * Run `cmd args`; a non-zero exit is a failure named `what`. Returns its stdout, or null when it failed.
 * @param {string} what
 * @param {string} cmd
 * @param {string[]} args
 * @param {import('node:child_process').SpawnSyncOptions} [opts]
 */
function check(what, cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { timeout: 300_000, ...opts, encoding: 'utf8' });
  if (r.status === 0) return r.stdout;
  fail(what, `${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}\n${r.stdout}${r.stderr}`);
  return null;
}

/**
 * `body` on each item, two at a time: the CI machine has two cores.
 * @template T
 * @param {T[]} items
 * @param {(item: T) => Promise<unknown>} body
 */
async function eachInPairs(items, body) {
  for (let i = 0; i < items.length; i += 2) await Promise.all(items.slice(i, i + 2).map(body));
}

/**
 * The tarball pnpm pack writes for a package.
 * @param {{ name: string, version: string }} json
 */
const tarballOf = (json) =>
  join(tarballs, `${json.name.replace(/^@/, '').replace('/', '-')}-${json.version}.tgz`);

/**
 * The files of a tarball, without the leading `package/`.
 * @param {string} file
 */
function tarFiles(file) {
  const out = spawnSync('tar', ['-tzf', file], { encoding: 'utf8' }).stdout;
  return new Set(
    out
      .split('\n')
      .filter(Boolean)
      .map((f) => f.replace(/^package\//, '')),
  );
}

const cleanUp = () => rmSync(tmp, { recursive: true, force: true });
for (const signal of ['SIGINT', 'SIGTERM'])
  process.once(signal, () => {
    cleanUp();
    process.exit(130);
  });

try {
  await phase(`pack ${packages.length} packages`, async () => {
    mkdirSync(tarballs);
    await eachInPairs(packages, async (p) => {
      try {
        await run('pnpm', ['pack', '--pack-destination', tarballs], { cwd: p.path });
      } catch (e) {
        const err = /** @type {Error & { stdout?: string, stderr?: string }} */ (e);
        fail(`pnpm pack ${p.json.name}`, `${err.stdout ?? ''}${err.stderr ?? err.message}`);
      }
    });
  });

  await phase('tarball contents', async () => {
    for (const p of packages) {
      const files = tarFiles(tarballOf(p.json));
      const manifest = JSON.parse(
        spawnSync('tar', ['-xzOf', tarballOf(p.json), 'package/package.json'], { encoding: 'utf8' }).stdout,
      );
      for (const f of ['package.json', 'README.md', 'LICENSE'])
        if (!files.has(f)) fail(`${p.json.name}: the tarball has no ${f}`);
      // Each `files` entry is a file or a folder that made it in (the kernel helper's source once did not).
      for (const f of manifest.files ?? [])
        if (!files.has(f) && ![...files].some((g) => g.startsWith(`${f}/`)))
          fail(`${p.json.name}: files lists ${f}, which is not in the tarball`);
      for (const [dep, range] of Object.entries(manifest.dependencies ?? {}))
        if (!/^\^\d+\.\d+\.\d+$/.test(range))
          fail(`${p.json.name}: dependency ${dep} is ${range}, not ^VERSION`);
      const entries = [
        ...Object.values(manifest.bin ?? {}),
        ...Object.values(manifest.exports ?? {}).flatMap((t) =>
          typeof t === 'string' ? [t] : Object.values(t),
        ),
      ];
      for (const entry of entries)
        if (!files.has(entry.replace(/^\.\//, ''))) fail(`${p.json.name}: ${entry} is not in the tarball`);
      console.log(`   ${p.json.name}: ${files.size} files`);
    }
  });

  await phase('install the tarballs into a fresh npm project', async () => {
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), `${JSON.stringify({ name: 'consumer', private: true })}\n`);
    check(
      'npm install',
      'npm',
      [
        'install',
        '--offline',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        ...packages.map((p) => tarballOf(p.json)),
      ],
      {
        cwd: project,
      },
    );
  });

  await phase('publint (strict) on each installed package', async () => {
    for (const p of packages) {
      const pkgDir = join(project, 'node_modules', p.json.name);
      const { messages, pkg } = await publint({ pkgDir, pack: false, strict: true });
      for (const m of messages) {
        const text = `${p.json.name}: ${formatMessage(m, pkg)}`;
        if (m.type === 'suggestion') console.log(`   suggestion: ${text}`);
        else fail(`publint ${m.type}`, text);
      }
    }
  });

  await phase('@arethetypeswrong/cli --profile esm-only on each tarball', async () => {
    await eachInPairs(packages, async (p) => {
      // A command alone (bin, no exports) has no types for attw to check.
      if (!p.json.exports) return console.log(`   ${p.json.name}: a command without types, nothing to check`);
      try {
        await run(join(BIN, 'attw'), [
          tarballOf(p.json),
          '--profile',
          'esm-only',
          '--format',
          'ascii',
          '--no-color',
        ]);
      } catch (e) {
        const err = /** @type {Error & { stdout?: string, stderr?: string }} */ (e);
        fail(`attw ${p.json.name}`, `${err.stdout ?? ''}${err.stderr ?? err.message}`);
      }
    });
  });

  await phase('import and require() each library, and its subpaths', async () => {
    const libraries = packages.filter((p) => p.json.exports);
    const specifiers = libraries.flatMap((p) =>
      Object.keys(p.json.exports ?? {}).map((sub) =>
        sub === '.' ? p.json.name : `${p.json.name}${sub.slice(1)}`,
      ),
    );
    const modules = specifiers.filter((s) => !s.endsWith('.json'));
    // ESM: every export of every library is there; JSON subpaths through import attributes.
    writeFileSync(
      join(project, 'imports.mjs'),
      `${modules.map((s, i) => `import * as m${i} from '${s}';`).join('\n')}
${specifiers
  .filter((s) => s.endsWith('.json'))
  .map(
    (s, i) =>
      `import j${i} from '${s}' with { type: 'json' };\nif (typeof j${i} !== 'object') throw new Error('${s}');`,
  )
  .join('\n')}
for (const [name, m] of [${modules.map((s, i) => `['${s}', m${i}]`).join(', ')}])
  if (Object.keys(m).length < 3) throw new Error(name + ' exports almost nothing');
`,
    );
    check('import every library', process.execPath, ['imports.mjs'], { cwd: project });
    // CommonJS: require() of an ES module, which engines promises (Node 20.19+ / 22.12+).
    writeFileSync(
      join(project, 'requires.cjs'),
      `for (const s of ${JSON.stringify(specifiers)}) if (Object.keys(require(s)).length === 0) throw new Error(s);\n`,
    );
    check('require() every library', process.execPath, ['requires.cjs'], { cwd: project });
  });

  await phase('README examples against the installed packages', async () => {
    for (const p of packages) {
      for (const example of readmeExamples(readFileSync(join(p.path, 'README.md'), 'utf8'))) {
        const r = runExample(example, {
          cwd: project,
          bin: join(project, 'node_modules', '.bin'),
          name: p.dir.replace('/', '-'),
          env: { RMAPLAB_CACHE_DIR: join(tmp, 'cache') },
        });
        const what = `${p.dir}/README.md:${example.line}`;
        if (r.status !== 0) fail(`${what} exited ${r.status ?? r.signal}`, r.stderr);
        else if (example.output !== undefined && r.stdout !== example.output)
          fail(`${what} printed other than its output block`, r.stdout);
        else console.log(`   ${what}: ok`);
      }
    }
  });

  await phase('rmaplab from node_modules/.bin', async () => {
    const rmaplab = join(project, 'node_modules', '.bin', 'rmaplab');
    const env = { ...process.env, RMAPLAB_CACHE_DIR: join(tmp, 'cache'), NO_COLOR: '1' };
    const help = check('rmaplab --help', rmaplab, ['--help'], { cwd: project, env });
    if (help !== null && !help.includes('Usage: rmaplab')) fail('rmaplab --help printed no usage', help);
    const demo = check('rmaplab demo', rmaplab, ['demo'], { cwd: project, env });
    if (demo !== null && !demo.includes('try_to_unmap'))
      fail('rmaplab demo did not narrate try_to_unmap', demo);
    if (process.getuid?.() === 0) {
      mkdirSync(join(project, 'examples'));
      cpSync(join(ROOT, 'examples', '01-fork-cow.rmap'), join(project, 'examples', '01-fork-cow.rmap'));
      const verified = check('rmaplab verify (as root)', rmaplab, ['verify', 'examples/01-fork-cow.rmap'], {
        cwd: project,
        env,
      });
      if (verified !== null)
        console.log('   verify: the helper built from the installed source, the kernel agrees');
    } else console.log('   verify: skipped (not root: the kernel side needs /proc/kpagecount)');
  });
} catch (e) {
  fail('the packaging check itself', e instanceof Error ? (e.stack ?? e.message) : String(e));
} finally {
  cleanUp();
}

const seconds = ((performance.now() - started) / 1000).toFixed(1);
if (failures.length) {
  console.error(`packaging: ${failures.length} failure(s) in ${seconds} s`);
  process.exitCode = 1;
} else console.log(`packaging: ${packages.length} packages ok in ${seconds} s`);
