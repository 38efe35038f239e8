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

/** Margin around the layout in the default view, in screen pixels. */
const START_MARGIN = 16;

/**
 * The first view of a scenario: 1:1, where every text is at its CSS size (≥ 11 px), centred when
 * the layout fits and otherwise from its left edge and the top of its first column (`startY`: the
 * processes, where a reader starts), to be panned; "fit" shows it all.
 */
export function readableTransform(
  width: number,
  height: number,
  viewW: number,
  viewH: number,
  startY = 0,
): ViewTransform {
  const x = width + 2 * START_MARGIN <= viewW ? (viewW - width) / 2 : START_MARGIN;
  const y = height + 2 * START_MARGIN <= viewH ? (viewH - height) / 2 : START_MARGIN - startY;
  return { x, y, k: 1 };
}

/** The transform moved as little as possible to bring a `w` × `h` box at (bx, by) into the view. */
export function revealTransform(
  t: ViewTransform,
  bx: number,
  by: number,
  w: number,
  h: number,
  viewW: number,
  viewH: number,
): ViewTransform {
  const left = t.x + bx * t.k;
  const top = t.y + by * t.k;
  const right = left + w * t.k;
  const bottom = top + h * t.k;
  let dx = 0;
  let dy = 0;
  if (left < START_MARGIN) dx = START_MARGIN - left;
  else if (right > viewW - START_MARGIN) dx = Math.max(START_MARGIN - left, viewW - START_MARGIN - right);
  if (top < START_MARGIN) dy = START_MARGIN - top;
  else if (bottom > viewH - START_MARGIN) dy = Math.max(START_MARGIN - top, viewH - START_MARGIN - bottom);
  return { x: t.x + dx, y: t.y + dy, k: t.k };
}
