/**
 * The `balancers` scenario (`npm run bench -- balancers`): for every balancer,
 * the cost of one pick at 10, 1,000 and 10,000 endpoints (with the balancer's
 * real state: latency estimates, attempts in flight), the bytes a pick
 * allocates, the heap its state takes per endpoint and the timers it adds;
 * the same heap and timer counts for outlier detection, endpoint breakers and
 * active health checks. Each balancer runs in its own forked process
 * (balancers-process.ts) so the JIT's view of one never shapes another's.
 * Reports PASS/MISS against the targets; never fails on a miss.
 */
import { fork } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BALANCER_SUBJECTS, HEALTH_SUBJECTS, SIZES } from './balancer-subjects.js';
import type { BalancerCell, BalancerResult, HealthResult, ProcessResult } from './balancers-process.js';
import { describeMachine, type MachineInfo } from './machine.js';
import { markdownTable, passMissRows, targetsMarkdown, targetsText, textTable } from './table.js';
import type { TargetResult } from './targets.js';

/** Issue 4: a P2C pick costs under 200 ns at every size. */
export const MAX_P2C_PICK_NS = 200;
/** Issue 4: under 1 KB of state per endpoint. */
export const MAX_STATE_BYTES_PER_ENDPOINT = 1024;
/** Issue 4: picks allocate nothing (below 1 byte per pick is measurement noise). */
export const MAX_ALLOCATED_BYTES_PER_PICK = 1;

export interface BalancersOptions {
  /** Picks per round and per size. */
  readonly picks: number;
  /** Measured rounds per size (the median is reported). */
  readonly rounds: number;
  readonly resultsDir: string;
}

export interface BalancersReport {
  readonly scenario: 'balancers';
  readonly startedAt: string;
  readonly machine: MachineInfo;
  /** 1-minute load average when the run ended (the machine's is at the start). */
  readonly loadAverageEnd1m: number;
  readonly options: BalancersOptions;
  readonly balancers: readonly (BalancerResult & { readonly setup: string; readonly p2c: boolean })[];
  readonly health: readonly (HealthResult & { readonly setup: string; readonly optIn: boolean })[];
  readonly targets: readonly TargetResult[];
}

const progress = (line: string): void => console.error(`[bench] ${line}`);

function envInt(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min) throw new Error(`${name} must be an integer >= ${min}, got ${JSON.stringify(raw)}`);
  return value;
}

export function readBalancersOptions(): BalancersOptions {
  return {
    picks: envInt('BENCH_BALANCER_PICKS', 500_000, 1000),
    rounds: envInt('BENCH_BALANCER_ROUNDS', 7, 1),
    resultsDir: process.env['BENCH_RESULTS_DIR'] ?? fileURLToPath(new URL('../../bench/results/', import.meta.url)),
  };
}

/** Runs balancers-process.js for one subject (or `health`) in a fresh process with `--expose-gc`. */
function measureInChild(which: string, options: BalancersOptions): Promise<ProcessResult[]> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(new URL('./balancers-process.js', import.meta.url)), [which], {
      execArgv: ['--expose-gc'],
      env: { ...process.env, BENCH_BALANCER_PICKS: String(options.picks), BENCH_BALANCER_ROUNDS: String(options.rounds) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let results: ProcessResult[] | undefined;
    child.on('message', (message) => {
      results = message as ProcessResult[];
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0 && results !== undefined) resolve(results);
      else reject(new Error(`balancers-process ${which} exited with code ${code}, signal ${signal}`));
    });
  });
}

const maxOver = (cells: readonly BalancerCell[], pick: (c: BalancerCell) => number): number => Math.max(...cells.map(pick));
const at = <C extends { readonly size: number }>(cells: readonly C[], size: number): C | undefined => cells.find((c) => c.size === size);
const LARGEST = SIZES[SIZES.length - 1] as number;
const SMALLEST = SIZES[0] as number;

/** Per-endpoint numbers are read at the largest size, where the set's fixed costs no longer count. */
function stateBytes(cells: readonly { readonly size: number; readonly heapBytesPerEndpoint: number }[]): number {
  return at(cells, LARGEST)?.heapBytesPerEndpoint ?? Number.NaN;
}

/** Timers added per endpoint: the growth from the smallest to the largest set, per endpoint. */
function timersPerEndpoint(cells: readonly { readonly size: number; readonly timers: number }[]): number {
  const small = at(cells, SMALLEST)?.timers ?? Number.NaN;
  const large = at(cells, LARGEST)?.timers ?? Number.NaN;
  return (large - small) / (LARGEST - SMALLEST);
}

function verdicts(b: BalancersReport['balancers'][number]): string[] {
  const misses: string[] = [];
  if (b.p2c && maxOver(b.cells, (c) => c.pickMedianNs) >= MAX_P2C_PICK_NS) misses.push('pick');
  if (maxOver(b.cells, (c) => c.allocatedBytesPerPick) >= MAX_ALLOCATED_BYTES_PER_PICK) misses.push('alloc');
  if (!(stateBytes(b.cells) < MAX_STATE_BYTES_PER_ENDPOINT)) misses.push('heap');
  if (timersPerEndpoint(b.cells) !== 0) misses.push('timers');
  return misses;
}

export function evaluateBalancerTargets(balancers: BalancersReport['balancers'], health: BalancersReport['health']): TargetResult[] {
  const targets: TargetResult[] = balancers.filter((b) => b.p2c).map((b) => {
    const worst = maxOver(b.cells, (c) => c.pickMedianNs);
    return {
      id: `p2c-pick-ns:${b.id}`,
      description: `${b.id}: a pick < ${MAX_P2C_PICK_NS} ns at ${SIZES.map((s) => s.toLocaleString('en-US')).join(', ')} endpoints`,
      measured: b.cells.map((c) => `${Math.round(c.pickMedianNs)}`).join(' / ') + ' ns',
      pass: worst < MAX_P2C_PICK_NS,
    };
  });
  const allocation = balancers.map((b) => ({ id: b.id, bytes: maxOver(b.cells, (c) => c.allocatedBytesPerPick) }));
  const allocating = allocation.filter((a) => !(a.bytes < MAX_ALLOCATED_BYTES_PER_PICK));
  targets.push({
    id: 'pick-allocation',
    description: `every balancer's pick allocates nothing (< ${MAX_ALLOCATED_BYTES_PER_PICK} byte per pick)`,
    measured: allocating.length === 0
      ? `max ${Math.max(...allocation.map((a) => a.bytes)).toFixed(2)} B per pick`
      : allocating.map((a) => `${a.id} ${a.bytes.toFixed(1)} B`).join(', '),
    pass: allocating.length === 0,
  });
  const core = health.filter((h) => !h.optIn);
  const state = [
    ...balancers.map((b) => ({ id: b.id, bytes: stateBytes(b.cells) })),
    ...core.map((h) => ({ id: h.id, bytes: stateBytes(h.cells) })),
  ];
  const worstState = state.reduce((a, b) => (b.bytes > a.bytes || Number.isNaN(b.bytes) ? b : a));
  targets.push({
    id: 'state-bytes-per-endpoint',
    description: `state < 1 KB per endpoint at ${LARGEST.toLocaleString('en-US')} endpoints (every balancer, outlier detection, health checks)`,
    measured: `max ${Math.round(worstState.bytes)} B (${worstState.id})`,
    pass: worstState.bytes < MAX_STATE_BYTES_PER_ENDPOINT,
  });
  for (const h of health.filter((x) => x.optIn)) {
    targets.push({
      id: `state-bytes-per-endpoint:${h.id}`,
      description: `opt-in ${h.id}: state < 1 KB per endpoint at ${LARGEST.toLocaleString('en-US')} endpoints`,
      measured: `${Math.round(stateBytes(h.cells))} B`,
      pass: stateBytes(h.cells) < MAX_STATE_BYTES_PER_ENDPOINT,
    });
  }
  const timers = [
    ...balancers.map((b) => ({ id: b.id, perEndpoint: timersPerEndpoint(b.cells), most: maxOver(b.cells, (c) => c.timers) })),
    ...health.map((h) => ({ id: h.id, perEndpoint: timersPerEndpoint(h.cells), most: Math.max(...h.cells.map((c) => c.timers)) })),
  ];
  const growing = timers.filter((t) => t.perEndpoint !== 0);
  targets.push({
    id: 'timers-per-endpoint',
    description: 'zero timers per endpoint (every balancer and health component)',
    measured: growing.length === 0
      ? `0 (at most ${Math.max(...timers.map((t) => t.most))} per component, at any size)`
      : growing.map((t) => `${t.id} ${t.perEndpoint.toFixed(3)}`).join(', '),
    pass: growing.length === 0,
  });
  return targets;
}

const ns = (value: number): string => (Number.isFinite(value) ? String(Math.round(value)) : 'n/a');
const bytes = (value: number): string => (Number.isFinite(value) ? String(Math.round(value)) : 'n/a');

/** Spread over rounds, worst size: (max - min) / median in percent. Above ~10 %, the machine was busy. */
function spread(cells: readonly BalancerCell[]): string {
  const worst = Math.max(...cells.map((c) => (Math.max(...c.pickNs) - Math.min(...c.pickNs)) / c.pickMedianNs));
  return `${Math.round(worst * 100)}%`;
}

const BALANCER_HEADER = [
  'balancer', ...SIZES.map((s) => `ns/pick @${s.toLocaleString('en-US')}`), 'spread',
  `+feedback ns @${LARGEST.toLocaleString('en-US')}`, 'alloc B/pick', '+feedback', 'heap B/endpoint', 'timers', 'result',
];

function balancerRows(r: BalancersReport): string[][] {
  return r.balancers.map((b) => {
    const misses = verdicts(b);
    return [
      b.p2c ? `${b.id} (P2C)` : b.id,
      ...SIZES.map((s) => ns(at(b.cells, s)?.pickMedianNs ?? Number.NaN)),
      spread(b.cells),
      ns(at(b.cells, LARGEST)?.feedbackMedianNs ?? Number.NaN),
      maxOver(b.cells, (c) => c.allocatedBytesPerPick).toFixed(1),
      maxOver(b.cells, (c) => c.allocatedBytesPerFeedbackCycle).toFixed(0),
      bytes(Math.max(0, stateBytes(b.cells))),
      b.cells.map((c) => c.timers).join('/'),
      misses.length === 0 ? 'PASS' : `MISS (${misses.join(', ')})`,
    ];
  });
}

const HEALTH_HEADER = ['component', 'heap B/endpoint', `timers @${SIZES.map((s) => s.toLocaleString('en-US')).join('/')}`, 'timers after close', 'result'];

function healthRows(r: BalancersReport): string[][] {
  return r.health.map((h) => {
    const pass = stateBytes(h.cells) < MAX_STATE_BYTES_PER_ENDPOINT && timersPerEndpoint(h.cells) === 0;
    return [h.optIn ? `${h.id} (opt-in)` : h.id, bytes(Math.max(0, stateBytes(h.cells))), h.cells.map((c) => c.timers).join('/'), h.cells.map((c) => c.timersAfterClose).join('/'), pass ? 'PASS' : 'MISS'];
  });
}

function machineLine(r: BalancersReport): string {
  const m = r.machine;
  return `node ${m.node}, ${m.platform}, ${m.cpus} CPUs (${m.cpuModel}), load ${m.loadAverage1m.toFixed(2)} at start, ${r.loadAverageEnd1m.toFixed(2)} at end`;
}

const CAPTION = (o: BalancersOptions): string =>
  `median of ${o.rounds} rounds x ${o.picks.toLocaleString('en-US')} picks per size, after warm-up; each balancer in its own process; ` +
  'state: every endpoint answered once (2-50 ms), every fourth has an attempt in flight';

export function formatBalancersText(r: BalancersReport): string {
  return [
    `meshkit balancers bench, ${r.startedAt}`,
    machineLine(r),
    '',
    `picks: ${CAPTION(r.options)}`,
    textTable(BALANCER_HEADER, balancerRows(r)),
    '',
    'per-endpoint health state',
    textTable(HEALTH_HEADER, healthRows(r)),
    '',
    targetsText(passMissRows(r.targets)),
  ].join('\n');
}

export function formatBalancersMarkdown(r: BalancersReport): string {
  return [
    '# meshkit balancers bench (latest run)',
    '',
    `${r.startedAt}; ${machineLine(r)}.`,
    'See bench/README.md, "The `balancers` scenario", for what each number means.',
    '',
    `## picks (${CAPTION(r.options)})`,
    '',
    markdownTable(BALANCER_HEADER, balancerRows(r)),
    '',
    '## per-endpoint health state',
    '',
    markdownTable(HEALTH_HEADER, healthRows(r)),
    '',
    targetsMarkdown(passMissRows(r.targets)),
    '',
  ].join('\n');
}

export async function runBalancers(): Promise<void> {
  const options = readBalancersOptions();
  const startedAt = new Date().toISOString();
  const machine = describeMachine();
  const balancers: BalancersReport['balancers'][number][] = [];
  for (const subject of BALANCER_SUBJECTS) {
    progress(`${subject.id}: ${subject.setup}`);
    const [result] = await measureInChild(subject.id, options);
    if (result?.kind !== 'balancer') throw new Error(`balancers-process ${subject.id}: no result`);
    balancers.push({ ...result, setup: subject.setup, p2c: subject.p2c });
  }
  progress('health: outlier detection, endpoint breakers, active health checks');
  const health = (await measureInChild('health', options)).map((h) => {
    if (h.kind !== 'health') throw new Error('balancers-process health: unexpected result');
    const subject = HEALTH_SUBJECTS.find((s) => s.id === h.id);
    return { ...h, setup: subject?.setup ?? '', optIn: subject?.optIn ?? false };
  });
  const report: BalancersReport = {
    scenario: 'balancers',
    startedAt,
    machine,
    loadAverageEnd1m: loadavg()[0] ?? Number.NaN,
    options,
    balancers,
    health,
    targets: evaluateBalancerTargets(balancers, health),
  };
  console.log(formatBalancersText(report));
  await mkdir(options.resultsDir, { recursive: true });
  const json = join(options.resultsDir, `balancers-${startedAt.replace(/[:.]/g, '-')}.json`);
  const markdown = join(options.resultsDir, 'balancers-latest.md');
  await writeFile(json, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(markdown, formatBalancersMarkdown(report));
  console.log(`\nresults: ${json}\nmarkdown: ${markdown}`);
}
