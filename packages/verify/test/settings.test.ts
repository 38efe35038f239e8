import { describe, expect, it } from 'vitest';
import {
  modelledRelease,
  readaheadPages,
  readKernelSettings,
  settingLines,
  swapPages,
} from '../src/index.js';

describe('--kernel-options auto', () => {
  it('runs the model under the running release, or the nearest one it represents', () => {
    expect(modelledRelease('6.18.44-fc-v669').kernel).toBe('6.18.44');
    expect(modelledRelease('6.2.0').kernel).toBe('6.2');
    expect(modelledRelease('5.15').kernel).toBe('5.15');
    expect(modelledRelease('4.4.302').kernel).toBe('4.9');
    expect(modelledRelease('7.0').kernel).toBe('6.18');
    expect(modelledRelease('7.0').note).toMatch(/nearest modelled release to the running 7\.0/);
    expect(modelledRelease('weird').kernel).toBe('6.18');
  });

  it('sums /proc/swaps in pages', () => {
    expect(swapPages('Filename\tType\tSize\tUsed\tPriority\n')).toBe(0);
    expect(swapPages(null)).toBe(0);
    expect(
      swapPages(
        'Filename Type Size Used Priority\n/swapfile file 1048572 0 -2\n/dev/sdb2 partition 4096 0 -3\n',
      ),
    ).toBe(263167);
  });

  it('reads the kernel files it can, and says what it assumed', () => {
    const files: Record<string, string> = {
      '/sys/kernel/debug/fault_around_bytes': '32768\n',
      '/proc/swaps': 'Filename Type Size Used Priority\n/swapfile file 4096 0 -2\n',
      '/sys/kernel/mm/ksm/max_page_sharing': '100\n',
      '/sys/kernel/mm/ksm/use_zero_pages': '1\n',
      '/sys/dev/block/254:0/queue/read_ahead_kb': '8192\n',
    };
    const disk = () => ({ major: 254, minor: 0 });
    const s = readKernelSettings((p) => files[p] ?? null, '6.6.1', '/var/tmp', disk);
    expect(settingLines(s)).toEqual([
      'set kernel 6.6.1',
      'set zero-page on',
      'set fault-around 8',
      'set swap 1024',
      'set readahead 2048',
      'set ksm-max-sharing 100',
    ]);
    expect(s.warnings.join()).toMatch(/use_zero_pages/);
    expect(s.notes).toContain(
      'readahead 2048: /sys/dev/block/254:0/queue/read_ahead_kb (8192 KiB) of the device holding /var/tmp',
    );

    const bare = readKernelSettings(
      () => null,
      '4.9.0',
      '/var/tmp',
      () => null,
    );
    expect(settingLines(bare)).toEqual([
      'set kernel 4.9',
      'set zero-page on',
      'set fault-around 16',
      'set swap 0',
      'set readahead 32',
    ]);
    expect(bare.notes.join('\n')).toMatch(/fault_around_bytes is unreadable/);
    expect(bare.notes.join('\n')).toMatch(/readahead 32: \/var\/tmp is on no block device/);
  });

  it("takes the read-ahead of the temp folder's device, a partition's from its disk", () => {
    const files: Record<string, string> = {
      '/sys/dev/block/8:0/queue/read_ahead_kb': '128\n',
      '/sys/dev/block/8:1/../queue/read_ahead_kb': '4096\n',
    };
    const read = (p: string) => files[p] ?? null;
    expect(readaheadPages('/srv', read, () => ({ major: 8, minor: 0 }))?.pages).toBe(32);
    expect(readaheadPages('/srv', read, () => ({ major: 8, minor: 1 }))).toEqual({
      pages: 1024,
      kib: 4096,
      file: '/sys/dev/block/8:1/../queue/read_ahead_kb',
    });
    expect(readaheadPages('/srv', read, () => ({ major: 0, minor: 42 }))).toBeNull(); // btrfs, overlayfs
  });
});
