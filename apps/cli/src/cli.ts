/**
 * The `rmaplab` command line: sub-commands, their flags and help. `main` returns the exit status
 * (0 ok, 1 scenario error, 2 usage error, 3 verify could not check) and never exits the process
 * itself, so tests call it.
 */
import { readFileSync } from 'node:fs';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { formatRelease, parseRelease, ReleaseError } from '@rmaplab/mm';
import { parseLine, quote, ScenarioError, type SetValue, suggest } from '@rmaplab/scenario';
import { demoCommand } from './commands/demo.js';
import { GRAPH_FORMATS, type GraphFormat, graphCommand } from './commands/graph.js';
import { mapsCommand } from './commands/maps.js';
import { rulesCommand } from './commands/rules.js';
import { runCommand } from './commands/run.js';
import { verifyCommand } from './commands/verify.js';
import { COMMANDS, type Command, HELP } from './help.js';
import { colorsFor, type Io, OutputClosed, UsageError } from './io.js';

/** The package version, read next to the code (src/ and dist/ both sit beside package.json). */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  return pkg.version;
}

type Options = NonNullable<ParseArgsConfig['options']>;

const COMMON: Options = { help: { type: 'boolean', short: 'h' } };
const KERNEL: Options = { kernel: { type: 'string' } };
/** `--set KEY=VALUE` (repeatable) and its synonym for the release, `--kernel V`. */
const SET: Options = { ...KERNEL, set: { type: 'string', multiple: true } };

const OPTIONS: Record<Command, Options> = {
  run: {
    ...COMMON,
    ...SET,
    json: { type: 'boolean' },
    trace: { type: 'boolean' },
    check: { type: 'boolean' },
  },
  graph: { ...COMMON, ...SET, step: { type: 'string' }, format: { type: 'string' } },
  maps: { ...COMMON, name: { type: 'string' } },
  demo: { ...COMMON, ...KERNEL, trace: { type: 'boolean' } },
  rules: { ...COMMON, ...KERNEL, json: { type: 'boolean' } },
  verify: {
    ...COMMON,
    ...SET,
    'kernel-options': { type: 'string' },
    strict: { type: 'boolean' },
    json: { type: 'boolean' },
    tmpdir: { type: 'string' },
    random: { type: 'string' },
    'ksm-every': { type: 'string' },
  },
};

/** Options before any command. */
const TOP_OPTIONS = ['--help', '-h', '--version', '-V'];

function isCommand(word: string | undefined): word is Command {
  return (COMMANDS as readonly (string | undefined)[]).includes(word);
}

function didYouMean(s: string | undefined): string {
  return s === undefined ? '' : `; did you mean ${s}?`;
}

/** `a`, `a and b`, `a, b and c`. */
function andList(items: string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

function unknownCommand(word: string): UsageError {
  return new UsageError(`unknown command ${quote(word)}${didYouMean(suggest(word, COMMANDS))}`);
}

/**
 * `--jsn` → `--json` (the closest long option), `-j` → `--json` (the only long option starting
 * with that letter); an option of another command says which.
 */
function unknownOption(command: Command, raw: string): UsageError {
  const names = Object.keys(OPTIONS[command]);
  const long = raw.startsWith('--');
  const word = raw.replace(/^--?/, '');
  const starting = names.filter((n) => n.startsWith(word));
  const close = long ? suggest(word, names) : starting.length === 1 ? starting[0] : undefined;
  const elsewhere = COMMANDS.filter((c) => c !== command && long && word in OPTIONS[c]);
  const hint = close
    ? didYouMean(`--${close}`)
    : elsewhere.length
      ? ` (it is an option of ${andList(elsewhere.map((c) => `rmaplab ${c}`))})`
      : '';
  return new UsageError(`unknown option ${quote(raw)}${hint}`, command);
}

interface ParsedOptions {
  values: Record<string, string | boolean | string[]>;
  positionals: string[];
}

/** The options and positionals of `command`'s arguments, every option known and well-formed. */
function parseOptions(command: Command, args: string[]): ParsedOptions {
  const options = OPTIONS[command];
  const { tokens } = parseArgs({ args, options, allowPositionals: true, strict: false, tokens: true });
  const values: ParsedOptions['values'] = {};
  const positionals: string[] = [];
  for (const t of tokens) {
    if (t.kind === 'positional') positionals.push(t.value);
    if (t.kind !== 'option') continue;
    const spec = options[t.name];
    if (!spec) throw unknownOption(command, t.rawName);
    if (spec.type === 'string') {
      if (t.value === undefined) throw new UsageError(`${t.rawName} needs a value`, command);
      if (spec.multiple) values[t.name] = [...((values[t.name] as string[] | undefined) ?? []), t.value];
      else values[t.name] = t.value;
    } else {
      if (t.inlineValue) throw new UsageError(`${t.rawName} takes no value`, command);
      values[t.name] = true;
    }
  }
  return { values, positionals };
}

/** Exactly `names.length` positional arguments, named for the message. */
function positionals(command: string, got: string[], names: string[]): string[] {
  if (got.length < names.length) throw new UsageError(`missing ${names[got.length]}`, command);
  if (got.length > names.length)
    throw new UsageError(`unexpected argument ${quote(got[names.length])}`, command);
  return got;
}

function kernelFlag(command: string, v: unknown): string | undefined {
  if (v === undefined) return undefined;
  try {
    return formatRelease(parseRelease(String(v)));
  } catch (e) {
    if (!(e instanceof ReleaseError)) throw e;
    throw new UsageError(`--kernel: ${e.message}`, command);
  }
}

/**
 * `--set KEY=VALUE`s and `--kernel V` (the same as `--set kernel=V`, given last): each parsed as the
 * scenario line `set KEY VALUE` would be, so the option means what that line means. A later value
 * of a key replaces an earlier one.
 */
function setFlags(command: Command, v: ParsedOptions['values']): SetValue[] {
  const words = ((v.set as string[] | undefined) ?? []).map((kv) => {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new UsageError(`--set takes KEY=VALUE, not ${quote(kv)}`, command);
    return [kv.slice(0, eq), kv.slice(eq + 1), `--set ${kv}`];
  });
  if (typeof v.kernel === 'string') words.push(['kernel', v.kernel, `--kernel ${v.kernel}`]);
  const byKey = new Map<string, SetValue>();
  for (const [key, value, written] of words) {
    let st: ReturnType<typeof parseLine>;
    try {
      st = parseLine(`set ${key} ${value}`, 1, 1);
    } catch (e) {
      if (!(e instanceof ScenarioError)) throw e;
      throw new UsageError(`${written}: ${e.message}`, command);
    }
    if (st?.op !== 'set') throw new UsageError(`${written}: not an option`, command);
    byKey.set(st.set.key, st.set);
  }
  return [...byKey.values()];
}

/** A whole number 0..max written in decimal, or undefined. */
function whole(v: string, max: number): number | undefined {
  return /^\d+$/.test(v) && Number(v) <= max ? Number(v) : undefined;
}

function stepFlag(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  const n = whole(String(v), Number.MAX_SAFE_INTEGER);
  if (n !== undefined) return n;
  throw new UsageError(`--step must be a statement number, not ${quote(String(v))}`, 'graph');
}

function formatFlag(v: unknown): GraphFormat {
  if (v === undefined) return 'dot';
  if ((GRAPH_FORMATS as readonly unknown[]).includes(v)) return v as GraphFormat;
  throw new UsageError(
    `--format must be one of ${GRAPH_FORMATS.join(', ')}, not ${quote(String(v))}`,
    'graph',
  );
}

function nameFlag(v: unknown): string {
  if (v === undefined) return 'P';
  if (typeof v === 'string' && /^[A-Za-z][A-Za-z0-9_.-]{0,62}$/.test(v)) return v;
  throw new UsageError(
    `--name must be a scenario name ([A-Za-z][A-Za-z0-9_.-]*, at most 63 characters), not ${quote(String(v))}`,
    'maps',
  );
}

/** The generator's seeds are 32-bit (prng). */
const MAX_SEED = 2 ** 32 - 1;

function seedsFlag(v: string): { first: number; last: number } {
  const m = /^(\d+)\.\.(\d+)$/.exec(v);
  const first = m ? whole(m[1], MAX_SEED) : undefined;
  const last = m ? whole(m[2], MAX_SEED) : undefined;
  if (first === undefined || last === undefined)
    throw new UsageError(`--random must be a seed range A..B of 0..${MAX_SEED}, not ${quote(v)}`, 'verify');
  if (first > last) throw new UsageError(`--random ${v}: the first seed is after the last`, 'verify');
  return { first, last };
}

function ksmEveryFlag(v: unknown): number {
  if (v === undefined) return 5;
  const n = whole(String(v), MAX_SEED);
  if (n !== undefined) return n;
  throw new UsageError(`--ksm-every must be a whole number, not ${quote(String(v))}`, 'verify');
}

/** What a command line asks for; every usage error is found before anything runs. */
export type Invocation =
  | { kind: 'help'; text: string }
  | { kind: 'version' }
  | { kind: 'command'; command: Command; exec: (io: Io) => Promise<number> };

/** `rmaplab verify ...`: FILE, or --random A..B. */
function verifyInvocation(v: ParsedOptions['values'], p: string[]): (io: Io) => Promise<number> {
  const ko = v['kernel-options'] ?? 'scenario';
  if (ko !== 'auto' && ko !== 'scenario')
    throw new UsageError(`--kernel-options must be auto or scenario, not ${quote(String(ko))}`, 'verify');
  const common = {
    kernelOptions: ko,
    strict: v.strict === true,
    json: v.json === true,
    overrides: setFlags('verify', v),
    ...(typeof v.tmpdir === 'string' ? { tmpdir: v.tmpdir } : {}),
  } as const;
  if (typeof v.random === 'string') {
    if (p.length > 0)
      throw new UsageError(`unexpected argument ${quote(p[0])}: --random generates the scenarios`, 'verify');
    const seeds = { ...seedsFlag(v.random), ksmEvery: ksmEveryFlag(v['ksm-every']) };
    return (io) => verifyCommand(io, { ...common, random: seeds });
  }
  if (v['ksm-every'] !== undefined) throw new UsageError('--ksm-every needs --random', 'verify');
  const [file] = positionals('verify', p, ['FILE (or --random A..B)']);
  return (io) => verifyCommand(io, { ...common, file });
}

function commandInvocation(command: Command, args: string[]): Invocation {
  const { values: v, positionals: p } = parseOptions(command, args);
  if (v.help) return { kind: 'help', text: HELP[command] };
  let exec: (io: Io) => Promise<number>;
  switch (command) {
    case 'run': {
      const [file] = positionals(command, p, ['FILE']);
      const flags = {
        json: v.json === true,
        trace: v.trace === true,
        check: v.check === true,
        overrides: setFlags(command, v),
      };
      exec = (io) => runCommand(io, file, flags);
      break;
    }
    case 'graph': {
      const [file] = positionals(command, p, ['FILE']);
      const flags = {
        format: formatFlag(v.format),
        step: stepFlag(v.step),
        overrides: setFlags(command, v),
      };
      exec = (io) => graphCommand(io, file, flags);
      break;
    }
    case 'maps': {
      const [target] = positionals(command, p, ['PID or FILE']);
      const flags = { name: nameFlag(v.name) };
      exec = (io) => mapsCommand(io, target, flags);
      break;
    }
    case 'verify':
      exec = verifyInvocation(v, p);
      break;
    case 'rules': {
      positionals(command, p, []);
      const flags = { kernel: kernelFlag(command, v.kernel), json: v.json === true };
      exec = async (io) => rulesCommand(io, flags);
      break;
    }
    case 'demo': {
      positionals(command, p, []);
      const flags = { kernel: kernelFlag(command, v.kernel) ?? '4.9', trace: v.trace === true };
      exec = (io) => demoCommand(io, flags);
      break;
    }
  }
  return { kind: 'command', command, exec };
}

/** Parse `rmaplab ARGS` (at least one argument); throws UsageError. */
export function parseCommandLine(args: string[]): Invocation {
  const [first, ...rest] = args;
  if (first === '-h' || first === '--help' || first === 'help') {
    const topic = rest[0];
    if (topic === undefined) return { kind: 'help', text: HELP[''] };
    if (!isCommand(topic)) throw unknownCommand(topic);
    return { kind: 'help', text: HELP[topic] };
  }
  if (first === '-V' || first === '--version') return { kind: 'version' };
  if (isCommand(first)) return commandInvocation(first, rest);
  if (first.startsWith('-') && first !== '-') {
    const close = suggest(first, TOP_OPTIONS);
    throw new UsageError(
      `unknown option ${quote(first)}${close ? didYouMean(close) : ' (options of a command come after it)'}`,
    );
  }
  throw unknownCommand(first);
}

/** What standard output failing means for the exit status (see OutputClosed). */
function outputClosed(io: Io, e: OutputClosed): number {
  // The reader went away (rmaplab run | head): it has what it wanted, so this is no failure.
  if (e.code === 'EPIPE') return 0;
  const why = e.code === 'ENOSPC' ? 'no space left on device' : `cannot write (${e.code})`;
  io.stderr(`rmaplab: stdout: ${why}\n`);
  return 1;
}

/** Run `rmaplab ARGS`; the exit status. */
export async function main(args: string[], io: Io): Promise<number> {
  const c = colorsFor(io, 'stderr');
  try {
    if (args.length === 0) {
      io.stderr(`${HELP['']}\n`);
      return 2;
    }
    const inv = parseCommandLine(args);
    if (inv.kind === 'help') io.stdout(`${inv.text}\n`);
    else if (inv.kind === 'version') io.stdout(`rmaplab ${version()}\n`);
    else return await inv.exec(io);
    return 0;
  } catch (e) {
    if (e instanceof OutputClosed) return outputClosed(io, e);
    if (!(e instanceof UsageError)) throw e;
    const help = e.command ? `rmaplab ${e.command} --help` : 'rmaplab --help';
    io.stderr(`${c.red(`rmaplab${e.command ? ` ${e.command}` : ''}: error: ${e.message}`)} (see ${help})\n`);
    return 2;
  }
}
