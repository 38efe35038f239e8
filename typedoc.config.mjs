/**
 * `pnpm run docs` (`run` is needed: `pnpm docs` is npm's own command): the API reference of every
 * published library package, generated from the doc comments of its `src/index.ts` into docs/api/
 * as Markdown (committed: it reads on GitHub, and CI regenerates it and fails when the committed
 * copy is stale). Any warning fails the run, a type that an exported signature uses but the
 * package does not export included: the few known ones are listed, per package, as
 * `intentionallyNotExported` in that package's typedoc.json, so each gap in the public API stays
 * visible and a new one fails `pnpm run docs`.
 */
import { OptionDefaults } from 'typedoc';

/** @type {Partial<import('typedoc').TypeDocOptions & import('typedoc-plugin-markdown').PluginOptions>} */
export default {
  name: 'rmaplab API',
  entryPointStrategy: 'packages',
  entryPoints: ['packages/*'],
  packageOptions: {
    entryPoints: ['src/index.ts'],
    readme: 'none',
    // `pnpm typecheck` checks the code; TypeDoc only reads it.
    skipErrorChecking: true,
    // No source links: the pages change only when the API does, and no git remote is needed.
    disableSources: true,
    disableGit: true,
    // The JSON Schema annotations of packages/scenario/src/observation.ts (ts-json-schema-generator).
    blockTags: [...OptionDefaults.blockTags, '@asType', '@minimum', '@pattern'],
  },
  plugin: ['typedoc-plugin-markdown'],
  out: 'docs/api',
  readme: 'none',
  // One page per package; no source line numbers, so the pages change only when the API does.
  outputFileStrategy: 'modules',
  disableSources: true,
  disableGit: true,
  validation: { notExported: true, invalidLink: true, notDocumented: false },
  treatWarningsAsErrors: true,
};
