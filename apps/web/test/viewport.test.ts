import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fitTransform, MAX_ZOOM, MIN_ZOOM, zoomAt } from '../src/model/viewport';

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
