/**
 * The JSON Schemas of an observation line, generated from the types in src/observation.ts (never
 * written by hand): contract v1 from `ObservationV1`, contract v2 from `Observation`. Run as a
 * script (`pnpm schema` in this package) it rewrites schema/; `test/observation-schema.test.ts`
 * fails when the committed files differ from what the types give.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createGenerator } from 'ts-json-schema-generator';

const here = (rel: string) => fileURLToPath(new URL(rel, import.meta.url));

/** Each contract version: the type it is generated from and the file it is committed to. */
export const SCHEMAS = {
  v1: { type: 'ObservationV1', file: here('../schema/observation.v1.schema.json') },
  v2: { type: 'Observation', file: here('../schema/observation.v2.schema.json') },
} as const;

export type ContractVersion = keyof typeof SCHEMAS;

/** Both schemas as the committed files hold them (two-space JSON and a final newline), from one program. */
export function generateSchemas(): Record<ContractVersion, string> {
  const generator = createGenerator({
    path: here('../src/observation.ts'),
    tsconfig: here('../tsconfig.json'),
    // The package's typecheck covers the types; the generator only reads them.
    skipTypeCheck: true,
    additionalProperties: false,
    sortProps: false,
  });
  const text = (version: ContractVersion) => {
    const { type } = SCHEMAS[version];
    const schema = generator.createSchema(type);
    const out = {
      $schema: schema.$schema,
      title: `An rmaplab observation line: the scenario-language contract ${version} and rmaplab's extra fields`,
      $comment: `Generated from ${type} in packages/scenario/src/observation.ts by \`pnpm --filter @rmaplab/scenario schema\`; do not edit.`,
      ...schema,
    };
    return `${JSON.stringify(out, null, 2)}\n`;
  };
  return { v1: text('v1'), v2: text('v2') };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const schemas = generateSchemas();
  for (const version of Object.keys(SCHEMAS) as ContractVersion[])
    writeFileSync(SCHEMAS[version].file, schemas[version]);
}
