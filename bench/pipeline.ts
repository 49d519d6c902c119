import {
  circuitBreaker, ConsecutiveBreaker, handleAll, retry, timeout, TimeoutStrategy, wrap,
} from 'cockatiel';
import pRetry from 'p-retry';
import { buildBenchClient, buildFullStackClient } from './meshkit-client.js';
import { roundOrder } from './http-matrix.js';
import { median } from './stats.js';
import { telemetryPipelineLoops } from './telemetry.js';
import { sdkAloneLoop } from './telemetry-sdk-alone.js';

/** One wrapper of the same call, measured against the direct call in the same rounds. */
export interface PipelineSubject {
  /** Stable id, used in the JSON and by the targets. */
  readonly id: string;
  /** Row label in the table. */
  readonly label: string;
  /** ns per call, one entry per round. */
  readonly ns: readonly number[];
  /** (this - direct) within each round. */
  readonly addedNs: readonly number[];
  readonly medianNs: number;
  /** Median over rounds of (this - direct) within the same round: what the wrapper costs per call. */
  readonly addedMedianNs: number;
}

export interface PipelineResult {
  readonly callsPerRound: number;
  readonly rounds: number;
  /** ns per call of the direct call, one entry per round. */
  readonly directNs: readonly number[];
  readonly directMedianNs: number;
  /** Every wrapper, in table order: foundation, full stack, cockatiel, p-retry. */
  readonly subjects: readonly PipelineSubject[];
}

export const FOUNDATION_ID = 'meshkit-foundation';
export const FULL_STACK_ID = 'meshkit-full-stack';
export const COCKATIEL_ID = 'cockatiel';
export const P_RETRY_ID = 'p-retry';
const DIRECT_ID = 'direct';

// Unreachable addresses on purpose: c.call never touches the network, and
// three of them make the balancers do real work.
const ENDPOINTS = ['127.0.0.1:9', '127.0.0.1:10', '127.0.0.1:11'];
// Hoisted so no loop allocates anything the others do not.
const work = (_endpoint: unknown, _ctx?: unknown): Promise<number> => Promise.resolve(1);
const CALL_OPTIONS = { idempotent: true } as const;
const P_RETRY_OPTIONS = { retries: 2 } as const;

type Loop = (calls: number) => Promise<void>;

/** ns per call of `loop(calls)`; sequential awaits inside. */
async function timePerCall(loop: Loop, calls: number): Promise<number> {
  const start = process.hrtime.bigint();
  await loop(calls);
  return Number(process.hrtime.bigint() - start) / calls;
}

/**
 * What wrapping one call costs, with no network: `work` through the foundation
 * client, the full-stack client, cockatiel's wrap(retry, breaker, timeout) and
 * p-retry, each against `await work(endpoint)`. Every round runs the direct call
 * and every wrapper once, in an order that changes every round (the HTTP
 * matrix's `roundOrder`), and the added cost is taken within each round, so
 * drift (GC, CPU frequency, the other process) cancels out instead of landing
 * on one side.
 */
export async function measurePipeline(callsPerRound: number, rounds: number): Promise<PipelineResult> {
  const foundation = buildBenchClient('bench-pipeline', ENDPOINTS);
  const fullStack = buildFullStackClient('bench-pipeline-full', ENDPOINTS);
  const telemetry = telemetryPipelineLoops(ENDPOINTS, work, CALL_OPTIONS);
  let sdkAlone: ReturnType<typeof sdkAloneLoop> | undefined;
  try {
    // Every side gets a real endpoint object, the one meshkit hands to `work`.
    const endpoint = await foundation.call((picked) => Promise.resolve(picked), CALL_OPTIONS);
    sdkAlone = sdkAloneLoop(endpoint, work);
    const thunk = (): Promise<number> => work(endpoint);
    // Following cockatiel's README: retry outermost, then the breaker, then a cooperative timeout.
    const cockatiel = wrap(
      retry(handleAll, { maxAttempts: 2 }),
      circuitBreaker(handleAll, { halfOpenAfter: 5000, breaker: new ConsecutiveBreaker(5) }),
      timeout(1000, TimeoutStrategy.Cooperative),
    );

    const loops: { readonly id: string; readonly label: string; readonly loop: Loop }[] = [
      {
        id: DIRECT_ID, label: 'direct call (await fn(endpoint))',
        loop: async (calls) => { for (let i = 0; i < calls; i++) await work(endpoint); },
      },
      {
        id: FOUNDATION_ID, label: 'meshkit foundation c.call(fn)',
        loop: async (calls) => { for (let i = 0; i < calls; i++) await foundation.call(work, CALL_OPTIONS); },
      },
      {
        id: FULL_STACK_ID, label: 'meshkit full stack c.call(fn)',
        loop: async (calls) => { for (let i = 0; i < calls; i++) await fullStack.call(work, CALL_OPTIONS); },
      },
      {
        id: COCKATIEL_ID, label: 'cockatiel wrap(retry, breaker, timeout)',
        loop: async (calls) => { for (let i = 0; i < calls; i++) await cockatiel.execute(thunk); },
      },
      {
        id: P_RETRY_ID, label: 'p-retry pRetry(fn, { retries: 2 })',
        loop: async (calls) => { for (let i = 0; i < calls; i++) await pRetry(thunk, P_RETRY_OPTIONS); },
      },
      ...telemetry.loops,
      sdkAlone,
    ];

    // Warm-up: let every loop reach optimised code before anything is recorded.
    const warmup = Math.max(10_000, Math.min(callsPerRound, 50_000));
    for (const { loop } of loops) await loop(warmup);

    const ns = new Map<string, number[]>(loops.map(({ id }) => [id, []]));
    for (let round = 0; round < rounds; round++) {
      for (const { id, loop } of roundOrder(loops, round)) {
        (ns.get(id) as number[]).push(await timePerCall(loop, callsPerRound));
      }
    }

    const directNs = ns.get(DIRECT_ID) as number[];
    const subjects = loops.filter(({ id }) => id !== DIRECT_ID).map(({ id, label }): PipelineSubject => {
      const own = ns.get(id) as number[];
      const addedNs = own.map((value, round) => value - (directNs[round] as number));
      return { id, label, ns: own, addedNs, medianNs: median(own), addedMedianNs: median(addedNs) };
    });
    return { callsPerRound, rounds, directNs, directMedianNs: median(directNs), subjects };
  } finally {
    await Promise.allSettled([foundation.close(), fullStack.close(), telemetry.close(), sdkAlone?.close()]);
  }
}
