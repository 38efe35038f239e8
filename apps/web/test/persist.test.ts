import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeScenario,
  encodeScenario,
  initialScenario,
  loadStored,
  STORAGE_KEY,
  saveStored,
  scenarioFromHash,
  scenarioHash,
  type TextStore,
} from '../src/model/persist';

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

describe('share URL', () => {
  it('round-trips any text, unicode included, through a URL-safe fragment', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), (text) => {
        const hash = scenarioHash(text);
        expect(hash).toMatch(/^#s=[A-Za-z0-9_-]*$/);
        expect(scenarioFromHash(hash)).toBe(text);
      }),
    );
  });

  it('refuses fragments that are not ours or not valid', () => {
    expect(scenarioFromHash('')).toBeNull();
    expect(scenarioFromHash('#other')).toBeNull();
    expect(decodeScenario('a+b')).toBeNull();
    expect(decodeScenario('_w')).toBeNull(); // a lone 0xff byte is not UTF-8
    expect(decodeScenario(encodeScenario('spawn A'))).toBe('spawn A');
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

  it('opens a shared link first, then the stored text, then the default', () => {
    const s = memoryStore();
    expect(initialScenario('', s, 'default')).toBe('default');
    saveStored(s, 'stored');
    expect(initialScenario('', s, 'default')).toBe('stored');
    expect(initialScenario(scenarioHash('shared'), s, 'default')).toBe('shared');
  });
});
