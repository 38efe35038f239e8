/**
 * The graph's pan and zoom as one transform (screen = graph × k + (x, y)), and the two ways it
 * changes: fitting the whole layout into the view, and zooming about a point under the pointer.
 */

export interface ViewTransform {
  x: number;
  y: number;
  k: number;
}

export const MIN_ZOOM = 0.05;
export const MAX_ZOOM = 2;
/** Below this zoom a box's fields are unreadable, so they are not drawn (level of detail). */
export const DETAIL_ZOOM = 0.45;

function clampZoom(k: number): number {
  return Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, k));
}

/**
 * The transform that shows a `width` × `height` layout whole and centred in a `viewW` × `viewH` view,
 * with `padding` (a fraction of the view) on every side; never magnified beyond 1:1, so a small
 * state keeps readable boxes instead of filling the screen.
 */
export function fitTransform(
  width: number,
  height: number,
  viewW: number,
  viewH: number,
  padding = 0.08,
): ViewTransform {
  if (width <= 0 || height <= 0 || viewW <= 0 || viewH <= 0) return { x: 0, y: 0, k: 1 };
  const k = clampZoom(Math.min(1, (viewW * (1 - 2 * padding)) / width, (viewH * (1 - 2 * padding)) / height));
  return { x: (viewW - width * k) / 2, y: (viewH - height * k) / 2, k };
}

/** Zoom by `factor` keeping the graph point under the screen point (`px`, `py`) where it is. */
export function zoomAt(t: ViewTransform, factor: number, px: number, py: number): ViewTransform {
  const k = clampZoom(t.k * factor);
  const f = k / t.k;
  return { x: px - (px - t.x) * f, y: py - (py - t.y) * f, k };
}
