/**
 * A scrolling region that the keyboard can reach (Tab focuses it, the arrows scroll it), named for
 * screen readers: what axe's scrollable-region-focusable rule asks of the event list, the code
 * listing and the observation table.
 */
import { forwardRef, type ReactNode } from 'react';

export const ScrollRegion = forwardRef<
  HTMLElement,
  { label: string; className: string; testId?: string; children: ReactNode }
>(function ScrollRegion({ label, className, testId, children }, ref) {
  return (
    <section
      ref={ref}
      aria-label={label}
      className={className}
      data-testid={testId}
      // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be reachable by keyboard
      tabIndex={0}
    >
      {children}
    </section>
  );
});
