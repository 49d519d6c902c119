import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { LatencyRecorder } from './stats.js';

/** One request of a client under test; resolves once the response body has been read fully. */
export type Operation = () => Promise<unknown>;

export interface LoadResult {
  readonly ok: number;
  readonly errors: number;
  /** Wall time from the start until the last in-flight request finished. */
  readonly elapsedMs: number;
  /** Latency of each successful request, in milliseconds. */
  readonly latencies: LatencyRecorder;
  readonly firstError: unknown;
}

/**
 * Closed-loop load: `concurrency` workers, each sending its next request as soon as
 * the previous one finished, until `seconds` have passed. Requests in flight at the
 * deadline finish and count, and the elapsed time includes them, so req/s is honest.
 *
 * After a failed request the worker yields to the event loop before its next one.
 * A client that refuses locally (a limiter shedding, a throttle) rejects within
 * microtasks; without the yield such a worker would loop on microtasks alone and
 * starve the I/O of every request in flight until the deadline.
 */
export async function runClosedLoop(operation: Operation, concurrency: number, seconds: number): Promise<LoadResult> {
  const latencies = new LatencyRecorder();
  let ok = 0;
  let errors = 0;
  let firstError: unknown;
  const start = performance.now();
  const deadline = start + seconds * 1000;

  async function worker(): Promise<void> {
    for (;;) {
      const sent = performance.now();
      if (sent >= deadline) return;
      try {
        await operation();
        latencies.add(performance.now() - sent);
        ok++;
      } catch (error) {
        errors++;
        firstError ??= error;
        await nextMacrotask();
      }
    }
  }

  const workers: Promise<void>[] = [];
  for (let i = 0; i < concurrency; i++) workers.push(worker());
  await Promise.all(workers);
  return { ok, errors, elapsedMs: performance.now() - start, latencies, firstError };
}
