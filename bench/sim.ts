/**
 * `npm run bench -- sim`: the simulator's speed and memory (issue 12). Runs
 * the engine (`sim-engine.ts`: the default stack over simulated backends) for
 * a short case and the full case, the target: 1,200,000 simulated
 * calls from 100 clients over 1,000 backends (10 simulated minutes at 2,000
 * calls/s) in under 60 s of wall time and under 1 GB of heap; opt-in, the
 * shipped fleet-scale scenario itself (`sim-scenario.ts`). Prints a table
 * and the target verdicts, writes `sim-<timestamp>.json` and `sim-latest.md`.
 * A report: a miss never fails the run.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describeMachine, type MachineInfo } from './machine.js';
import { runSimEngine, type SimEngineOptions, type SimEngineResult } from './sim-engine.js';
import { runFleetScenario, type SimScenarioResult } from './sim-scenario.js';
import { markdownTable, targetsMarkdown, targetsText, textTable } from './table.js';

/** The engine's cases, in the order they run. */
export const SIM_CASES = ['short', 'full'] as const;
export type SimCaseName = (typeof SIM_CASES)[number];
/** The opt-in case: the shipped fleet-scale scenario, one variant, through runScenario (minutes at full size). */
export const SCENARIO_CASE = 'fleet-scale';
const CASE_NAMES: readonly string[] = [...SIM_CASES, SCENARIO_CASE];

/** The target size and bounds. */
export const TARGET_CALLS = 1_200_000;
export const TARGET_BACKENDS = 1000;
export const TARGET_CLIENTS = 100;
export const TARGET_WALL_SECONDS = 60;
export const TARGET_HEAP_MB = 1024;

/** Knobs of the sim scenario, read once from the environment (see bench/README.md). */
export interface SimBenchOptions {
  readonly cases: readonly SimCaseName[];
  /** Whether the fleet-scale scenario runs too, and at which `--scale`. */
  readonly scenario: boolean;
  readonly scenarioScale: number;
  readonly shortCalls: number;
  readonly fullCalls: number;
  readonly backends: number;
  readonly clients: number;
  readonly rate: number;
  readonly resultsDir: string;
}

/** One case's result, with the heap the process held (after a full GC) before it started. */
export interface SimCaseResult extends SimEngineResult {
  readonly name: SimCaseName;
  readonly heapBeforeMb: number;
}

/** A target of the issue; `NOT RUN` when the full case did not run at the target size. */
export interface SimTarget {
  readonly id: string;
  readonly description: string;
  readonly measured: string;
  readonly result: 'PASS' | 'MISS' | 'NOT RUN';
}

/** Everything one run produced; the JSON written to the results directory. */
export interface SimBenchReport {
  readonly scenario: 'sim';
  readonly startedAt: string;
  readonly machine: MachineInfo;
  /** 1-minute load average when the run ended: the machine is shared. */
  readonly loadAverageEnd1m: number;
  readonly options: SimBenchOptions;
  readonly cases: readonly SimCaseResult[];
  /** The fleet-scale scenario's run, when asked for. */
  readonly scenarioCase: SimScenarioResult | undefined;
  readonly targets: readonly SimTarget[];
}

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return value;
}

function envCases(name: string): readonly string[] {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return SIM_CASES;
  const wanted = raw.split(',').map((part) => part.trim()).filter((part) => part !== '');
  const unknown = wanted.filter((part) => !CASE_NAMES.includes(part));
  if (wanted.length === 0 || unknown.length > 0) throw new Error(`${name} must be a comma-separated list of ${CASE_NAMES.join(', ')}, got ${JSON.stringify(raw)}`);
  return wanted;
}

function envScale(name: string): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return 1;
  const value = Number(raw);
  if (!(value > 0 && value <= 1)) throw new Error(`${name} must be a number > 0 and <= 1, got ${JSON.stringify(raw)}`);
  return value;
}

export function readSimBenchOptions(): SimBenchOptions {
  const cases = envCases('BENCH_SIM_CASES');
  return {
    cases: SIM_CASES.filter((simCase) => cases.includes(simCase)),
    scenario: cases.includes(SCENARIO_CASE),
    scenarioScale: envScale('BENCH_SIM_SCENARIO_SCALE'),
    shortCalls: envInt('BENCH_SIM_SHORT_CALLS', 120_000),
    fullCalls: envInt('BENCH_SIM_FULL_CALLS', TARGET_CALLS),
    backends: envInt('BENCH_SIM_BACKENDS', TARGET_BACKENDS),
    clients: envInt('BENCH_SIM_CLIENTS', TARGET_CLIENTS),
    rate: envInt('BENCH_SIM_RATE', 2000),
    resultsDir: process.env['BENCH_RESULTS_DIR'] ?? fileURLToPath(new URL('../../bench/results/', import.meta.url)),
  };
}

/**
 * The verdicts: the full case's, judged only when it ran at (at least) the
 * issue's size; the fleet-scale scenario's, judged only when it ran at scale 1.
 */
export function evaluateSimTargets(cases: readonly SimCaseResult[], scenario?: SimScenarioResult): SimTarget[] {
  const full = cases.find((c) => c.name === 'full');
  const atSize = full !== undefined && full.calls >= TARGET_CALLS && full.backends >= TARGET_BACKENDS && full.clients >= TARGET_CLIENTS;
  const size = `${TARGET_CALLS.toLocaleString('en-US')} simulated calls from ${TARGET_CLIENTS} clients over ${TARGET_BACKENDS.toLocaleString('en-US')} backends`;
  const notRun = full === undefined ? 'full case not run' : 'full case below the target size';
  const wallSeconds = full === undefined ? Number.NaN : full.wallMs / 1000;
  return [
    {
      id: 'sim-full-wall',
      description: `${size} in under ${TARGET_WALL_SECONDS} s of wall time`,
      measured: atSize ? `${wallSeconds.toFixed(1)} s` : notRun,
      result: !atSize ? 'NOT RUN' : wallSeconds < TARGET_WALL_SECONDS ? 'PASS' : 'MISS',
    },
    {
      id: 'sim-full-heap',
      description: `${size} in under 1 GB of heap`,
      measured: atSize ? `${full.peakHeapUsedMb} MB peak used` : notRun,
      result: !atSize ? 'NOT RUN' : full.peakHeapUsedMb < TARGET_HEAP_MB ? 'PASS' : 'MISS',
    },
    scenarioTarget(scenario),
  ];
}

function scenarioTarget(scenario: SimScenarioResult | undefined): SimTarget {
  const atSize = scenario !== undefined && scenario.scale === 1;
  return {
    id: 'sim-fleet-scale-wall',
    description: `the shipped fleet-scale scenario (rolling restart, recorder), one variant, in under ${TARGET_WALL_SECONDS} s of wall time`,
    measured: atSize ? `${(scenario.wallMs / 1000).toFixed(1)} s` : scenario === undefined ? 'not run (opt-in)' : 'run below scale 1',
    result: !atSize ? 'NOT RUN' : scenario.wallMs / 1000 < TARGET_WALL_SECONDS ? 'PASS' : 'MISS',
  };
}

const SCENARIO_HEADER = ['scenario', 'variant', 'scale', 'backends', 'clients', 'calls', 'success', 'wall s', 'simulated s', 'sim/wall', 'calls/wall s', 'peak heap MB', 'peak RSS MB'];

function scenarioRows(s: SimScenarioResult | undefined): string[][] {
  if (s === undefined) return [];
  return [[
    s.scenario, s.variant, String(s.scale), count(s.backends), count(s.clients), count(s.calls), `${(s.successRate * 100).toFixed(2)} %`,
    (s.wallMs / 1000).toFixed(1), (s.simulatedMs / 1000).toFixed(0), `${s.simulatedPerWall.toFixed(1)}x`, count(s.callsPerWallSecond),
    s.peakHeapUsedMb.toFixed(1), s.peakRssMb.toFixed(1),
  ]];
}

const CASE_HEADER = [
  'case', 'calls', 'backends', 'clients', 'rate/s', 'wall s', 'simulated s', 'sim/wall', 'calls/wall s', 'events', 'events/wall s',
  'succeeded', 'heap before MB', 'peak heap MB', 'peak reserved MB', 'peak RSS MB', 'live at end MB',
];

const count = (value: number): string => value.toLocaleString('en-US');

function caseRows(cases: readonly SimCaseResult[]): string[][] {
  return cases.map((c) => [
    c.name, count(c.calls), count(c.backends), count(c.clients), count(c.rate),
    (c.wallMs / 1000).toFixed(1), (c.simulatedMs / 1000).toFixed(0), `${c.simulatedPerWall.toFixed(1)}x`, count(c.callsPerWallSecond),
    count(c.events), count(c.eventsPerWallSecond), count(c.succeeded),
    c.heapBeforeMb.toFixed(1), c.peakHeapUsedMb.toFixed(1), c.peakHeapTotalMb.toFixed(1), c.peakRssMb.toFixed(1), c.liveHeapEndMb.toFixed(1),
  ]);
}

const targetRows = (targets: readonly SimTarget[]): string[][] => targets.map((t) => [t.description, t.measured, t.result]);

function machineLine(r: SimBenchReport): string {
  const m = r.machine;
  return `node ${m.node}, ${m.platform}, ${m.cpus} CPUs (${m.cpuModel}), load ${m.loadAverage1m.toFixed(2)} at the start, ${r.loadAverageEnd1m.toFixed(2)} at the end`;
}

const CAPTION = 'Default stack (peak EWMA, per-try 100 ms / total 1 s, 3 budgeted attempts, outlier detection) on every client;'
  + ' backends lognormal (median 5 ms, p99 50 ms), 1 % errors, 8 servers each; heap sampled once per simulated second; live at end = heap used after a full GC with the simulation still alive.';

/** The engine cases' table and the scenario's, for those that ran. */
function tables(r: SimBenchReport, table: (header: readonly string[], rows: readonly (readonly string[])[]) => string): string {
  return [
    ...(r.cases.length === 0 ? [] : [table(CASE_HEADER, caseRows(r.cases))]),
    ...(r.scenarioCase === undefined ? [] : [table(SCENARIO_HEADER, scenarioRows(r.scenarioCase))]),
  ].join('\n\n');
}

export function formatSimText(r: SimBenchReport): string {
  return [
    `meshkit simulator bench, ${r.startedAt}`,
    machineLine(r),
    CAPTION,
    '',
    tables(r, textTable),
    '',
    targetsText(targetRows(r.targets)),
  ].join('\n');
}

export function formatSimMarkdown(r: SimBenchReport): string {
  return [
    '# meshkit simulator bench (latest run)',
    '',
    `${r.startedAt}; ${machineLine(r)}.`,
    'See bench/README.md for what each number means.',
    '',
    CAPTION,
    '',
    tables(r, markdownTable),
    '',
    targetsMarkdown(targetRows(r.targets)),
    '',
  ].join('\n');
}

const progress = (line: string): void => console.error(`[bench] ${line}`);

export async function runSim(): Promise<void> {
  const options = readSimBenchOptions();
  const startedAt = new Date().toISOString();
  const machine = describeMachine();
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const cases: SimCaseResult[] = [];
  for (const name of options.cases) {
    const size: SimEngineOptions = {
      calls: name === 'full' ? options.fullCalls : options.shortCalls,
      backends: options.backends,
      clients: options.clients,
      rate: options.rate,
    };
    // Each case starts from a collected heap, so its peak is its own and not the previous case's garbage.
    gc();
    gc();
    const heapBeforeMb = Math.round((getHeapStatistics().used_heap_size / 1024 / 1024) * 10) / 10;
    progress(`${name}: ${count(size.calls)} calls from ${size.clients} clients over ${count(size.backends)} backends at ${size.rate}/s`);
    const result = await runSimEngine(size, gc);
    progress(`${name}: ${(result.wallMs / 1000).toFixed(1)} s wall, ${count(result.callsPerWallSecond)} calls/s, peak heap ${result.peakHeapUsedMb} MB`);
    cases.push({ name, ...result, heapBeforeMb });
  }
  let scenarioCase: SimScenarioResult | undefined;
  if (options.scenario) {
    gc();
    gc();
    progress(`${SCENARIO_CASE}: the shipped scenario's first variant at scale ${options.scenarioScale} (minutes at scale 1)`);
    scenarioCase = await runFleetScenario(options.scenarioScale);
    progress(`${SCENARIO_CASE}: ${(scenarioCase.wallMs / 1000).toFixed(1)} s wall, ${count(scenarioCase.callsPerWallSecond)} calls/s, peak heap ${scenarioCase.peakHeapUsedMb} MB`);
  }
  const report: SimBenchReport = {
    scenario: 'sim', startedAt, machine, loadAverageEnd1m: loadavg()[0] ?? Number.NaN, options, cases, scenarioCase,
    targets: evaluateSimTargets(cases, scenarioCase),
  };
  console.log(formatSimText(report));
  await mkdir(options.resultsDir, { recursive: true });
  const json = join(options.resultsDir, `sim-${startedAt.replace(/[:.]/g, '-')}.json`);
  const markdown = join(options.resultsDir, 'sim-latest.md');
  await writeFile(json, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(markdown, formatSimMarkdown(report));
  console.log(`\nresults: ${json}\nmarkdown: ${markdown}`);
}
