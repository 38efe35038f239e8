/** Shared by the tests that run the helper on this machine's kernel. */
import { checkKernelAccess, ensureHelper } from '../src/index.js';

/**
 * Why the kernel cannot be used here (not Linux, not root, no /proc/kpagecount, no KSM, no C
 * compiler), or null when it can; printed once so a skipped run says why.
 */
export function kernelUnavailable(what: string): string | null {
  try {
    checkKernelAccess(true);
    ensureHelper();
    return null;
  } catch (e) {
    console.log(`${what} skipped: ${(e as Error).message}`);
    return (e as Error).message;
  }
}
