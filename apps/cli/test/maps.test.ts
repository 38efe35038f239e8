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
    const entries = parseMaps(readFileSync(join(ROOT, FIXTURE), 'utf8'), FIXTURE);
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

  it('a line that is not a maps line is a usage error naming the line', async () => {
    const r = await rmaplab(['maps', '-'], {
      stdin: '00400000-00401000 r-xp 00000000 08:01 1 /bin/x\nhello\n',
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      'rmaplab maps: error: <stdin>:2: not a /proc/PID/maps line: "hello" (see rmaplab maps --help)\n',
    );
  });

  it('a region larger than the language allows stays a comment', () => {
    const text = mapsToScenario(parseMaps('7f0000000000-7f8000000000 ---p 00000000 00:00 0\n', 'x'), {
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
        expect(name).toMatch(/^[A-Za-z][A-Za-z0-9_.-]*$/);
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
        const text = mapsToScenario(parseMaps(lines.join('\n'), 'gen'), { source: 'gen', proc: 'P' });
        const runner = run(text);
        const regions = [...runner.procs.get('P')!.regions.values()];
        expect(regions.map((r) => r.pages)).toEqual(vmas.map((v) => v.pages));
        expect(regions.map((r) => r.shared)).toEqual(vmas.map((v) => v.perms.endsWith('s')));
      }),
      { numRuns: 50 },
    );
  });
});
