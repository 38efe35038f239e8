import { readdirSync, readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import { describe, expect, it } from 'vitest';
import { type ContractVersion, generateSchemas, SCHEMAS } from '../scripts/observation-schema.js';

const goldenDir = new URL('../../../examples/golden/', import.meta.url);

/** The committed schema of `version`, compiled: what the package ships. */
function validator(version: ContractVersion): ValidateFunction {
  return new Ajv({ allErrors: true }).compile(JSON.parse(readFileSync(SCHEMAS[version].file, 'utf8')));
}
const v1 = validator('v1');
const v2 = validator('v2');

/** ajv's errors as `path message` lines, for a readable failure and for asserting on them. */
function errors(validate: ValidateFunction, value: unknown): string[] {
  return validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

/** A v1 line, as `rmaplab run --json` prints one. */
const V1_LINE = {
  step: 5,
  pages: [
    {
      mapcount: 2,
      flags: ['anon', 'swapbacked'],
      mappings: ['A:heap:0', 'B:heap:0'],
      pfn: 1,
      anonVma: 'AV3',
      index: 0,
    },
    { mapcount: 0, flags: ['zero'], mappings: ['A:heap:1'], pfn: 0 },
  ],
  absent: ['A:heap:2', 'B:heap:1', 'B:heap:2'],
  swapped: ['B:heap:2'],
};

/** The same step under contract v2: a 2-page folio, the VMAs and KSM's counters. */
const V2_LINE = {
  ...V1_LINE,
  pages: [
    { ...V1_LINE.pages[0], flags: ['anon', 'swapbacked', 'thp', 'head'], folio: 7 },
    { mapcount: 1, flags: ['anon', 'swapbacked', 'thp', 'tail'], mappings: ['A:heap:1'], pfn: 2, folio: 7 },
  ],
  vmas: {
    A: [{ region: 'heap', first: 0, last: 2, prot: 'rw', flags: ['account', 'hugepage'] }],
    B: [
      { region: 'heap', first: 0, last: 0, prot: 'r', flags: ['account'] },
      { region: 'heap', first: 1, last: 2, prot: 'rw', flags: ['account', 'locked'] },
    ],
  },
  ksm: { pages_shared: 0, pages_sharing: 0, pages_unshared: 3, stable_node_chains: 0, stable_node_dups: 0 },
};

describe('the observation schemas', () => {
  it('are what the types in src/observation.ts give (run `pnpm schema` after changing them)', () => {
    const generated = generateSchemas();
    for (const version of Object.keys(SCHEMAS) as ContractVersion[])
      expect(readFileSync(SCHEMAS[version].file, 'utf8'), version).toBe(generated[version]);
  }, 60_000);

  it('accept every line of every golden .jsonl under v2, and under v1 without its vmas and ksm', () => {
    const files = readdirSync(goldenDir).filter((f) => f.endsWith('.jsonl'));
    expect(files.length).toBeGreaterThanOrEqual(20);
    let lines = 0;
    let withKsm = 0;
    for (const file of files) {
      const text = readFileSync(new URL(file, goldenDir), 'utf8');
      for (const [i, line] of text.split('\n').entries()) {
        if (!line) continue;
        const { vmas, ksm, ...v1Part } = JSON.parse(line);
        expect(vmas, `${file}:${i + 1}: every observation has its vmas`).toBeTypeOf('object');
        if (ksm) withKsm++;
        expect(errors(v2, { ...v1Part, vmas, ...(ksm ? { ksm } : {}) }), `${file}:${i + 1} (v2)`).toEqual([]);
        expect(errors(v1, v1Part), `${file}:${i + 1} (v1)`).toEqual([]);
        lines++;
      }
    }
    expect(lines).toBeGreaterThan(files.length);
    expect(withKsm).toBeGreaterThan(0);
  });

  it('v1 accepts a v1 line and refuses every v2 addition', () => {
    expect(errors(v1, V1_LINE)).toEqual([]);
    expect(errors(v1, V2_LINE)).toEqual(
      expect.arrayContaining([
        '/pages/0/flags/2 must be equal to one of the allowed values',
        '/pages/0 must NOT have additional properties',
        ' must NOT have additional properties',
      ]),
    );
    expect(v1({ ...V1_LINE, vmas: V2_LINE.vmas })).toBe(false);
    expect(v1({ ...V1_LINE, ksm: V2_LINE.ksm })).toBe(false);
    expect(v1({ ...V1_LINE, pages: [{ ...V1_LINE.pages[0], folio: 1 }] })).toBe(false);
    expect(v1({ ...V1_LINE, pages: [{ ...V1_LINE.pages[0], flags: ['anon', 'thp'] }] })).toBe(false);
  });

  it('v2 accepts v1 and v2 lines', () => {
    expect(errors(v2, V1_LINE)).toEqual([]);
    expect(errors(v2, V2_LINE)).toEqual([]);
  });

  it('v2 refuses a malformed vmas or ksm', () => {
    const vma = V2_LINE.vmas.A[0];
    const withVma = (bad: unknown) => ({ ...V2_LINE, vmas: { A: [bad] } });
    expect(errors(v2, withVma({ ...vma, prot: 'rwx' }))).toContain(
      '/vmas/A/0/prot must be equal to one of the allowed values',
    );
    expect(errors(v2, withVma({ ...vma, flags: ['lo'] }))).toContain(
      '/vmas/A/0/flags/0 must be equal to one of the allowed values',
    );
    expect(errors(v2, withVma({ region: 'heap', first: 0, prot: 'rw', flags: [] }))).toContain(
      "/vmas/A/0 must have required property 'last'",
    );
    expect(errors(v2, withVma({ ...vma, first: -1 }))).toContain('/vmas/A/0/first must be >= 0');
    expect(errors(v2, withVma({ ...vma, last: 1.5 }))).toContain('/vmas/A/0/last must be integer');
    expect(errors(v2, { ...V2_LINE, vmas: { A: vma } })).toContain('/vmas/A must be array');
    expect(errors(v2, { ...V2_LINE, vmas: [vma] })).toContain('/vmas must be object');
    const { stable_node_dups: _, ...ksm } = V2_LINE.ksm;
    expect(errors(v2, { ...V2_LINE, ksm })).toContain("/ksm must have required property 'stable_node_dups'");
  });

  it('both refuse what no contract allows', () => {
    const page = V1_LINE.pages[0];
    for (const [why, bad] of [
      ['an unknown flag', { ...V1_LINE, pages: [{ ...page, flags: ['dirty'] }] }],
      ['a malformed mapping', { ...V1_LINE, pages: [{ ...page, mappings: ['A:heap'] }] }],
      ['a negative mapcount', { ...V1_LINE, pages: [{ ...page, mapcount: -1 }] }],
      ['no mappings', { ...V1_LINE, pages: [{ mapcount: 1, flags: [], pfn: 3 }] }],
      ['step 0', { ...V1_LINE, step: 0 }],
      ['no absent', { step: 1, pages: [] }],
      ['a malformed absent page', { ...V1_LINE, absent: ['A:heap:01'] }],
    ] as const) {
      expect(v1(bad), `v1: ${why}`).toBe(false);
      expect(v2(bad), `v2: ${why}`).toBe(false);
    }
  });
});
