/**
 * A port of the kernel's lib/interval_tree_test.c benchmark (same parameters, same PRNG, same data),
 * run side by side, in one process and on the same data, against two npm interval trees:
 * @flatten-js/interval-tree (augmented red-black tree) and node-interval-tree (augmented AVL tree).
 *
 *   pnpm bench                       # defaults: 100,000 nodes
 *   pnpm bench --nnodes 1000 --perf-loops 100 --search-all
 *
 * Phases, as in the kernel: (1) perf_loops x (insert all nodes in array order, then remove all in
 * array order), (2) insert all once, then search_loops x nsearches stabbing queries [q, q] counting
 * the hits. Plus: bytes per node (JS heap plus typed-array storage), and a "fork storm" (many
 * identical ranges, as after a burst of forks) built with insertAfter (ours only) and with plain insert.
 */
import * as os from 'node:os';
import FlattenIntervalTree from '@flatten-js/interval-tree';
import * as nitModule from 'node-interval-tree';
import { type IntervalNode, IntervalTree } from '../src/index.js';
import { type BenchParams, parseArgs } from './args.js';
import { kernelTestData } from './data.js';

// node-interval-tree is CommonJS; depending on the loader its default export arrives wrapped once more.
type NitCtor = typeof nitModule.default;
const nitDefault = nitModule as unknown as { default: NitCtor | { default: NitCtor } };
const NodeIntervalTree: NitCtor =
  typeof nitDefault.default === 'function' ? nitDefault.default : nitDefault.default.default;

const gc: () => void =
  typeof globalThis.gc === 'function'
    ? (globalThis.gc as () => void)
    : () => {
        throw new Error('run with --expose-gc (pnpm bench does) to measure heap per node');
      };

/** Collect garbage between phases (when exposed), so one phase's garbage is not billed to the next. */
const settle = () => {
  if (typeof globalThis.gc === 'function') globalThis.gc();
};
const now = () => process.hrtime.bigint();
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Keeps results reachable so nothing is optimised away. */
let sink = 0;

// -------------------------------------------------------------------------------------------------
// Data, shared by all libraries. Plain arrays of small integers (Smis), as a caller would have them.

interface Data {
  starts: number[];
  lasts: number[];
  queries: number[];
  /** [lo, hi] pairs for flatten, preallocated outside the timed regions */
  pairs: [number, number][];
  queryPairs: [number, number][];
  /** query k is [qStart[k], qLast[k]] */
  qStart: number[];
  qLast: number[];
  expectedHits: number[];
}

function makeData(p: BenchParams): Data {
  const { starts, lasts, queries } = kernelTestData(p.nnodes, p.nsearches, p.max_endpoint, p.seed);
  const qStart = queries.map((q) => (p.search_all ? 0 : q));
  const qLast = queries.map((q) => (p.search_all ? p.max_endpoint : q));
  const expectedHits = qStart.map((s, k) => {
    let c = 0;
    for (let i = 0; i < starts.length; i++) if (starts[i] <= qLast[k] && s <= lasts[i]) c++;
    return c;
  });
  return {
    starts,
    lasts,
    queries,
    pairs: starts.map((s, i) => [s, lasts[i]]),
    queryPairs: qStart.map((s, k) => [s, qLast[k]]),
    qStart,
    qLast,
    expectedHits,
  };
}

interface LibResult {
  lib: string;
  correct: boolean;
  note: string;
  insertNs: number;
  removeNs: number;
  searchNs: number;
  avgHits: number;
  bytesPerNode: number;
  forkInsertAfterNs?: number;
  forkInsertNs: number;
  forkSearchNsPerHit: number;
  forkRemoveNs: number;
}

/** Heap plus typed-array backing stores (which live outside the JS heap), in bytes. */
function memoryInUse(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

function measureHeap(n: number, build: () => unknown): number {
  gc();
  gc();
  const before = memoryInUse();
  const keep = build();
  gc();
  gc();
  const after = memoryInUse();
  sink += keep === null ? 0 : 1;
  return (after - before) / n;
}

// -------------------------------------------------------------------------------------------------
// The libraries, each driven through one interface.

const FORK_START = 1000;
const FORK_LAST = 1999;
const FORK_Q = 1500;

/**
 * One library as the bench drives it. Each method runs a whole pass, so the timed loops make one
 * indirect call per pass, not per operation.
 */
interface Lib<T> {
  lib: string;
  note: string;
  make(): T;
  size(t: T): number;
  insertAll(t: T, d: Data): void;
  removeAll(t: T, d: Data): void;
  /** Hits of every query, summed. */
  searchAll(t: T, d: Data): number;
  /** Hits of query k, for the correctness pass; false if they came in the wrong order. */
  searchOne(t: T, d: Data, k: number): number | false;
  /** The fork storm: `m` values under the one key [FORK_START, FORK_LAST], then a point query at FORK_Q. */
  forkInsert(t: T, m: number): void;
  /** The same storm built as the kernel's fork does it, each child right after its parent (ours only). */
  forkInsertAfter?(t: T, m: number): void;
  forkSearch(t: T): number;
  forkRemove(t: T, m: number): void;
  /** Whether the fork storm gets an untimed warm-up round (not for an O(m^2) one whose code is already hot). */
  forkWarmUp: boolean;
  /** Drops what the bench itself keeps between passes (our handles), so heap measurements see only trees. */
  forget?(): void;
}

// ours: iterFirst/iterNext, as the kernel's callers walk; handles kept for remove().
let ourHandles: IntervalNode<number>[] = [];
const ours: Lib<IntervalTree<number>> = {
  lib: 'ours',
  note: 'iterFirst/iterNext (counts, no allocation)',
  make: () => new IntervalTree<number>(),
  size: (t) => t.size,
  insertAll(t, d) {
    const { starts, lasts } = d;
    if (ourHandles.length !== starts.length) ourHandles = new Array(starts.length).fill(null);
    const h = ourHandles;
    for (let i = 0; i < starts.length; i++) h[i] = t.insert(starts[i], lasts[i], i);
  },
  removeAll(t) {
    const h = ourHandles;
    for (let i = 0; i < h.length; i++) t.remove(h[i]);
  },
  searchAll(t, d) {
    const { qStart, qLast } = d;
    let hits = 0;
    for (let k = 0; k < qStart.length; k++) hits += oursCount(t, qStart[k], qLast[k]);
    return hits;
  },
  searchOne(t, d, k) {
    // Also checks the visit order: ascending start.
    let prev = -1;
    let c = 0;
    for (
      let x = t.iterFirst(d.qStart[k], d.qLast[k]);
      x !== null;
      x = t.iterNext(x, d.qStart[k], d.qLast[k])
    ) {
      if (x.start < prev) return false;
      prev = x.start;
      c++;
    }
    return c;
  },
  forkInsert(t, m) {
    const h = (ourHandles = new Array(m).fill(null));
    for (let i = 0; i < m; i++) h[i] = t.insert(FORK_START, FORK_LAST, i);
  },
  forkInsertAfter(t, m) {
    // One parent forks m - 1 times: each child goes right after the parent (so before older children).
    const h = (ourHandles = new Array(m).fill(null));
    const parent = t.insert(FORK_START, FORK_LAST, 0);
    h[0] = parent;
    for (let i = 1; i < m; i++) h[i] = t.insertAfter(parent, FORK_LAST, i);
  },
  forkSearch: (t) => oursCount(t, FORK_Q, FORK_Q),
  forkRemove(t, m) {
    const h = ourHandles;
    for (let i = 0; i < m; i++) t.remove(h[i]);
  },
  forkWarmUp: true,
  forget() {
    ourHandles.fill(null as unknown as IntervalNode<number>);
  },
};

function oursCount(tree: IntervalTree<number>, s: number, l: number): number {
  let c = 0;
  for (let n = tree.iterFirst(s, l); n !== null; n = tree.iterNext(n, s, l)) c++;
  return c;
}

// @flatten-js/interval-tree: insert([lo, hi], value), remove([lo, hi], value), search([lo, hi]) -> value[].
// Identical keys share one node with a value bucket in flatten 2.x.
const FORK_KEY: [number, number] = [FORK_START, FORK_LAST];
const FORK_POINT: [number, number] = [FORK_Q, FORK_Q];
const flatten: Lib<FlattenIntervalTree<number>> = {
  lib: '@flatten-js/interval-tree',
  note: 'search() returns an array',
  make: () => new FlattenIntervalTree<number>(),
  size: (t) => t.size,
  insertAll(t, d) {
    const { pairs } = d;
    for (let i = 0; i < pairs.length; i++) t.insert(pairs[i], i);
  },
  removeAll(t, d) {
    const { pairs } = d;
    for (let i = 0; i < pairs.length; i++) t.remove(pairs[i], i);
  },
  searchAll(t, d) {
    const { queryPairs } = d;
    let hits = 0;
    for (let k = 0; k < queryPairs.length; k++) hits += t.search(queryPairs[k]).length;
    return hits;
  },
  searchOne: (t, d, k) => t.search(d.queryPairs[k]).length,
  forkInsert(t, m) {
    for (let i = 0; i < m; i++) t.insert(FORK_KEY, i);
  },
  forkSearch: (t) => t.search(FORK_POINT).length,
  forkRemove(t, m) {
    for (let i = 0; i < m; i++) t.remove(FORK_KEY, i);
  },
  forkWarmUp: true,
};

// node-interval-tree: insert(low, high, data), remove(low, high, data), search(low, high) -> data[]

type Nit = InstanceType<NitCtor>;

const nit: Lib<Nit> = {
  lib: 'node-interval-tree',
  note: 'search() returns an array',
  make: () => new NodeIntervalTree(),
  size: (t) => t.count,
  insertAll(t, d) {
    const { starts, lasts } = d;
    for (let i = 0; i < starts.length; i++) t.insert(starts[i], lasts[i], i);
  },
  removeAll(t, d) {
    const { starts, lasts } = d;
    for (let i = 0; i < starts.length; i++) t.remove(starts[i], lasts[i], i);
  },
  searchAll(t, d) {
    const { qStart, qLast } = d;
    let hits = 0;
    for (let k = 0; k < qStart.length; k++) hits += t.search(qStart[k], qLast[k]).length;
    return hits;
  },
  searchOne: (t, d, k) => t.search(d.qStart[k], d.qLast[k]).length,
  forkInsert(t, m) {
    for (let i = 0; i < m; i++) t.insert(FORK_START, FORK_LAST, i);
  },
  forkSearch: (t) => t.search(FORK_Q, FORK_Q).length,
  forkRemove(t, m) {
    for (let i = 0; i < m; i++) t.remove(FORK_START, FORK_LAST, i);
  },
  // Each insert scans the bucket (O(m^2)), and its code is already hot.
  forkWarmUp: false,
};

const LIBS: Record<string, Lib<unknown>> = {
  ours: ours as Lib<unknown>,
  flatten: flatten as Lib<unknown>,
  nit: nit as Lib<unknown>,
};

/** A library's tree and its timings while the phases run. */
interface Run {
  c: Lib<unknown>;
  tree: unknown;
  correct: boolean;
  ins: number[];
  rem: number[];
  srch: number[];
  hits: number;
}

/**
 * The kernel test's phases with the libraries interleaved: every timed round runs each library once,
 * one after the other, so that a slow spell of this shared machine hits them all alike and the
 * ratios stay fair. Then heap per node and the fork storm, one library at a time.
 */
function benchAll(p: BenchParams, d: Data, libs: Lib<unknown>[]): LibResult[] {
  const n = p.nnodes;
  const runs: Run[] = libs.map((c) => ({
    c,
    tree: c.make(),
    correct: true,
    ins: [],
    rem: [],
    srch: [],
    hits: 0,
  }));
  // Correctness pass (also the warm-up): same functions as the timed loops.
  for (const r of runs) {
    const { c, tree } = r;
    c.insertAll(tree, d);
    r.correct = c.size(tree) === n;
    for (let k = 0; k < d.qStart.length; k++) {
      if (c.searchOne(tree, d, k) !== d.expectedHits[k]) r.correct = false;
    }
    sink += c.searchAll(tree, d);
    c.removeAll(tree, d);
    if (c.size(tree) !== 0) r.correct = false;
    r.tree = c.make();
  }
  for (let loop = 0; loop < p.perf_loops; loop++) {
    for (const r of runs) {
      settle();
      const t0 = now();
      r.c.insertAll(r.tree, d);
      const t1 = now();
      r.c.removeAll(r.tree, d);
      const t2 = now();
      r.ins.push(Number(t1 - t0) / n);
      r.rem.push(Number(t2 - t1) / n);
    }
  }
  // Search: every tree filled once, then the query rounds, interleaved.
  for (const r of runs) r.c.insertAll(r.tree, d);
  for (let loop = 0; loop < p.search_loops; loop++) {
    for (const r of runs) {
      settle();
      const t0 = now();
      r.hits = r.c.searchAll(r.tree, d);
      r.srch.push(Number(now() - t0) / p.nsearches);
    }
  }
  for (const r of runs) r.c.removeAll(r.tree, d);
  return runs.map((r) => {
    r.tree = null;
    r.c.forget?.();
    const bytesPerNode = measureHeap(n, () => {
      const t = r.c.make();
      r.c.insertAll(t, d);
      return t;
    });
    return {
      lib: r.c.lib,
      note: r.c.note,
      insertNs: median(r.ins),
      removeNs: median(r.rem),
      searchNs: median(r.srch),
      avgHits: r.hits / p.nsearches,
      bytesPerNode,
      ...forkStorm(p, r),
    };
  });
}

/** The fork storm of one library: insert (and insertAfter, for ours), stab, remove, median of fork_loops rounds. */
function forkStorm(
  p: BenchParams,
  r: Run,
): Pick<LibResult, 'correct' | 'forkInsertAfterNs' | 'forkInsertNs' | 'forkSearchNsPerHit' | 'forkRemoveNs'> {
  const { c } = r;
  const m = p.fork;
  let correct = r.correct;
  if (m === 0) return { correct, forkInsertNs: 0, forkSearchNsPerHit: 0, forkRemoveNs: 0 };
  const after: number[] = [];
  const fi: number[] = [];
  const fs: number[] = [];
  const fr: number[] = [];
  for (let loop = c.forkWarmUp ? -1 : 0; loop < p.fork_loops; loop++) {
    const t = c.make();
    if (c.forkInsertAfter) {
      settle();
      const t0 = now();
      c.forkInsertAfter(t, m);
      if (loop >= 0) after.push(Number(now() - t0) / m);
      if (c.forkSearch(t) !== m) correct = false;
      c.forkRemove(t, m);
    }
    settle();
    let t0 = now();
    c.forkInsert(t, m);
    const tI = Number(now() - t0) / m;
    settle();
    t0 = now();
    const forkHits = c.forkSearch(t);
    const tS = Number(now() - t0) / forkHits;
    settle();
    t0 = now();
    c.forkRemove(t, m);
    const tR = Number(now() - t0) / m;
    if (forkHits !== m || c.size(t) !== 0) correct = false;
    if (loop >= 0) {
      fi.push(tI);
      fs.push(tS);
      fr.push(tR);
    }
  }
  return {
    correct,
    forkInsertAfterNs: c.forkInsertAfter ? median(after) : undefined,
    forkInsertNs: median(fi),
    forkSearchNsPerHit: median(fs),
    forkRemoveNs: median(fr),
  };
}

// -------------------------------------------------------------------------------------------------
// Big endpoints: what a node costs when endpoints exceed 2^31 (page offsets of 48-bit addresses).

function bigEndpointBytes(p: BenchParams, d: Data): number {
  const base = 2 ** 36;
  const starts = d.starts.map((s) => s + base);
  const lasts = d.lasts.map((l) => l + base);
  return measureHeap(p.nnodes, () => {
    const t = new IntervalTree<number>();
    for (let i = 0; i < starts.length; i++) t.insert(starts[i], lasts[i], i);
    return t;
  });
}

// -------------------------------------------------------------------------------------------------

function fmt(x: number, digits = 0): string {
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function main(): void {
  const p = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  const d = makeData(p);
  const results = benchAll(
    p,
    d,
    p.libs.map((lib) => LIBS[lib]),
  );
  const bigBytes = p.libs.includes('ours') ? bigEndpointBytes(p, d) : Number.NaN;
  const elapsed = (Date.now() - t0) / 1000;
  if (p.json) {
    console.log(
      JSON.stringify(
        {
          params: { ...p, seed: String(p.seed) },
          node: process.version,
          results,
          bigEndpointBytes: bigBytes,
        },
        null,
        2,
      ),
    );
    return;
  }
  console.log(
    `interval_tree_test port: nnodes=${p.nnodes} perf_loops=${p.perf_loops} nsearches=${p.nsearches} ` +
      `search_loops=${p.search_loops} search_all=${p.search_all} max_endpoint=${p.max_endpoint} seed=${p.seed}`,
  );
  console.log(`node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'unknown cpu'}`);
  console.log('');
  const ours = results.find((r) => r.lib === 'ours');
  const cell = (r: LibResult, v: number, ov: number | undefined, digits = 0) =>
    r.lib === 'ours' || ov === undefined ? fmt(v, digits) : `${fmt(v, digits)} (${fmt(v / ov, 1)}x)`;
  const rows: [string, (r: LibResult) => string][] = [
    ['correct (hits vs brute force)', (r) => (r.correct ? 'yes' : 'NO')],
    ['insert, ns/op', (r) => cell(r, r.insertNs, ours?.insertNs)],
    ['remove, ns/op', (r) => cell(r, r.removeNs, ours?.removeNs)],
    [
      p.search_all ? 'search [0, max], ns/search' : 'stabbing search, ns/search',
      (r) => cell(r, r.searchNs, ours?.searchNs),
    ],
    ['search: average hits per search', (r) => fmt(r.avgHits, 1)],
    [
      'search: ns per hit',
      (r) =>
        cell(
          r,
          r.searchNs / Math.max(r.avgHits, 1),
          ours ? ours.searchNs / Math.max(ours.avgHits, 1) : undefined,
          2,
        ),
    ],
    [
      `bytes/node, heap + typed arrays (${fmt(p.nnodes)} nodes)`,
      (r) => cell(r, r.bytesPerNode, ours?.bytesPerNode, 1),
    ],
  ];
  if (p.fork > 0) {
    rows.push(
      [
        `fork storm (${fmt(p.fork)} identical): insertAfter, ns/op`,
        (r) => (r.forkInsertAfterNs === undefined ? 'n/a' : fmt(r.forkInsertAfterNs)),
      ],
      ['fork storm: insert, ns/op', (r) => cell(r, r.forkInsertNs, ours?.forkInsertNs)],
      ['fork storm: stab all, ns/hit', (r) => cell(r, r.forkSearchNsPerHit, ours?.forkSearchNsPerHit, 2)],
      ['fork storm: remove, ns/op', (r) => cell(r, r.forkRemoveNs, ours?.forkRemoveNs)],
    );
  }
  const header = ['', ...results.map((r) => r.lib)];
  const body = rows.map(([label, f]) => [label, ...results.map(f)]);
  const widths = header.map((_, c) => Math.max(...[header, ...body].map((row) => row[c].length)));
  const line = (row: string[]) =>
    `| ${row.map((x, c) => (c === 0 ? x.padEnd(widths[c]) : x.padStart(widths[c]))).join(' | ')} |`;
  console.log(line(header));
  console.log(
    // Separator in the style biome's Markdown formatter writes, so the table can be pasted as is.
    `| ${widths.map((w, c) => (c === 0 ? `:${'-'.repeat(w - 1)}` : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`,
  );
  for (const row of body) console.log(line(row));
  console.log('');
  console.log(
    "(x) = that library's time or bytes divided by ours; peers return arrays from search(), ours counts with iterFirst/iterNext.",
  );
  if (Number.isFinite(bigBytes)) {
    console.log(`ours with endpoints >= 2^36: ${fmt(bigBytes, 1)} bytes/node`);
  }
  console.log(`total ${fmt(elapsed, 1)} s${sink < 0 ? ' ' : ''}`);
}

main();
