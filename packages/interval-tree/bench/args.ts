/** Command-line parameters, named after lib/interval_tree_test.c's module parameters. */
export interface BenchParams {
  /** number of intervals */
  nnodes: number;
  /** insert-all + remove-all rounds */
  perf_loops: number;
  /** distinct stabbing queries */
  nsearches: number;
  /** repetitions of the query set */
  search_loops: number;
  /** query [0, max_endpoint] instead of [q, q] */
  search_all: boolean;
  /** bound on endpoints and queries (u32) */
  max_endpoint: number;
  /** PRNG seed (u64) */
  seed: bigint;
  /** size of the "fork storm" dataset (identical ranges); 0 skips it */
  fork: number;
  /** rounds of the fork storm */
  fork_loops: number;
  /** comma-separated subset of: ours, flatten, nit */
  libs: string[];
  /** print JSON instead of a table */
  json: boolean;
}

export const DEFAULTS: BenchParams = {
  nnodes: 100_000,
  perf_loops: 5,
  nsearches: 100,
  search_loops: 2,
  search_all: false,
  max_endpoint: 0xffffffff,
  seed: 3141592653589793238n,
  fork: 10_000,
  fork_loops: 3,
  libs: ['ours', 'flatten', 'nit'],
  json: false,
};

const USAGE = `usage: pnpm bench [-- options]
  --nnodes N        intervals (default ${DEFAULTS.nnodes})
  --perf-loops N    insert-all/remove-all rounds (default ${DEFAULTS.perf_loops})
  --nsearches N     distinct queries (default ${DEFAULTS.nsearches})
  --search-loops N  repetitions of the query set (default ${DEFAULTS.search_loops})
  --search-all      query [0, max_endpoint] instead of stabbing [q, q]
  --max-endpoint N  endpoint bound, 1..4294967295 (default ${DEFAULTS.max_endpoint})
  --seed N          u64 PRNG seed (default ${DEFAULTS.seed})
  --fork N          fork-storm size, 0 to skip (default ${DEFAULTS.fork})
  --fork-loops N    fork-storm rounds (default ${DEFAULTS.fork_loops})
  --libs a,b        subset of ours,flatten,nit (default all)
  --json            machine-readable output
Options may also be written with underscores (--perf_loops) or as --name=value.`;

export function parseArgs(argv: readonly string[]): BenchParams {
  const p: BenchParams = { ...DEFAULTS, libs: [...DEFAULTS.libs] };
  const int = (name: string, v: string | undefined, min: number, max: number): number => {
    const n = Number(v);
    if (v === undefined || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new RangeError(`--${name} needs an integer in ${min}..${max}, got ${v}\n${USAGE}`);
    }
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') continue;
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}\n${USAGE}`);
    let [name, value] = arg.slice(2).split('=', 2) as [string, string | undefined];
    name = name.replaceAll('-', '_');
    const takeValue = () => value ?? argv[++i];
    switch (name) {
      case 'nnodes':
        p.nnodes = int(name, takeValue(), 1, 10_000_000);
        break;
      case 'perf_loops':
        p.perf_loops = int(name, takeValue(), 1, 1_000_000);
        break;
      case 'nsearches':
        p.nsearches = int(name, takeValue(), 1, 10_000_000);
        break;
      case 'search_loops':
        p.search_loops = int(name, takeValue(), 1, 1_000_000);
        break;
      case 'search_all':
        p.search_all = value === undefined ? true : value !== 'false' && value !== '0';
        break;
      case 'max_endpoint':
        p.max_endpoint = int(name, takeValue(), 1, 0xffffffff);
        break;
      case 'seed': {
        const v = takeValue();
        if (v === undefined || !/^\d+$/.test(v)) throw new RangeError(`--seed needs a u64, got ${v}`);
        p.seed = BigInt.asUintN(64, BigInt(v));
        break;
      }
      case 'fork':
        p.fork = int(name, takeValue(), 0, 1_000_000);
        break;
      case 'fork_loops':
        p.fork_loops = int(name, takeValue(), 1, 1000);
        break;
      case 'libs': {
        const v = takeValue() ?? '';
        p.libs = v.split(',').filter(Boolean);
        for (const l of p.libs) {
          if (!DEFAULTS.libs.includes(l)) throw new Error(`--libs: unknown library ${l}\n${USAGE}`);
        }
        break;
      }
      case 'json':
        p.json = true;
        break;
      case 'help':
      case 'h':
        console.log(USAGE);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option --${name}\n${USAGE}`);
    }
  }
  return p;
}
