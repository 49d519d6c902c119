import { runClosedLoop } from './load.js';
import { BASELINE_ID, type HttpClientUnderTest } from './http-clients.js';
import { LatencyRecorder, median, percentileOfSorted } from './stats.js';
import type { Upstream } from './upstream.js';

export interface MatrixOptions {
  readonly seconds: number;
  readonly rounds: number;
  readonly warmupSeconds: number;
  readonly concurrencies: readonly number[];
}

/** One (client, concurrency) cell, aggregated over its rounds. */
export interface CellResult {
  readonly client: string;
  readonly description: string;
  readonly concurrency: number;
  readonly requests: number;
  readonly errors: number;
  readonly firstError?: string;
  readonly measuredSeconds: number;
  readonly reqPerSec: number;
  /** req/s of each round, in round order: their spread shows how noisy the cell was. */
  readonly roundReqPerSec: readonly number[];
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Bench-process CPU per successful request (load generator included, the same for every client). */
  readonly clientCpuMicrosPerRequest: number;
  /** Bench-process and upstream-process CPU as % of one core during the cell. */
  readonly clientCpuPercent: number;
  readonly upstreamCpuPercent: number;
  /**
   * req/s relative to the baseline at the same concurrency: the median over rounds of
   * (this client's req/s / the baseline's req/s in the same round). Each round's pair ran
   * seconds apart, so load from elsewhere on the machine mostly cancels out.
   */
  readonly ratioToBaseline: number;
  /** The same ratio from the totals (req/s column / baseline req/s column), for reference. */
  readonly ratioOfTotals: number;
}

interface Accumulator {
  ok: number;
  errors: number;
  firstError: unknown;
  elapsedMs: number;
  clientCpuMicros: number;
  upstreamCpuMicros: number;
  readonly latencies: LatencyRecorder;
  readonly roundReqPerSec: number[];
}

/**
 * The order of clients in a round. Odd rounds run the previous order backwards and
 * every pair of rounds starts one place further on, so over an even number of rounds
 * each client holds every position equally often: whoever runs after a heavy client
 * (GC debt, a hot upstream) is not always the same one.
 */
export function roundOrder<T>(items: readonly T[], round: number): T[] {
  const shift = Math.floor(round / 2) % Math.max(1, items.length);
  const rotated = [...items.slice(shift), ...items.slice(0, shift)];
  return round % 2 === 1 ? rotated.reverse() : rotated;
}

function describeError(error: unknown): string | undefined {
  if (error === undefined) return undefined;
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${error.message}` : `${error.name}: ${error.message}`;
  }
  return String(error);
}

/** Runs `work` with `client` activated (see {@link HttpClientUnderTest.activate}), deactivating it even if `work` throws. */
async function runAs<T>(client: HttpClientUnderTest, work: () => Promise<T>): Promise<T> {
  client.activate?.();
  try {
    return await work();
  } finally {
    client.deactivate?.();
  }
}

/** Runs every client at every concurrency against one upstream; see {@link roundOrder} for the schedule. */
export async function runHttpMatrix(
  clients: readonly HttpClientUnderTest[],
  upstream: Upstream,
  options: MatrixOptions,
  onProgress: (line: string) => void,
): Promise<CellResult[]> {
  const sliceSeconds = options.seconds / options.rounds;
  // A short unmeasured run before each slice: the code paths of the previous client leave the caches.
  const preSliceSeconds = Math.min(0.1, sliceSeconds / 10);
  const key = (client: HttpClientUnderTest, concurrency: number): string => `${client.id}@${concurrency}`;
  const acc = new Map<string, Accumulator>();

  for (const concurrency of options.concurrencies) {
    for (const client of clients) {
      await runAs(client, () => runClosedLoop(client.send, concurrency, options.warmupSeconds));
      acc.set(key(client, concurrency), {
        ok: 0, errors: 0, firstError: undefined, elapsedMs: 0, clientCpuMicros: 0, upstreamCpuMicros: 0,
        latencies: new LatencyRecorder(), roundReqPerSec: [],
      });
    }
  }
  onProgress(`warm-up done (${options.warmupSeconds.toFixed(2)} s per cell)`);

  for (let round = 0; round < options.rounds; round++) {
    for (const concurrency of options.concurrencies) {
      for (const client of roundOrder(clients, round)) {
        const cell = acc.get(key(client, concurrency)) as Accumulator;
        const { result, cpu, upstreamBefore, upstreamAfter } = await runAs(client, async () => {
          if (preSliceSeconds > 0) await runClosedLoop(client.send, concurrency, preSliceSeconds);
          const upstreamBefore = await upstream.usage();
          const cpuBefore = process.cpuUsage();
          const result = await runClosedLoop(client.send, concurrency, sliceSeconds);
          const cpu = process.cpuUsage(cpuBefore);
          return { result, cpu, upstreamBefore, upstreamAfter: await upstream.usage() };
        });
        cell.ok += result.ok;
        cell.errors += result.errors;
        cell.firstError ??= result.firstError;
        cell.elapsedMs += result.elapsedMs;
        cell.clientCpuMicros += cpu.user + cpu.system;
        cell.upstreamCpuMicros += upstreamAfter.cpuMicros - upstreamBefore.cpuMicros;
        cell.latencies.addAll(result.latencies);
        cell.roundReqPerSec.push(result.ok / (result.elapsedMs / 1000));
      }
    }
    onProgress(`round ${round + 1}/${options.rounds} done`);
  }

  const cells: Omit<CellResult, 'ratioToBaseline' | 'ratioOfTotals'>[] = [];
  for (const concurrency of options.concurrencies) {
    for (const client of clients) {
      const cell = acc.get(key(client, concurrency)) as Accumulator;
      const sorted = cell.latencies.sorted();
      const elapsedMicros = cell.elapsedMs * 1000;
      const firstError = describeError(cell.firstError);
      cells.push({
        client: client.id,
        description: client.description,
        concurrency,
        requests: cell.ok,
        errors: cell.errors,
        ...(firstError === undefined ? {} : { firstError }),
        measuredSeconds: cell.elapsedMs / 1000,
        reqPerSec: cell.ok / (cell.elapsedMs / 1000),
        roundReqPerSec: cell.roundReqPerSec,
        p50Ms: percentileOfSorted(sorted, 50),
        p99Ms: percentileOfSorted(sorted, 99),
        clientCpuMicrosPerRequest: cell.ok > 0 ? cell.clientCpuMicros / cell.ok : Number.NaN,
        clientCpuPercent: (cell.clientCpuMicros / elapsedMicros) * 100,
        upstreamCpuPercent: (cell.upstreamCpuMicros / elapsedMicros) * 100,
      });
    }
  }
  return cells.map((cell) => {
    const baseline = cells.find((c) => c.client === BASELINE_ID && c.concurrency === cell.concurrency);
    if (baseline === undefined) return { ...cell, ratioToBaseline: Number.NaN, ratioOfTotals: Number.NaN };
    const perRound = cell.roundReqPerSec.map((rate, round) => rate / (baseline.roundReqPerSec[round] ?? Number.NaN));
    return { ...cell, ratioToBaseline: median(perRound), ratioOfTotals: cell.reqPerSec / baseline.reqPerSec };
  });
}
