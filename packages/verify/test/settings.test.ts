import { describe, expect, it } from 'vitest';
import { modelledRelease, readKernelSettings, settingLines, swapPages } from '../src/index.js';

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
    };
    const s = readKernelSettings((p) => files[p] ?? null, '6.6.1');
    expect(settingLines(s)).toEqual([
      'set kernel 6.6.1',
      'set zero-page on',
      'set fault-around 8',
      'set swap 1024',
      'set ksm-max-sharing 100',
    ]);
    expect(s.warnings.join()).toMatch(/use_zero_pages/);

    const bare = readKernelSettings(() => null, '4.9.0');
    expect(settingLines(bare)).toEqual([
      'set kernel 4.9',
      'set zero-page on',
      'set fault-around 16',
      'set swap 0',
    ]);
    expect(bare.notes.join('\n')).toMatch(/fault_around_bytes is unreadable/);
  });
});
