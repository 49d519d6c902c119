import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  adaptiveConcurrency, adaptiveThrottle, bulkhead, client, rateLimit, subscribe, type Endpoint,
} from '../src/index.js';
import { breakerRotations } from '../src/policies/circuit-breaker.js';
import { describeMachine, type MachineInfo } from './machine.js';
import { textTable } from './table.js';

/** What the soak run measured; also written as `soak-<timestamp>.json`. */
export interface SoakReport {
  readonly startedAt: string;
  readonly machine: MachineInfo;
  readonly calls: number;
  readonly concurrency: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly seconds: number;
  readonly callsPerSecond: number;
  /** heapUsed after a full GC, MB: after the warm-up, at each sample, after the run, after close(). */
  readonly heapMb: { readonly warm: number; readonly samples: readonly { readonly calls: number; readonly mb: number }[]; readonly end: number; readonly closed: number };
  readonly unhandledRejections: number;
  /** Timers (any code in the process) alive after `close()`, and the breakers' shared rotations left. */
  readonly timersLeft: number;
  readonly rotationsLeft: number;
  /** Ejections seen on the `ejection` channel during the run, by reason. */
  readonly ejections: Readonly<Record<string, number>>;
}

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return value;
}

/**
 * Counts live timers of the whole process by wrapping the global timer
 * functions (meshkit's system clock, opossum and undici all call them). Cheaper
 * than an async hook, which would slow every promise and distort calls/s.
 */
function trackLiveTimers(): { readonly live: number; restore(): void } {
  const live = new Set<unknown>();
  const { setTimeout: set, clearTimeout: clear, setInterval: every, clearInterval: clearEvery } = globalThis;
  globalThis.setTimeout = ((callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const timer = set((...a: unknown[]) => {
      live.delete(timer);
      callback(...a);
    }, ms, ...args);
    live.add(timer);
    return timer;
  }) as typeof globalThis.setTimeout;
  // Cleared timers (by clearTimeout or clearInterval) are no longer live.
  const forgetting = (clearTimer: (timer: NodeJS.Timeout | undefined) => void) => (timer: NodeJS.Timeout | undefined): void => {
    live.delete(timer);
    clearTimer(timer);
  };
  globalThis.clearTimeout = forgetting(clear) as typeof globalThis.clearTimeout;
  globalThis.setInterval = ((callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const timer = every(callback, ms, ...args);
    live.add(timer);
    return timer;
  }) as typeof globalThis.setInterval;
  globalThis.clearInterval = forgetting(clearEvery) as typeof globalThis.clearInterval;
  return {
    get live() {
      return live.size;
    },
    restore() {
      Object.assign(globalThis, { setTimeout: set, clearTimeout: clear, setInterval: every, clearInterval: clearEvery });
    },
  };
}

const mb = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 100) / 100;

/**
 * `npm run bench -- soak`: 1,000,000 calls (`BENCH_SOAK_CALLS`) through the
 * full pipeline with `client.call` and a function transport (no network),
 * `BENCH_SOAK_CONCURRENCY` (16) in flight (a closed loop). The client has every stage of the
 * bench's full stack plus per-endpoint circuit breakers; every 50th attempt
 * fails with a refused connection (retries, budgets and backoff run), and one
 * of the three endpoints fails half its attempts, so its breaker and outlier
 * detection keep taking it out and letting it back. Prints heapUsed after GC
 * (after a warm-up, every 100,000 calls, at the end, after close()),
 * unhandled rejections, timers left after close() and calls/s.
 */
export async function runSoak(): Promise<void> {
  const calls = envInt('BENCH_SOAK_CALLS', 1_000_000);
  // 16: under adaptive concurrency's floor (gradient2, min 20), so the limit never sheds on this path.
  const concurrency = envInt('BENCH_SOAK_CONCURRENCY', 16);
  const resultsDir = process.env['BENCH_RESULTS_DIR'] ?? fileURLToPath(new URL('../../bench/results/', import.meta.url));
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const heap = (): number => {
    gc();
    gc();
    return process.memoryUsage().heapUsed;
  };
  const startedAt = new Date().toISOString();
  const machine = describeMachine();

  let unhandled = 0;
  const onUnhandled = (): void => {
    unhandled++;
  };
  process.on('unhandledRejection', onUnhandled);
  const ejections: Record<string, number> = {};
  const unsubscribe = subscribe('ejection', (m) => {
    if (m.ejected) ejections[m.reason ?? 'unknown'] = (ejections[m.reason ?? 'unknown'] ?? 0) + 1;
  });
  const timers = trackLiveTimers();

  const c = client('bench-soak')
    .endpoints(['127.0.0.1:9', '127.0.0.1:10', '127.0.0.1:11'])
    .timeout({ perTry: '1s', total: '2s' })
    .retry({ attempts: 3, backoff: { base: 0.1, cap: 0.2 } })
    .hedge({ after: '1s' })
    .outlierDetection({})
    .endpointCircuitBreakers({ resetTimeout: '200ms' })
    .policy(rateLimit({ rate: 1e9 }))
    .policy(adaptiveThrottle({}))
    .circuitBreaker({ volumeThreshold: 1_000_000 })
    .policy(bulkhead({ maxConcurrent: 1000 }))
    .policy(adaptiveConcurrency({}))
    .build();
  const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
  let attempts = 0;
  let flaky = 0;
  const work = (endpoint: Endpoint): Promise<number> => {
    if (endpoint.port === 11 && ++flaky % 2 === 0) return Promise.reject(refused);
    return ++attempts % 50 === 0 ? Promise.reject(refused) : Promise.resolve(attempts);
  };
  const options = { idempotent: true } as const;
  let succeeded = 0;
  let failed = 0;
  const ok = (): void => {
    succeeded++;
  };
  const fail = (): void => {
    failed++;
  };
  // A closed loop: `concurrency` workers, each starting its next call when the last settles
  // (a retry's backoff holds up only its own worker).
  const batch = async (count: number): Promise<void> => {
    let started = 0;
    const worker = async (): Promise<void> => {
      while (started < count) {
        started++;
        await c.call(work, options).then(ok, fail);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  };

  await batch(50_000); // warm-up: JIT, the balancer's estimates, the budgets' windows
  succeeded = 0;
  failed = 0;
  const warm = heap();
  const samples: { calls: number; mb: number }[] = [];
  const sampleEvery = Math.max(concurrency, Math.floor(calls / 10));
  let elapsedNs = 0n;
  for (let done = 0; done < calls; done += sampleEvery) {
    const n = Math.min(sampleEvery, calls - done);
    const start = process.hrtime.bigint();
    await batch(n);
    elapsedNs += process.hrtime.bigint() - start;
    samples.push({ calls: done + n, mb: mb(heap()) });
  }
  const end = heap();
  await c.close();
  unsubscribe();
  // Cleared timers are dropped from the set at once; give close()'s own promises a turn.
  await new Promise((resolve) => setImmediate(resolve));
  const timersLeft = timers.live;
  timers.restore();
  const closed = heap();
  process.off('unhandledRejection', onUnhandled);

  const seconds = Number(elapsedNs) / 1e9;
  const report: SoakReport = {
    startedAt, machine, calls, concurrency, succeeded, failed, seconds: Math.round(seconds * 100) / 100,
    callsPerSecond: Math.round(calls / seconds),
    heapMb: { warm: mb(warm), samples, end: mb(end), closed: mb(closed) },
    unhandledRejections: unhandled,
    timersLeft,
    rotationsLeft: breakerRotations().length,
    ejections,
  };

  console.log(`soak: ${calls.toLocaleString('en-US')} calls through the full pipeline, ${concurrency} at a time (${machine.node}, ${machine.cpuModel}, ${machine.cpus} CPUs)`);
  console.log(textTable(['heap after GC', 'MB'], [
    ['after warm-up (50,000 calls)', report.heapMb.warm.toFixed(2)],
    ...samples.map((s) => [`after ${s.calls.toLocaleString('en-US')}`, s.mb.toFixed(2)]),
    ['after close()', report.heapMb.closed.toFixed(2)],
  ]));
  console.log(textTable(['measure', 'value'], [
    ['heap growth, warm-up -> end', `${(report.heapMb.end - report.heapMb.warm).toFixed(2)} MB`],
    ['calls succeeded / failed', `${succeeded.toLocaleString('en-US')} / ${failed.toLocaleString('en-US')}`],
    ['calls/s', report.callsPerSecond.toLocaleString('en-US')],
    ['unhandled rejections', String(unhandled)],
    ['timers alive after close()', String(timersLeft)],
    ['breaker rotations alive after close()', String(report.rotationsLeft)],
    ['ejections during the run', Object.entries(ejections).map(([reason, n]) => `${reason} ${n}`).join(', ') || 'none'],
  ]));
  await mkdir(resultsDir, { recursive: true });
  const json = join(resultsDir, `soak-${startedAt.replace(/[:.]/g, '-')}.json`);
  await writeFile(json, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`soak: wrote ${json}`);
}
