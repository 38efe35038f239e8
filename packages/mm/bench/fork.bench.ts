/**
 * fork, COW and munmap of a process with 262,144 touched private anonymous pages (1 GiB), in ns per
 * page: the model, and beside it the real kernel of this machine doing the same thing
 * (native/fork-bench.c, built here with the system `cc`).
 *
 * One round: mmap + write every page; fork (timed); the child writes every page (COW, timed) and
 * exits; the parent munmaps the region (timed). Warm-up rounds, then the median of --rounds.
 *
 *   pnpm bench [--pages 262144] [--rounds 7]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MmSystem, PAGE_SIZE, sysExit, sysFork, sysMunmap, userAccess } from '../src/index.js';
import { gc, mapAndWrite, median, now, nsPer, numArg, table } from './util.js';

const pages = numArg('pages', 262_144);
const rounds = numArg('rounds', 7);

type Figures = [fork: number, cow: number, munmap: number];

function modelRound(): Figures {
  const sys = new MmSystem();
  const parent = sys.newMm('parent');
  const start = mapAndWrite(sys, parent, pages);
  gc();
  let t = now();
  const child = sysFork(sys, parent, 'child');
  const fork = nsPer(t, pages);
  gc();
  t = now();
  for (let i = 0; i < pages; i++) userAccess(sys, child, start + i * PAGE_SIZE, true);
  const cow = nsPer(t, pages);
  sysExit(sys, child);
  gc();
  t = now();
  sysMunmap(sys, parent, start, pages * PAGE_SIZE);
  const munmap = nsPer(t, pages);
  if (sys.mem.allocated !== 0) throw new Error('the benchmark leaked pages');
  return [fork, cow, munmap];
}

function modelFigures(): Figures {
  // Two warm-up rounds: the first fork runs before copy_page_range is optimised.
  modelRound();
  modelRound();
  const all: Figures[] = [];
  for (let r = 0; r < rounds; r++) all.push(modelRound());
  return [0, 1, 2].map((k) => median(all.map((f) => f[k]))) as Figures;
}

/** Build (when stale) and run the C program; null when there is no compiler or it fails. */
function kernelFigures(): Figures | null {
  const src = fileURLToPath(new URL('native/fork-bench.c', import.meta.url));
  const dir = fileURLToPath(new URL('native/build/', import.meta.url));
  const bin = `${dir}fork-bench`;
  try {
    if (!existsSync(bin) || statSync(bin).mtimeMs < statSync(src).mtimeMs) {
      mkdirSync(dir, { recursive: true });
      execFileSync('cc', ['-O2', '-Wall', '-o', bin, src], { stdio: 'inherit' });
    }
    const out = execFileSync(bin, [String(pages), String(rounds)], { encoding: 'utf8' });
    const f = out.trim().split(/\s+/).map(Number);
    if (f.length !== 3 || f.some((x) => !Number.isFinite(x))) throw new Error(`unexpected output: ${out}`);
    return f as Figures;
  } catch (e) {
    console.error(`native benchmark unavailable: ${(e as Error).message}`);
    return null;
  }
}

const model = modelFigures();
const kernel = kernelFigures();
const names = ['fork', 'COW write fault', 'munmap'];
const targets = ['≤ 2×', '—', '≤ 2×'];
const rows: (string | number)[][] = [['ns per page', 'model', 'kernel', 'model/kernel', 'target']];
for (let k = 0; k < 3; k++)
  rows.push([
    names[k],
    model[k],
    kernel ? kernel[k] : 'n/a',
    kernel ? `${(model[k] / kernel[k]).toFixed(2)}×` : 'n/a',
    targets[k],
  ]);
console.log(
  `${pages.toLocaleString('en-US')} touched private anonymous pages, median of ${rounds} rounds after warm-up`,
);
console.log(table(rows));
