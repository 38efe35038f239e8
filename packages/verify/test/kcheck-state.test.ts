/**
 * The helper leaves the machine as it found it, however it ends: KSM and THP sysfs values, its
 * temp folders, and the rmap_items and stable nodes of its processes in the kernel. It is killed
 * with SIGKILL at random points (alone, or with its whole process group), and the next run must
 * restore what the dead one changed; SIGTERM, SIGINT or SIGHUP at random points, and its own
 * cleanup must; runs that overlap wait for each other or are refused; a journal from an earlier
 * boot restores nothing. Root only: skipped, with the reason printed, where the kernel cannot be
 * used.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureHelper, generateScenario, KernelUnavailable, runOnKernel } from '../src/index.js';
import { kernelUnavailable } from './kernel-available.js';

const reason = kernelUnavailable('helper state tests');

/** The helper's lock and journal (kernel-check/README.md, "One run at a time"). */
const STATE_DIR = '/run/rmaplab-kcheck';
const STATE_FILE = `${STATE_DIR}/state`;
const LOCK_FILE = `${STATE_DIR}/lock`;
const MM = '/sys/kernel/mm/';
const KSM_TUNABLES = ['run', 'pages_to_scan', 'sleep_millisecs', 'smart_scan', 'advisor_mode'].map(
  (k) => `ksm/${k}`,
);
/** pages_volatile is ksm_rmap_items minus the other three: together they count every rmap_item. */
const ITEM_COUNTERS = ['pages_shared', 'pages_sharing', 'pages_unshared', 'pages_volatile'];
const KSM_ITEMS = ITEM_COUNTERS.map((k) => `${MM}ksm/${k}`);

function readValue(file: string): string {
  const v = readFileSync(`${MM}${file}`, 'utf8').trim();
  return /\[([^\]]*)\]/.exec(v)?.[1] ?? v;
}

/**
 * THP files the tests change through `--sysfs` (the mechanism a `set thp` will use), to values
 * that touch no one else: khugepaged's scan rate, and the smallest mTHP size's `enabled` moved
 * between `never` and `madvise` (only MADV_HUGEPAGE regions would see it).
 */
function thpChanges(): Record<string, string> {
  const out: Record<string, string> = {};
  const scan = 'transparent_hugepage/khugepaged/pages_to_scan';
  if (existsSync(`${MM}${scan}`))
    out[scan] = String(Number(readValue(scan)) === 1 ? 2 : Number(readValue(scan)) - 1);
  const sizes = existsSync(`${MM}transparent_hugepage`)
    ? readdirSync(`${MM}transparent_hugepage`).filter(
        (d) => /^hugepages-\d+kB$/.test(d) && existsSync(`${MM}transparent_hugepage/${d}/enabled`),
      )
    : [];
  sizes.sort((a, b) => Number.parseInt(a.slice(10), 10) - Number.parseInt(b.slice(10), 10));
  if (sizes[0]) {
    const enabled = `transparent_hugepage/${sizes[0]}/enabled`;
    out[enabled] = readValue(enabled) === 'madvise' ? 'never' : 'madvise';
  }
  return out;
}

/** Every value a run may change. */
function snapshot(files: readonly string[]): Record<string, string> {
  return Object.fromEntries(files.filter((f) => existsSync(`${MM}${f}`)).map((f) => [f, readValue(f)]));
}

/**
 * The kernel's rmap_items, read while holding the helper's lock (flock(1)), so that no run of the
 * helper is between its first merge and its cleanup; without flock(1), read as they are.
 */
function ksmItems(): number {
  const r = spawnSync('flock', [LOCK_FILE, 'cat', ...KSM_ITEMS], { encoding: 'utf8' });
  const text = r.status === 0 ? r.stdout : KSM_ITEMS.map((f) => readFileSync(f, 'utf8')).join('\n');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .reduce((n, l) => n + Number(l), 0);
}

// ksmd runs (under the lock) until a pass has ended or no rmap_item is left: the pass frees the
// mms of processes that exited, which a helper from before the lock may have left behind.
const SETTLE = `cd ${MM}ksm
r=$(cat run) p=$(cat pages_to_scan) s=$(cat sleep_millisecs) f=$(cat full_scans)
trap 'echo $p > pages_to_scan; echo $s > sleep_millisecs; echo $r > run' EXIT
echo 10000 > pages_to_scan; echo 5 > sleep_millisecs; echo 1 > run
i=0
while [ "$(cat full_scans)" = "$f" ] && [ $((${ITEM_COUNTERS.map((k) => `$(cat ${k})`).join(' + ')})) -gt 0 ] && [ $i -lt 500 ]
do sleep 0.01; i=$((i + 1)); done`;

/**
 * The rmap_items before a test, with what dead processes left freed first, so that what a run
 * leaves behind shows. Without flock(1), the count as it is.
 */
function ksmBaseline(): number {
  spawnSync('flock', [LOCK_FILE, 'sh', '-c', SETTLE]);
  return ksmItems();
}

/**
 * rmaplab-kcheck processes built from another source than this one (a helper from before the
 * lock, say in another checkout): they may merge and leave KSM state while these tests measure.
 */
function foreignHelpers(helper: string): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/comm`, 'utf8').trim() !== 'rmaplab-kcheck') continue;
      if (readlinkSync(`/proc/${d}/exe`) !== realpathSync(helper)) pids.push(Number(d));
    } catch {
      // the process is gone
    }
  }
  return pids;
}

/** Collects, while a test runs, the helpers of other builds that run meanwhile. */
function watchForeign(helper: string): { seen(): number[]; stop(): void } {
  const pids = new Set<number>();
  const look = () => {
    for (const pid of foreignHelpers(helper)) pids.add(pid);
  };
  look();
  const timer = setInterval(look, 20);
  return {
    seen: () => {
      look();
      return [...pids];
    },
    stop: () => clearInterval(timer),
  };
}

/** Left-over temp folders in `base`. */
function tempFolders(base: string): string[] {
  return readdirSync(base).filter((f) => f.startsWith('rmaplab-kcheck.'));
}

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

function exited(child: ChildProcess): Promise<void> {
  return new Promise((res) => {
    if (child.exitCode !== null || child.signalCode !== null) res();
    else child.on('close', () => res());
  });
}

/** SIGKILL to the helper's process group, if it has not ended already. */
function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}

/** A helper that does not end within 30 s of its signal hangs: it is killed, and that fails. */
async function endsAfterSignal(child: ChildProcess): Promise<void> {
  const hung = await Promise.race([exited(child).then(() => false), sleep(30_000).then(() => true)]);
  if (!hung) return;
  if (child.pid !== undefined) killGroup(child.pid);
  await exited(child);
  throw new Error('the helper did not end within 30 s of the signal');
}

/** Start the helper as the leader of its own process group. */
function start(helper: string, args: string[], text: string): ChildProcess {
  const child = spawn(helper, [...args, '-'], { detached: true, stdio: ['pipe', 'ignore', 'pipe'] });
  child.stderr?.resume();
  child.stdin?.end(text);
  return child;
}

/** Until the helper holds the lock (it writes its pid into the lock file once it has it). */
async function holdsLock(pid: number): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (existsSync(LOCK_FILE) && Number(readFileSync(LOCK_FILE, 'utf8')) === pid) return;
    await sleep(5);
  }
  throw new Error(`pid ${pid} never took ${LOCK_FILE}`);
}

// Two processes merge identical pages and fork a chain of children (a signal may come while
// one is being created); a file region gives the run a temp folder.
const KSM_SCENARIO = `spawn A
spawn B
A: mmap m 8 anon private
B: mmap m 8 anon private
A: mmap f 4 file:data private
A: read f 0..3
A: write m 0..7 same
B: write m 0..7 same
A: madvise m mergeable
B: madvise m mergeable
ksm
A: fork C
C: fork D
B: fork E
E: fork F
spawn G
observe
B: write m 2 other
C: write m 3 other
D: exit
ksm
observe
`;

describe.skipIf(reason !== null)('the helper leaves the machine as it found it', () => {
  let helper = '';
  let base = '';
  let thp: Record<string, string> = {};
  let files: string[] = [];
  beforeAll(() => {
    helper = ensureHelper();
    base = mkdtempSync('/var/tmp/rmaplab-kcheck-test-');
    thp = thpChanges();
    files = [...KSM_TUNABLES, ...Object.keys(thp)];
  });
  afterAll(() => {
    if (base) rmSync(base, { recursive: true, force: true });
  });
  const sysfsArgs = () => Object.entries(thp).flatMap(([f, v]) => ['--sysfs', `${f}=${v}`]);

  interface Baseline {
    values: Record<string, string>;
    items: number;
    foreign: ReturnType<typeof watchForeign>;
  }

  /**
   * What a run is compared with afterwards, taken once no helper of another build runs (waiting
   * up to two seconds for one to finish).
   */
  async function baseline(): Promise<Baseline> {
    for (let i = 0; i < 20 && foreignHelpers(helper).length > 0; i++) await sleep(100);
    const foreign = watchForeign(helper);
    return { values: snapshot(files), items: ksmBaseline(), foreign };
  }

  /**
   * After a run: its values back, no state file, no temp folder, no rmap_item left behind. A
   * helper of another build that ran meanwhile changes KSM's values and counters too: then only
   * the THP values are compared.
   */
  function expectRestored(b: Baseline): void {
    const foreign = b.foreign.seen();
    b.foreign.stop();
    expect(existsSync(STATE_FILE), `${STATE_FILE} left behind`).toBe(false);
    expect(tempFolders(base)).toEqual([]);
    const now = snapshot(files);
    if (foreign.length === 0) {
      expect(now).toEqual(b.values);
      expect(ksmItems(), 'rmap_items left in the kernel').toBeLessThanOrEqual(b.items);
      return;
    }
    console.log(
      `KSM values and counters not compared: other rmaplab-kcheck builds ran (pids ${foreign.join(' ')})`,
    );
    const thpOnly = (v: Record<string, string>) =>
      Object.fromEntries(Object.entries(v).filter(([f]) => f in thp));
    expect(thpOnly(now)).toEqual(thpOnly(b.values));
  }

  it('restores what a run killed with SIGKILL at a random point changed', { timeout: 120_000 }, async () => {
    // How long a whole run takes here, so that the kill points cover all of it.
    const t0 = Date.now();
    const clean = await runOnKernel(KSM_SCENARIO, { helper, tmpdir: base });
    expect(clean.error).toBeUndefined();
    const span = Math.max(50, Math.ceil((Date.now() - t0) * 1.2));
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: span }), fc.boolean(), async (delay, group) => {
        const b = await baseline();
        const child = start(helper, ['--tmpdir', base, ...sysfsArgs()], KSM_SCENARIO);
        await sleep(delay);
        if (child.pid === undefined) throw new Error('the helper did not start');
        if (group) killGroup(child.pid);
        else child.kill('SIGKILL');
        await exited(child);
        const died = existsSync(STATE_FILE);
        // The next run, of a scenario that changes nothing itself, puts everything back first.
        const next = await runOnKernel('spawn A\nA: mmap a 1 anon private\nobserve\n', {
          helper,
          tmpdir: base,
        });
        expect(next.error).toBeUndefined();
        expect(next.notes.some((n) => /ended without cleaning up: restoring/.test(n))).toBe(died);
        expectRestored(b);
      }),
      { numRuns: 12, seed: 1405, endOnFailure: true },
    );
  });

  it('restores and cleans up on SIGTERM, SIGINT or SIGHUP at a random point', {
    timeout: 120_000,
  }, async () => {
    const t0 = Date.now();
    expect((await runOnKernel(KSM_SCENARIO, { helper, tmpdir: base })).error).toBeUndefined();
    const span = Math.max(50, Math.ceil((Date.now() - t0) * 1.2));
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: span }),
        fc.constantFrom('SIGTERM', 'SIGINT', 'SIGHUP'),
        async (delay, signal: NodeJS.Signals) => {
          const b = await baseline();
          const child = start(helper, ['--tmpdir', base, ...sysfsArgs()], KSM_SCENARIO);
          await sleep(delay);
          child.kill(signal);
          await endsAfterSignal(child);
          // It dies of the signal, unless it had finished before the signal came.
          expect([signal, 'exit 0']).toContain(child.signalCode ?? `exit ${child.exitCode}`);
          expectRestored(b);
        },
      ),
      { numRuns: 12, seed: 1406, endOnFailure: true },
    );
  });

  it('lets ksmd free the rmap_items of the processes it kills on SIGTERM', async () => {
    const b = await baseline();
    const child = start(
      helper,
      ['--tmpdir', base, ...sysfsArgs()],
      `${KSM_SCENARIO}${'observe\n'.repeat(5000)}`,
    );
    // Between `ksm` statements: pages merged, ksmd stopped, so only the helper's cleanup can let
    // ksmd free the rmap_items of the processes it kills.
    const between = () =>
      existsSync(STATE_FILE) &&
      /^ksm 1$/m.test(readFileSync(STATE_FILE, 'utf8')) &&
      readValue('ksm/run') === '0' &&
      Number(readValue('ksm/pages_sharing')) > 0;
    for (let i = 0; i < 2000 && !between(); i++) await sleep(5);
    child.kill('SIGTERM');
    await endsAfterSignal(child);
    expect(child.signalCode).toBe('SIGTERM');
    expectRestored(b);
  });

  it('removes the temp folders of dead runs, never through a symlink', async () => {
    const dead = join(base, 'rmaplab-kcheck.99999999.aB3dE6'); // no such pid
    mkdirSync(dead);
    writeFileSync(join(dead, 'f0'), 'x');
    const outside = mkdtempSync(join(base, 'outside-'));
    writeFileSync(join(outside, 'keep'), 'x');
    const link = join(base, 'rmaplab-kcheck.1.zZ9yY8');
    symlinkSync(outside, link);
    const legacy = join(base, 'rmaplab-kcheck.Q1w2E3'); // the name helpers before the lock used
    mkdirSync(legacy);
    try {
      const run = await runOnKernel('spawn A\nobserve\n', { helper, tmpdir: base });
      expect(run.notes).toContain(`removed ${dead}, the temp folder of a run that died`);
      expect(existsSync(dead)).toBe(false);
      expect(readFileSync(join(outside, 'keep'), 'utf8')).toBe('x');
      expect(existsSync(link)).toBe(true);
      // A helper from before the lock may be using its folder while it runs: while any other
      // rmaplab-kcheck process runs (another test's, of this build or another), it is kept, and said.
      const kept = run.notes.find((n) => n.startsWith(`kept ${legacy}: rmaplab-kcheck pid `));
      expect(existsSync(legacy)).toBe(kept !== undefined);
    } finally {
      rmSync(link, { force: true });
      rmSync(outside, { recursive: true, force: true });
      rmSync(legacy, { recursive: true, force: true });
    }
  });

  it('restores nothing from a state file written before the machine restarted', async () => {
    // A run killed in an earlier boot: the kernel has started with its own settings since.
    const file = Object.keys(thp)[0] ?? 'ksm/pages_to_scan';
    const before = readValue(file);
    const stale = join(base, 'rmaplab-kcheck.99999998.zX1cV2');
    mkdirSync(stale);
    const state = `rmaplab-kcheck state 1\npid 99999998\nboot not-this-boot\nksm 1\ntmpdir ${stale}\nset ${MM}${file} 1234\n`;
    // Under the lock (flock(1)), so that no running helper's own journal is overwritten.
    mkdirSync(STATE_DIR, { recursive: true, mode: 0o700 });
    const wrote = spawnSync('flock', [LOCK_FILE, 'sh', '-c', 'cat > "$0"', STATE_FILE], { input: state });
    if (wrote.status !== 0) {
      rmSync(stale, { recursive: true });
      console.log(`skipped: cannot write ${STATE_FILE} under the lock (flock(1) missing?)`);
      return;
    }
    try {
      const run = await runOnKernel('spawn A\nobserve\n', { helper, tmpdir: base });
      expect(run.notes).toContain(
        'a run (pid 99999998) ended without cleaning up before the machine restarted: nothing to restore',
      );
      expect(readValue(file)).toBe(before);
      expect(existsSync(STATE_FILE)).toBe(false);
      expect(existsSync(stale)).toBe(false);
    } finally {
      if (readValue(file) !== before) writeFileSync(`${MM}${file}`, before);
    }
  });

  it('runs one at a time: a second run waits, or is refused with --wait 0', { timeout: 60_000 }, async () => {
    const b = await baseline();
    const first = start(
      helper,
      ['--tmpdir', base, ...sysfsArgs()],
      `${KSM_SCENARIO}${'observe\n'.repeat(20000)}`,
    );
    if (first.pid === undefined) throw new Error('the helper did not start');
    await holdsLock(first.pid);
    const refused = await runOnKernel(KSM_SCENARIO, { helper, tmpdir: base, lockWait: 0 }).catch((e) => e);
    expect(refused).toBeInstanceOf(KernelUnavailable);
    expect((refused as KernelUnavailable).reason).toBe('busy');
    expect((refused as Error).message).toMatch(
      new RegExp(`another rmaplab-kcheck run \\(pid ${first.pid}\\)`),
    );
    let firstDone = 0;
    void exited(first).then(() => {
      firstDone = Date.now();
    });
    const waited = await runOnKernel(KSM_SCENARIO, { helper, tmpdir: base, lockWait: 60 });
    const secondDone = Date.now();
    expect(waited.error).toBeUndefined();
    expect(waited.notes.some((n) => n.startsWith(`waiting up to 60 s for the run of pid ${first.pid}`))).toBe(
      true,
    );
    expect(firstDone).toBeGreaterThan(0);
    expect(firstDone).toBeLessThanOrEqual(secondDone);
    expectRestored(b);
  });

  it('does not wait for KSM scans once no live process has a mergeable VMA (seed 435)', async () => {
    // madvise mergeable, then the whole region unmapped: ksmd drops the mm and stops scanning.
    const text = generateScenario(435, { ksm: true });
    expect(text).toMatch(/mergeable[\s\S]*munmap r0 0 3[\s\S]*munmap r0 3 1\nksm\n/);
    // A wait for scans would end in "ksm: no fixed point after 5 s".
    const run = await runOnKernel(text, { helper, tmpdir: base, ksmTimeout: 5 });
    expect(run.error).toBeUndefined();
  });
});
