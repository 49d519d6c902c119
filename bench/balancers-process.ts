/**
 * One subject of the `balancers` bench, measured in its own process (forked by
 * balancers.ts with `--expose-gc`), so that the JIT's view of one balancer's
 * pick never shapes another's: `node balancers-process.js <subject-id>` or
 * `node balancers-process.js health`. Sends its result to the parent over IPC.
 */
import { createHook } from 'node:async_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import type { Balancer, Picker } from '../src/balancing/balancer.js';
import type { CallContext } from '../src/core/call-context.js';
import { systemClock } from '../src/core/clock.js';
import type { Endpoint } from '../src/core/endpoint.js';
import { Outcomes } from '../src/core/outcome.js';
import {
  BALANCER_SUBJECTS, HEALTH_SUBJECTS, SIZES, benchAttempt, callPool, healthEndpoints, type BalancerSubject, type BenchAttempt,
} from './balancer-subjects.js';
import { median } from './stats.js';

/** What one balancer measured at one set size. */
export interface BalancerCell {
  readonly size: number;
  /** ns per pick, one value per round. */
  readonly pickNs: readonly number[];
  readonly pickMedianNs: number;
  /** ns per pick + onAttemptStart + onAttemptEnd, one value per round. */
  readonly feedbackNs: readonly number[];
  readonly feedbackMedianNs: number;
  /** Young-generation bytes allocated per pick (best of several tries). */
  readonly allocatedBytesPerPick: number;
  /** The same per pick + onAttemptStart + onAttemptEnd (informational: the target is on the pick). */
  readonly allocatedBytesPerFeedbackCycle: number;
  /** (heap + array buffers) the balancer and its picker hold, after GC, divided by the set size. */
  readonly heapBytesPerEndpoint: number;
  /** Timers (ref'd or not) the balancer's state added. */
  readonly timers: number;
}

export interface BalancerResult {
  readonly kind: 'balancer';
  readonly id: string;
  readonly cells: readonly BalancerCell[];
  /** The sum of every pick's port, so no loop can be optimised away. */
  readonly blackhole: number;
}

export interface HealthCell {
  readonly size: number;
  readonly heapBytesPerEndpoint: number;
  readonly timers: number;
  readonly timersAfterClose: number;
}

export interface HealthResult {
  readonly kind: 'health';
  readonly id: string;
  readonly cells: readonly HealthCell[];
}

export type ProcessResult = BalancerResult | HealthResult;

/** Settings the parent passes in the environment. */
const PICKS = Number(process.env['BENCH_BALANCER_PICKS'] ?? 500_000);
const ROUNDS = Number(process.env['BENCH_BALANCER_ROUNDS'] ?? 7);
/** Picks per allocation probe: small enough that the young generation does not fill (and get scavenged) during it. */
const ALLOCATION_PICKS = 20_000;

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('balancers-process needs --expose-gc');
const collect = gc;

function retained(): number {
  collect();
  collect();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

function youngUsed(): number {
  for (const space of getHeapSpaceStatistics()) if (space.space_name === 'new_space') return space.space_used_size;
  return Number.NaN;
}

/**
 * Counts live timers of every kind (ref'd or unref'd: meshkit's clock unrefs
 * its timers, so `process.getActiveResourcesInfo()` would not list them) with
 * an async hook, enabled only while state is being built.
 */
function timerCounter(): { readonly live: number; enable(): void; disable(): void } {
  const live = new Set<number>();
  const hook = createHook({
    init(id, type) {
      if (type === 'Timeout') live.add(id);
    },
    destroy(id) {
      live.delete(id);
    },
  });
  return {
    get live() {
      return live.size;
    },
    enable: () => void hook.enable(),
    disable: () => void hook.disable(),
  };
}

/** Destroy hooks run asynchronously: let them. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(() => setImmediate(resolve)));

let blackhole = 0;

// The measured loops. One function each, shared by every size, so the JIT sees the picker class it will see in a client.
function picks(picker: Picker, calls: readonly CallContext[], n: number): number {
  let sink = 0;
  const mask = calls.length - 1;
  for (let i = 0; i < n; i++) {
    const endpoint = picker.pick(calls[i & mask] as CallContext);
    sink = (sink + (endpoint === undefined ? 0 : endpoint.port)) | 0;
  }
  return sink;
}

function cycles(balancer: Balancer, picker: Picker, calls: readonly CallContext[], attempt: BenchAttempt, durations: Float64Array, n: number): number {
  let sink = 0;
  const mask = calls.length - 1;
  const durationMask = durations.length - 1;
  for (let i = 0; i < n; i++) {
    const endpoint = picker.pick(calls[i & mask] as CallContext) as Endpoint;
    attempt.endpoint = endpoint;
    // Time moves on 10 us per attempt without a clock read in the loop (the executor reads the clock; the balancer need not).
    attempt.startedAt += 0.01;
    balancer.onAttemptStart?.(attempt);
    balancer.onAttemptEnd?.(attempt, Outcomes.success, durations[i & durationMask] as number);
    sink = (sink + endpoint.port) | 0;
  }
  return sink;
}

function nsPer(n: number, run: () => number): number {
  const start = process.hrtime.bigint();
  blackhole = (blackhole + run()) | 0;
  return Number(process.hrtime.bigint() - start) / n;
}

/** Young-generation bytes per call of `run(n)`'s loop: (allocated by n - allocated by 0) / n, best of 5 (a scavenge spoils a try). */
function allocationPer(run: (n: number) => number): number {
  let best = Infinity;
  for (let attempt = 0; attempt < 5; attempt++) {
    collect();
    const empty0 = youngUsed();
    blackhole = (blackhole + run(0)) | 0;
    const empty1 = youngUsed();
    collect();
    const before = youngUsed();
    blackhole = (blackhole + run(ALLOCATION_PICKS)) | 0;
    const after = youngUsed();
    if (after < before) continue; // scavenged during the probe
    best = Math.min(best, Math.max(0, (after - before) - (empty1 - empty0)) / ALLOCATION_PICKS);
  }
  return best;
}

interface Built {
  readonly size: number;
  readonly balancer: Balancer;
  readonly picker: Picker;
  readonly calls: readonly CallContext[];
  readonly attempt: BenchAttempt;
  readonly heapBytesPerEndpoint: number;
  readonly timers: number;
}

function build(subject: BalancerSubject, size: number, timers: ReturnType<typeof timerCounter>): Built {
  // Discovery's endpoint objects and the calls exist before the balancer: not its state.
  const endpoints = subject.endpoints(size);
  const calls = callPool(subject.keyed);
  const timersBefore = timers.live;
  const before = retained();
  timers.enable();
  const { balancer, picker } = subject.build(endpoints, systemClock);
  timers.disable();
  const after = retained();
  return {
    size, balancer, picker, calls,
    attempt: benchAttempt(calls[0] as CallContext, endpoints[0] as Endpoint, systemClock.now()),
    heapBytesPerEndpoint: (after - before) / size,
    timers: timers.live - timersBefore,
  };
}

async function measureBalancer(subject: BalancerSubject): Promise<BalancerResult> {
  const timers = timerCounter();
  const built = SIZES.map((size) => build(subject, size, timers));
  await settle();
  const durations = Float64Array.from({ length: 1024 }, () => 2 + 48 * Math.random());
  // Warm-up: every size, both loops, until the JIT has settled.
  for (const b of built) {
    nsPer(PICKS, () => picks(b.picker, b.calls, PICKS));
    nsPer(PICKS, () => cycles(b.balancer, b.picker, b.calls, b.attempt, durations, PICKS));
    nsPer(PICKS, () => picks(b.picker, b.calls, PICKS));
  }
  // Rounds interleave the sizes, so a busy moment on the machine touches every size alike.
  const pickNs = built.map(() => [] as number[]);
  const feedbackNs = built.map(() => [] as number[]);
  for (let round = 0; round < ROUNDS; round++) {
    built.forEach((b, i) => pickNs[i]?.push(nsPer(PICKS, () => picks(b.picker, b.calls, PICKS))));
  }
  const allocated = built.map((b) => allocationPer((n) => picks(b.picker, b.calls, n)));
  for (let round = 0; round < ROUNDS; round++) {
    built.forEach((b, i) => feedbackNs[i]?.push(nsPer(PICKS, () => cycles(b.balancer, b.picker, b.calls, b.attempt, durations, PICKS))));
  }
  const allocatedWithFeedback = built.map((b) => allocationPer((n) => cycles(b.balancer, b.picker, b.calls, b.attempt, durations, n)));
  return {
    kind: 'balancer',
    id: subject.id,
    cells: built.map((b, i) => ({
      size: b.size,
      pickNs: pickNs[i] as number[],
      pickMedianNs: median(pickNs[i] as number[]),
      feedbackNs: feedbackNs[i] as number[],
      feedbackMedianNs: median(feedbackNs[i] as number[]),
      allocatedBytesPerPick: allocated[i] as number,
      allocatedBytesPerFeedbackCycle: allocatedWithFeedback[i] as number,
      heapBytesPerEndpoint: b.heapBytesPerEndpoint,
      timers: b.timers,
    })),
    blackhole,
  };
}

async function measureHealth(): Promise<HealthResult[]> {
  const results: HealthResult[] = [];
  const timers = timerCounter();
  for (const subject of HEALTH_SUBJECTS) {
    const cells: HealthCell[] = [];
    for (const size of SIZES) {
      const endpoints = healthEndpoints(size);
      await settle();
      const timersBefore = timers.live;
      const before = retained();
      timers.enable();
      const built = subject.build(endpoints, systemClock);
      await settle();
      const added = timers.live - timersBefore;
      const after = retained();
      await built.close();
      await settle();
      timers.disable();
      cells.push({ size, heapBytesPerEndpoint: (after - before) / size, timers: added, timersAfterClose: timers.live - timersBefore });
    }
    results.push({ kind: 'health', id: subject.id, cells });
  }
  return results;
}

async function main(): Promise<void> {
  const which = process.argv[2];
  let results: ProcessResult[];
  if (which === 'health') {
    results = await measureHealth();
  } else {
    const subject = BALANCER_SUBJECTS.find((s) => s.id === which);
    if (subject === undefined) throw new Error(`balancers-process: unknown subject ${JSON.stringify(which)}`);
    results = [await measureBalancer(subject)];
  }
  await new Promise<void>((resolve, reject) => {
    if (process.send === undefined) {
      console.log(JSON.stringify(results));
      resolve();
    } else {
      process.send(results, (error: Error | null) => (error === null ? resolve() : reject(error)));
    }
  });
}

await main();
