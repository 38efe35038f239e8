/**
 * Windowing for long lists: only the rows inside the scrolled view (and a few beyond) are rendered,
 * so a 327,687-event statement or a 65,536-row observation costs what one screenful costs. Rows have
 * one fixed height; the list keeps its full height with spacers above and below the rendered rows.
 */
import { type RefObject, useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';

const OVERSCAN = 8;
/** The height assumed before the first measurement (and in jsdom, which measures nothing). */
const DEFAULT_VIEW = 480;

export interface Window {
  first: number;
  /** One past the last rendered row. */
  last: number;
  /** Spacer heights above and below. */
  before: number;
  after: number;
}

export function useVirtual(
  ref: RefObject<HTMLElement | null>,
  count: number,
  rowHeight: number,
  /** A row to keep in view (the cursor), or -1. */
  keepInView = -1,
): Window {
  const [top, setTop] = useState(0);
  const [view, setView] = useState(DEFAULT_VIEW);
  const measure = useCallback(() => {
    const el = ref.current;
    if (!el) return;
    setTop(el.scrollTop);
    if (el.clientHeight > 0) setView(el.clientHeight);
  }, [ref]);
  // The list element can be replaced (a statement without events shows none): follow it, every render.
  const attached = useRef<{ el: HTMLElement; detach: () => void } | null>(null);
  useLayoutEffect(() => {
    const el = ref.current;
    if (attached.current?.el === el) return;
    attached.current?.detach();
    attached.current = null;
    if (!el) return;
    measure();
    el.addEventListener('scroll', measure, { passive: true });
    const ro = typeof ResizeObserver === 'undefined' ? null : new ResizeObserver(measure);
    ro?.observe(el);
    attached.current = {
      el,
      detach: () => {
        el.removeEventListener('scroll', measure);
        ro?.disconnect();
      },
    };
  });
  useEffect(() => () => attached.current?.detach(), []);
  useEffect(() => {
    const el = ref.current;
    if (!el || keepInView < 0 || keepInView >= count) return;
    const y = keepInView * rowHeight;
    if (y < el.scrollTop) el.scrollTop = y;
    else if (y + rowHeight > el.scrollTop + el.clientHeight && el.clientHeight > 0)
      el.scrollTop = y + rowHeight - el.clientHeight;
  }, [ref, keepInView, rowHeight, count]);
  const first = Math.max(0, Math.min(count, Math.floor(top / rowHeight) - OVERSCAN));
  const last = Math.min(count, Math.ceil((top + view) / rowHeight) + OVERSCAN);
  return { first, last, before: first * rowHeight, after: (count - last) * rowHeight };
}

const PAGE = 256;

/**
 * Rows of a list held elsewhere (the session worker), fetched a page at a time as the window moves.
 * `full` short-circuits it when the rows are already here. `key` names the list: a new key drops the pages.
 */
export function usePagedRows<T>(
  key: string,
  full: readonly T[] | null,
  fetch: (from: number, to: number) => Promise<T[]>,
  win: Window,
): (i: number) => T | undefined {
  const store = useRef<{ key: string; map: Map<number, T[] | null> }>({ key, map: new Map() });
  if (store.current.key !== key) store.current = { key, map: new Map() };
  const [, bump] = useState(0);
  useEffect(() => {
    const mine = store.current;
    if (full || mine.key !== key) return;
    for (let p = Math.floor(win.first / PAGE); p * PAGE < win.last; p++) {
      if (mine.map.has(p)) continue;
      mine.map.set(p, null);
      fetch(p * PAGE, (p + 1) * PAGE).then(
        (rows) => {
          mine.map.set(p, rows);
          if (store.current === mine) bump((n) => n + 1);
        },
        () => mine.map.delete(p),
      );
    }
  }, [key, full, fetch, win.first, win.last]);
  const map = store.current.map;
  return (i) => (full ? full[i] : (map.get(Math.floor(i / PAGE)) ?? undefined)?.[i % PAGE]);
}
