import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseScenario, ScenarioRunner } from '@rmaplab/scenario';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mapsToScenario, parseMaps, scenarioName } from '../src/commands/maps.js';
import { ROOT, rmaplab } from './helpers.js';

const FIXTURE = 'apps/cli/test/fixtures/cat.maps';

/** Run a scenario to the end; the runner. */
function run(text: string): ScenarioRunner {
  const runner = new ScenarioRunner();
  for (const st of parseScenario(text)) runner.exec(st);
  return runner;
}

describe('rmaplab maps', () => {
  it('turns a saved maps file into a scenario that runs', async () => {
    const r = await rmaplab(['maps', FIXTURE]);
    expect(r.status).toBe(0);
    const text = r.stdout;
    // One region per VMA that user space can create; the original line above it.
    expect(text).toContain(
      '# 5559ad1e1000-5559ad1e3000 r--p 00000000 fe:00 260131                     /usr/bin/cat\nP: mmap cat 2 file:cat private\nP: mprotect cat 0 2 r\n',
    );
    expect(text).toContain('P: mmap cat-5 1 file:cat private\n'); // numbered duplicates, rw- needs no mprotect
    expect(text).toContain('P: mmap heap 33 anon private\n');
    expect(text).toContain('P: mmap stack 33 anon private\n');
    expect(text).toContain('P: mmap libc.so.6 38 file:libc.so.6 private\n');
    expect(text).toContain('P: mmap gconv-modules.cache 7 file:gconv-modules.cache shared\n');
    expect(text).toMatch(/\/dev\/zero \(deleted\)\nP: mmap anon-\d+ 4 anon shared\n/); // shared anonymous
    expect(text).toContain('P: mmap memfd_wayland-shm 2 file:memfd_wayland-shm shared\n');
    expect(text).toContain('P: mmap anon_guard_page 1 anon private\nP: mprotect anon_guard_page 0 1 none\n');
    expect(text).toMatch(/\[vdso\]\n# {3}skipped: the kernel installs this mapping itself\n/);
    expect(text).toMatch(/\[vsyscall\]\n# {3}skipped/);
    const p = run(text).procs.get('P')!;
    // Every VMA but the kernel's own became a region of the same size.
    const entries = parseMaps(readFileSync(join(ROOT, FIXTURE), 'utf8'));
    const userVmas = entries.filter((e) => !/^\[(vdso|vvar|vvar_vclock|vsyscall)\]$/.test(e.path));
    expect(p.regions.size).toBe(userVmas.length);
    expect([...p.regions.values()].map((r) => r.pages)).toEqual(
      userVmas.map((e) => Number((e.end - e.start) / 4096n)),
    );
  });

  it('reads /proc/PID/maps of a live process', async () => {
    const r = await rmaplab(['maps', String(process.pid), '--name', 'node']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`# The layout of /proc/${process.pid}/maps`);
    expect(r.stdout).toMatch(/^spawn node$/m);
    expect(() => parseScenario(r.stdout)).not.toThrow();
  });

  it('a line that is not a maps line is an error at its line and column, status 1', async () => {
    const r = await rmaplab(['maps', '-'], {
      stdin: '00400000-00401000 r-xp 00000000 08:01 1 /bin/x\nhello\n',
    });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      '<stdin>:2:1: error: not a /proc/PID/maps line: expected the start address (hexadecimal) (found "hello")\n',
    );
  });

  const X = '00400000-00401000 r-xp 00000000 08:01 1 /bin/x';
  it.each([
    ['hello', 1, 1, 'expected the start address (hexadecimal) (found "hello")'],
    ['00400000', 1, 9, 'expected "-" between the start and end addresses'],
    ['00400000-00401000', 1, 18, 'expected a blank between fields'],
    ['00402000-00401000 r-xp 00000000 08:01 1', 1, 10, 'the end 0x401000 is not above the start 0x402000'],
    ['00400000-00400000 r-xp 00000000 08:01 1', 1, 10, 'the end 0x400000 is not above the start 0x400000'],
    ['00400010-00401000 r-xp 00000000 08:01 1', 1, 1, 'address 0x400010 is not page-aligned'],
    ['00400000-00401010 r-xp 00000000 08:01 1', 1, 10, 'address 0x401010 is not page-aligned'],
    ['10000000000000000-20000000000000000 r-xp 0 0:0 0', 1, 1, 'has more than 64 bits'],
    ['00400000-00401000 rwzp 00000000 08:01 1', 1, 19, 'expected permissions such as r-xp (found "rwzp")'],
    ['00400000-00401000 r-xp xyz 08:01 1', 1, 24, 'expected the file offset (hexadecimal)'],
    ['00400000-00401000 r-xp 00000000 0801 1', 1, 33, 'expected the device MAJOR:MINOR'],
    ['00400000-00401000 r-xp 00000000 08:01 abc', 1, 39, 'expected the inode number'],
    ['00400000-00401000 r-xp 00000000 08:01 12/bin/x', 1, 41, 'expected a blank between fields'],
    [`${X}\r\n${X}\r\n00400000-\r\n`, 3, 10, 'expected the end address (hexadecimal)'],
    [`${X}\r${X}\rjunk`, 3, 1, 'expected the start address'],
  ])('%j: an error at %i:%i', async (stdin, line, column, message) => {
    const r = await rmaplab(['maps', '-'], { stdin });
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`^<stdin>:${line}:${column}: error: `));
    expect(r.stderr).toContain(message);
    expect(r.stderr.split('\n')).toHaveLength(2);
    expect(r.status).toBe(1);
  });

  it('gives every region its own name of at most 63 characters, [heap] twice and heap-2 included', async () => {
    const long = `/usr/lib/${'l'.repeat(300)}.so`;
    const lines = ['[heap]', '[heap]', '/opt/heap-2', long, long, long].map(
      (path, i) =>
        `${(0x400000 + i * 0x2000).toString(16)}-${(0x401000 + i * 0x2000).toString(16)} rw-p 0 0:0 0 ${path}`,
    );
    const r = await rmaplab(['maps', '-'], { stdin: lines.join('\n') });
    expect(r.status).toBe(0);
    const names = [...r.stdout.matchAll(/^P: mmap (\S+) /gm)].map((m) => m[1]);
    expect(names.slice(0, 3)).toEqual(['heap', 'heap-2', 'heap-2-2']);
    expect(new Set(names).size).toBe(6);
    for (const n of names) expect(n.length).toBeLessThanOrEqual(63);
    expect(names[5]).toBe(`${'l'.repeat(61)}-3`);
    const runs = await rmaplab(['run', '-'], { stdin: r.stdout });
    expect(runs.stderr).toBe('');
    expect(runs.status).toBe(0);
  });

  it('any maps text, well-formed or not: an error at its line and column, or a scenario that runs', async () => {
    const hex = (n: bigint) => n.toString(16);
    const page = fc.bigInt({ min: 0n, max: (1n << 36n) - 1n }).map((p) => p * 4096n);
    const path = fc.oneof(
      fc.constantFrom(
        '',
        '[heap]',
        '[stack]',
        '[vdso]',
        '[anon:jit]',
        '/dev/zero (deleted)',
        '/x/heap',
        '/x/a b (deleted)',
      ),
      fc.string({ maxLength: 80 }).map((t) => `/${t.replace(/[\r\n]/g, '')}`),
    );
    const good = fc
      .record({
        start: page,
        pages: fc.oneof(
          { arbitrary: fc.integer({ min: 1, max: 40 }), weight: 8 },
          { arbitrary: fc.constant(1 << 25), weight: 1 },
        ),
        perms: fc.stringMatching(/^[r-][w-][x-][ps]$/),
        path,
      })
      .map(
        (v) =>
          `${hex(v.start)}-${hex(v.start + BigInt(v.pages) * 4096n)} ${v.perms} 00000000 08:01 77 ${v.path}`,
      );
    // What can go wrong with a line: a mutation of a good one, or noise.
    const bad = fc.oneof(
      fc.tuple(good, fc.nat(), fc.string({ maxLength: 3 })).map(([l, at, s]) => {
        const i = at % (l.length + 1);
        return l.slice(0, i) + s + l.slice(i + 1);
      }),
      fc.tuple(page, page).map(([a, b]) => `${hex(a)}-${hex(b)} rw-p 0 0:0 0`),
      fc.tuple(page, fc.nat(4095)).map(([a, off]) => `${hex(a)}-${hex(a + BigInt(off))} rw-p 0 0:0 0`),
      fc.string({ maxLength: 30 }),
    );
    const text = fc
      .array(fc.oneof({ arbitrary: good, weight: 12 }, { arbitrary: bad, weight: 1 }), {
        minLength: 1,
        maxLength: 12,
      })
      .chain((ls) => fc.constantFrom('\n', '\r\n', '\r').map((end) => ls.join(end)));
    await fc.assert(
      fc.asyncProperty(text, async (t) => {
        const m = await rmaplab(['maps', '-'], { stdin: t });
        if (m.status !== 0) {
          expect(m.stderr).toMatch(
            /^<stdin>:\d+:\d+: error: (not a \/proc\/PID\/maps line|address .* is not page-aligned|the end .* is not above|.* has more than 64 bits)[^\n]*\n$/,
          );
          expect(m.status).toBe(1);
          return;
        }
        const r = await rmaplab(['run', '-'], { stdin: m.stdout });
        expect(r.stderr, m.stdout).toBe('');
        expect(r.status).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  it('a region larger than the language allows stays a comment', () => {
    const text = mapsToScenario(parseMaps('7f0000000000-7f8000000000 ---p 00000000 00:00 0\n'), {
      source: 'x',
      proc: 'P',
    });
    expect(text).toMatch(/# {3}skipped: 134217728 pages is more than the 16777216 pages a region may have/);
    expect(() => run(text)).not.toThrow();
  });

  it('scenarioName always gives a valid, stable name', () => {
    fc.assert(
      fc.property(fc.string(), (raw) => {
        const name = scenarioName(raw);
        expect(name).toMatch(/^[A-Za-z][A-Za-z0-9_.-]{0,62}$/);
        expect(scenarioName(name)).toBe(name);
      }),
    );
  });

  it('any list of VMAs gives a scenario that parses and runs, with one region per VMA', () => {
    const vma = fc.record({
      pages: fc.integer({ min: 1, max: 64 }),
      perms: fc.constantFrom('rw-p', 'r--p', 'r-xp', '---p', 'rw-s', 'r--s'),
      path: fc.constantFrom(
        '',
        '[heap]',
        '[stack]',
        '/usr/lib/libc.so.6',
        '/opt/x y/app',
        '/dev/zero (deleted)',
        '[anon:jit]',
      ),
    });
    fc.assert(
      fc.property(fc.array(vma, { maxLength: 12 }), (vmas) => {
        let addr = 0x7f0000000000n;
        const lines = vmas.map((v) => {
          const start = addr;
          addr += BigInt(v.pages * 4096) + 4096n;
          return `${start.toString(16)}-${(start + BigInt(v.pages * 4096)).toString(16)} ${v.perms} 00000000 00:00 0 ${v.path}`;
        });
        const text = mapsToScenario(parseMaps(lines.join('\n')), { source: 'gen', proc: 'P' });
        const runner = run(text);
        const regions = [...runner.procs.get('P')!.regions.values()];
        expect(regions.map((r) => r.pages)).toEqual(vmas.map((v) => v.pages));
        expect(regions.map((r) => r.shared)).toEqual(vmas.map((v) => v.perms.endsWith('s')));
      }),
      { numRuns: 50 },
    );
  });
});
