import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  fitTransform,
  MAX_ZOOM,
  MIN_ZOOM,
  readableTransform,
  revealTransform,
  zoomAt,
} from '../src/model/viewport';

const size = fc.double({ min: 1, max: 1e5, noNaN: true });

describe('fitTransform', () => {
  it('shows the whole layout inside the view, centred, never above 1:1', () => {
    fc.assert(
      fc.property(size, size, size, size, (w, h, vw, vh) => {
        const t = fitTransform(w, h, vw, vh);
        expect(t.k).toBeLessThanOrEqual(1);
        if (t.k > MIN_ZOOM) {
          // Unless clamped at the minimum zoom, the layout fits.
          expect(t.x).toBeGreaterThanOrEqual(-1e-6);
          expect(t.y).toBeGreaterThanOrEqual(-1e-6);
          expect(t.x + w * t.k).toBeLessThanOrEqual(vw + 1e-6);
          expect(t.y + h * t.k).toBeLessThanOrEqual(vh + 1e-6);
        }
        expect(t.x + (w * t.k) / 2).toBeCloseTo(vw / 2);
        expect(t.y + (h * t.k) / 2).toBeCloseTo(vh / 2);
      }),
    );
  });
});

describe('zoomAt', () => {
  it('keeps the graph point under the pointer fixed and the zoom within bounds', () => {
    const num = fc.double({ min: -1e4, max: 1e4, noNaN: true });
    fc.assert(
      fc.property(
        num,
        num,
        fc.double({ min: MIN_ZOOM, max: MAX_ZOOM, noNaN: true }),
        fc.double({ min: 0.01, max: 100, noNaN: true }),
        num,
        num,
        (x, y, k, factor, px, py) => {
          const t = zoomAt({ x, y, k }, factor, px, py);
          expect(t.k).toBeGreaterThanOrEqual(MIN_ZOOM);
          expect(t.k).toBeLessThanOrEqual(MAX_ZOOM);
          // The graph point under (px, py) before and after.
          expect((px - t.x) / t.k).toBeCloseTo((px - x) / k, 6);
          expect((py - t.y) / t.k).toBeCloseTo((py - y) / k, 6);
        },
      ),
    );
  });
});

describe('readableTransform', () => {
  it('is 1:1, centred when the layout fits, else from the left edge and the first column’s top', () => {
    expect(readableTransform(400, 300, 1000, 600)).toEqual({ x: 300, y: 150, k: 1 });
    expect(readableTransform(3000, 2000, 1000, 600, 760)).toEqual({ x: 16, y: 16 - 760, k: 1 });
  });
});

describe('revealTransform', () => {
  it('moves the view just enough to show a box, and not at all when it is shown', () => {
    const t = { x: 0, y: 0, k: 1 };
    expect(revealTransform(t, 100, 100, 50, 50, 800, 600)).toEqual(t);
    const moved = revealTransform(t, 1000, 700, 50, 50, 800, 600);
    expect(1000 + moved.x + 50).toBeLessThanOrEqual(800);
    expect(700 + moved.y + 50).toBeLessThanOrEqual(600);
  });
});
