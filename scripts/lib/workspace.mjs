// The workspace as the packaging checks see it: every package that pnpm-workspace.yaml names,
// and the published ones among them (those not marked private).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root folder. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The public repository every package.json points to. */
export const REPOSITORY = 'https://github.com/rmaplab/rmaplab';

/**
 * The fields of a package.json that the checks read.
 * @typedef {object} PackageJson
 * @property {string} name
 * @property {string} version
 * @property {boolean} [private]
 * @property {string} description
 * @property {string[]} [keywords]
 * @property {string} [homepage]
 * @property {{ url: string }} [bugs]
 * @property {{ type: string, url: string, directory?: string }} [repository]
 * @property {string} [license]
 * @property {string} [type]
 * @property {Record<string, string | Record<string, string>>} [exports]
 * @property {string[]} [files]
 * @property {Record<string, string>} [engines]
 * @property {Record<string, string>} [bin]
 * @property {Record<string, string>} scripts
 * @property {Record<string, string>} [dependencies]
 * @property {Record<string, string>} [devDependencies]
 */

/**
 * @typedef {object} WorkspacePackage
 * @property {string} dir  the folder, relative to the root (`packages/mm`)
 * @property {string} path the folder, absolute
 * @property {PackageJson} json its package.json
 */

/**
 * Every package of the workspace, in pnpm-workspace.yaml's order, then by folder name.
 * @returns {WorkspacePackage[]}
 */
export function workspacePackages() {
  const yaml = readFileSync(join(ROOT, 'pnpm-workspace.yaml'), 'utf8');
  const section = /^packages:\n((?:[ \t]+-.*\n?)*)/m.exec(yaml);
  if (!section) throw new Error('pnpm-workspace.yaml: no packages list');
  const globs = [...section[1].matchAll(/-\s*['"]?([^'"\n]+?)['"]?\s*$/gm)].map((m) => m[1]);
  return globs.flatMap((glob) => {
    // The workspace lists folders of packages (`packages/*`); anything else would need a glob library.
    if (!/^[\w.-]+\/\*$/.test(glob)) throw new Error(`pnpm-workspace.yaml: unsupported pattern ${glob}`);
    const parent = glob.slice(0, -2);
    return readdirSync(join(ROOT, parent))
      .sort()
      .filter((name) => existsSync(join(ROOT, parent, name, 'package.json')))
      .map((name) => {
        const dir = `${parent}/${name}`;
        const path = join(ROOT, dir);
        return { dir, path, json: JSON.parse(readFileSync(join(path, 'package.json'), 'utf8')) };
      });
  });
}

/** The packages that are published (not private). */
export function publishedPackages() {
  return workspacePackages().filter((p) => !p.json.private);
}
