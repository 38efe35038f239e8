import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  initialScenario,
  loadStored,
  STORAGE_KEY,
  saveStored,
  scenarioFromHash,
  scenarioHash,
  type TextStore,
} from '../src/model/persist';

/** A link of the first, uncompressed form (`#s=<base64url>`), as links made before compression are. */
const plainScenarioHash = (text: string) => `#s=${Buffer.from(text).toString('base64url')}`;

function memoryStore(): TextStore & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return { data, getItem: (k) => data.get(k) ?? null, setItem: (k, v) => void data.set(k, v) };
}

const broken: TextStore = {
  getItem: () => {
    throw new Error('SecurityError');
  },
  setItem: () => {
    throw new Error('QuotaExceededError');
  },
};

describe('share links', () => {
  it('round-trip any text, unicode included, through a compressed URL-safe fragment', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'grapheme', maxLength: 300 }), async (text) => {
        const hash = await scenarioHash(text);
        expect(hash).toMatch(/^#z=[A-Za-z0-9_-]*$/);
        expect(await scenarioFromHash(hash)).toEqual({ kind: 'scenario', text });
      }),
      { numRuns: 40 },
    );
  });

  it('are much shorter than plain base64 for a long scenario', async () => {
    const lines = ['spawn A', 'A: mmap heap 64 anon private'];
    for (let i = 0; i < 2_000; i++) lines.push(`A: write heap ${i % 64}`);
    const text = lines.join('\n');
    const z = await scenarioHash(text);
    expect(z.length * 5).toBeLessThan(plainScenarioHash(text).length);
  });

  it('still open the first, plain form', async () => {
    expect(await scenarioFromHash(plainScenarioHash('spawn A ✓'))).toEqual({
      kind: 'scenario',
      text: 'spawn A ✓',
    });
  });

  it('say what is wrong with a damaged link', async () => {
    expect(await scenarioFromHash('')).toEqual({ kind: 'none' });
    expect(await scenarioFromHash('#other')).toEqual({ kind: 'none' });
    expect(await scenarioFromHash('#s=c3Bhd')).toEqual({
      kind: 'broken',
      reason: expect.stringMatching(/cut short/),
    });
    expect(await scenarioFromHash('#s=ww')).toEqual({
      kind: 'broken',
      reason: expect.stringMatching(/UTF-8/),
    });
    expect(await scenarioFromHash('#s=a+b')).toEqual({
      kind: 'broken',
      reason: expect.stringMatching(/characters/),
    });
    const good = await scenarioHash('spawn A\nA: mmap heap 4 anon private\n');
    expect(await scenarioFromHash(good.slice(0, -4))).toEqual({
      kind: 'broken',
      reason: expect.stringMatching(/compressed/),
    });
  });
});

describe('local storage', () => {
  it('saves and loads the scenario under one key', () => {
    const s = memoryStore();
    expect(saveStored(s, 'spawn A')).toBe(true);
    expect(s.data.get(STORAGE_KEY)).toBe('spawn A');
    expect(loadStored(s)).toBe('spawn A');
  });

  it('survives a browser that refuses storage', () => {
    expect(saveStored(broken, 'x')).toBe(false);
    expect(loadStored(broken)).toBeNull();
    expect(saveStored(undefined, 'x')).toBe(false);
  });

  it('opens a shared link first, then the stored text, then the default; a broken link says why and offers the stored one', async () => {
    const s = memoryStore();
    expect(await initialScenario('', s, 'default')).toEqual({ text: 'default', from: 'default' });
    saveStored(s, 'stored');
    expect(await initialScenario('', s, 'default')).toEqual({ text: 'stored', from: 'stored' });
    expect(await initialScenario(await scenarioHash('shared'), s, 'default')).toEqual({
      text: 'shared',
      from: 'link',
    });
    expect(await initialScenario('#s=ww', s, 'default')).toMatchObject({
      text: 'stored',
      from: 'stored',
      broken: expect.any(String),
    });
    // Nothing was written over the stored scenario.
    expect(loadStored(s)).toBe('stored');
  });
});
