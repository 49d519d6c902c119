import { buildBenchClient } from './meshkit-client.js';
import { median } from './stats.js';

export interface PipelineResult {
  readonly callsPerRound: number;
  readonly rounds: number;
  /** ns per call, one entry per round. */
  readonly directNs: readonly number[];
  readonly meshkitNs: readonly number[];
  /** meshkit - direct within each round. */
  readonly addedNs: readonly number[];
  /** Medians over the rounds. */
  readonly directMedianNs: number;
  readonly meshkitMedianNs: number;
  /** Median over rounds of (meshkit - direct) within the same round. */
  readonly addedMedianNs: number;
}

// Unreachable addresses on purpose: c.call never touches the network, and
// three of them make round robin do real work.
const ENDPOINTS = ['127.0.0.1:9', '127.0.0.1:10', '127.0.0.1:11'];
// Hoisted so neither loop allocates anything the other does not.
const work = (_endpoint: unknown, _ctx?: unknown): Promise<number> => Promise.resolve(1);
const CALL_OPTIONS = { idempotent: true } as const;

/** ns per call of `loop(calls)`; sequential awaits inside. */
async function timePerCall(loop: (calls: number) => Promise<void>, calls: number): Promise<number> {
  const start = process.hrtime.bigint();
  await loop(calls);
  return Number(process.hrtime.bigint() - start) / calls;
}

/**
 * The pipeline's own cost: `c.call(work)` through a client with every foundation
 * stage on, against `await work(endpoint)`. Rounds alternate which side goes first,
 * and the added cost is taken within each round, so drift (GC, CPU frequency,
 * the other process) cancels out instead of landing on one side.
 */
export async function measurePipeline(callsPerRound: number, rounds: number): Promise<PipelineResult> {
  const c = buildBenchClient('bench-pipeline', ENDPOINTS);
  try {
    // The direct side gets a real endpoint object, the one meshkit hands to `work`.
    const endpoint = await c.call((picked) => Promise.resolve(picked), CALL_OPTIONS);
    const direct = async (calls: number): Promise<void> => {
      for (let i = 0; i < calls; i++) await work(endpoint);
    };
    const meshkit = async (calls: number): Promise<void> => {
      for (let i = 0; i < calls; i++) await c.call(work, CALL_OPTIONS);
    };

    // Warm-up: let both loops reach optimised code before anything is recorded.
    const warmup = Math.max(10_000, Math.min(callsPerRound, 50_000));
    await direct(warmup);
    await meshkit(warmup);

    const directNs: number[] = [];
    const meshkitNs: number[] = [];
    const addedNs: number[] = [];
    for (let round = 0; round < rounds; round++) {
      let d: number;
      let m: number;
      if (round % 2 === 0) {
        d = await timePerCall(direct, callsPerRound);
        m = await timePerCall(meshkit, callsPerRound);
      } else {
        m = await timePerCall(meshkit, callsPerRound);
        d = await timePerCall(direct, callsPerRound);
      }
      directNs.push(d);
      meshkitNs.push(m);
      addedNs.push(m - d);
    }
    return {
      callsPerRound,
      rounds,
      directNs,
      meshkitNs,
      addedNs,
      directMedianNs: median(directNs),
      meshkitMedianNs: median(meshkitNs),
      addedMedianNs: median(addedNs),
    };
  } finally {
    await c.close();
  }
}
