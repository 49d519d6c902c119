import { readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { invalidArgument, invalidConfig } from '../core/errors.js';
import { scenarios } from './scenarios/index.js';

/** The command line of `meshkit-sim`, parsed. */
export interface CliArgs {
  /** A shipped scenario's name or a path to a scenario JSON file; undefined with `--list` or `--help`. */
  readonly scenario: string | undefined;
  readonly seed: number | undefined;
  readonly scale: number | undefined;
  /** Directory for the JSON and HTML files. Default `'meshkit-sim'`. */
  readonly out: string;
  /** Path of the JSON file. Default `<out>/<scenario>.json`. */
  readonly json: string | undefined;
  /** Path of the HTML page. Default `<out>/<scenario>.html` (one page per variant: `<scenario>.<variant>.html`). */
  readonly html: string | undefined;
  readonly list: boolean;
  readonly help: boolean;
}

/** The usage text `--help` prints. */
export const USAGE = `usage: meshkit-sim <scenario.json | name> [--seed N] [--scale x] [--out dir] [--json path] [--html path]
       meshkit-sim --list

Runs a scenario in virtual time against the real meshkit code and prints its
table beside the published figures; writes the report as JSON and HTML.

  --seed N      seed of every random stream (default: the scenario's)
  --scale x     0 < x <= 1: a shorter, smaller run of the same shape (default 1)
  --out dir     where the JSON and HTML go (default ./meshkit-sim)
  --json path   the JSON report's path (default <out>/<scenario>.json)
  --html path   the HTML page's path (default <out>/<scenario>.html; with
                several variants, one page each: <scenario>.<variant>.html)
  --list        the shipped scenarios
`;

const VALUE_FLAGS = ['--seed', '--scale', '--out', '--json', '--html'] as const;
const FLAGS = [...VALUE_FLAGS, '--list', '--help', '-h'];

/**
 * Parses `meshkit-sim`'s arguments (without `node` and the script). Throws
 * `ERR_INVALID_ARGUMENT` naming the argument for an unknown flag, a flag
 * without its value, a second scenario, or a seed or scale out of range.
 */
export function parseCliArgs(argv: readonly string[]): CliArgs {
  const values = new Map<string, string>();
  let scenario: string | undefined;
  let list = false;
  let help = false;
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index] as string;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    if (flag === '--list') list = true;
    else if (flag === '--help' || flag === '-h') help = true;
    else if ((VALUE_FLAGS as readonly string[]).includes(flag)) {
      const value = eq === -1 ? argv[++index] : arg.slice(eq + 1);
      if (value === undefined || value === '' || (eq === -1 && value.startsWith('--'))) throw invalidArgument(flag, 'a value after it', value);
      if (values.has(flag)) throw invalidArgument(flag, 'given once', value);
      values.set(flag, value);
    } else if (arg.startsWith('-')) {
      throw invalidArgument(arg, `a known option: ${FLAGS.join(', ')}`, arg);
    } else if (scenario !== undefined) {
      throw invalidArgument('scenario', 'one scenario per run', arg);
    } else {
      scenario = arg;
    }
  }
  if (scenario === undefined && !list && !help) throw invalidArgument('scenario', 'a scenario name or a path to a scenario JSON file (--list shows the names)', undefined);
  return {
    scenario,
    seed: number(values.get('--seed'), '--seed', (n) => Number.isInteger(n) && n >= 0 && n <= 0xffffffff, 'an integer from 0 to 4294967295'),
    scale: number(values.get('--scale'), '--scale', (n) => n > 0 && n <= 1, 'a number > 0 and <= 1'),
    out: values.get('--out') ?? 'meshkit-sim',
    json: values.get('--json'),
    html: values.get('--html'),
    list,
    help,
  };
}

function number(text: string | undefined, flag: string, ok: (n: number) => boolean, expected: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || !ok(value)) throw invalidArgument(flag, expected, text);
  return value;
}

/**
 * The scenario an argument names: a shipped scenario by name, else a JSON
 * file (the scenario is validated when it is run). Throws
 * `ERR_INVALID_ARGUMENT` for a name that is neither, `ERR_INVALID_CONFIG`
 * naming the file for JSON that does not parse.
 */
export function loadScenarioArg(arg: string): unknown {
  const shipped = scenarios[arg];
  if (shipped !== undefined && Object.hasOwn(scenarios, arg)) return shipped;
  let text: string;
  try {
    text = readFileSync(arg, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw invalidArgument('scenario', `a shipped scenario (${Object.keys(scenarios).join(', ')}) or a readable JSON file (${reason})`, arg);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw invalidConfig(arg, `a scenario in JSON (${(error as Error).message})`, `${text.slice(0, 40)}...`);
  }
}

/** Where a run's files go: the JSON path, and the HTML path of each variant. */
export function outputPaths(args: CliArgs, scenario: string, variants: readonly string[]): { json: string; html: ReadonlyMap<string, string> } {
  const json = args.json ?? join(args.out, `${scenario}.json`);
  const base = args.html ?? join(args.out, `${scenario}.html`);
  const html = new Map<string, string>();
  if (variants.length === 1) {
    html.set(variants[0] as string, base);
  } else {
    const ext = extname(base);
    const stem = base.slice(0, base.length - ext.length);
    for (const variant of variants) html.set(variant, `${stem}.${variant}${ext || '.html'}`);
  }
  return { json, html };
}
