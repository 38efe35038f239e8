/** The `rmaplab` executable. */
import { main } from './cli.js';
import { processIo } from './io.js';

main(process.argv.slice(2), processIo()).then(
  (status) => {
    process.exitCode = status;
  },
  (e: unknown) => {
    // A bug in rmaplab itself, not in the scenario: still one line, the stack on request.
    const err = e instanceof Error ? e : new Error(String(e));
    process.stderr.write(`rmaplab: internal error: ${err.message}\n`);
    if (process.env.RMAPLAB_DEBUG) process.stderr.write(`${err.stack}\n`);
    process.exitCode = 1;
  },
);
