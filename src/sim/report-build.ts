import type { BackendStatsSource } from './backend-stats.js';
import { cdfPoints, quantile, round } from './percentiles.js';
import type { SampleBuffer } from './percentiles.js';
import type {
  BackendReport, BreakerEvent, ClientReport, EjectionEvent, LatencySummary, LimiterSeries, SimReport,
} from './report.js';

/** Decimals of latencies (ms: to the microsecond) and of ratios and rates. */
const MS_DIGITS = 3;
const RATIO_DIGITS = 6;

/** What a recorder hands over of one tracked client. */
export interface TrackData {
  readonly name: string;
  readonly clients: readonly unknown[];
  readonly latencies: SampleBuffer;
  readonly succeeded: number;
  readonly errors: ReadonlyMap<string, number>;
  readonly calls: number;
  readonly attempts: number;
  readonly hedges: number;
  readonly retries: number;
  readonly samples: ReadonlyMap<string, readonly number[]>;
}

/** Everything a report is built from. */
export interface ReportInput {
  readonly scenario: string;
  readonly seed: number;
  readonly durationMs: number;
  readonly bucketMs: number;
  readonly tracks: readonly TrackData[];
  readonly backends: readonly BackendStatsSource[];
  readonly ejections: readonly EjectionEvent[];
  readonly breakers: readonly BreakerEvent[];
}

function ratio(part: number, whole: number): number {
  return whole === 0 ? 0 : round(part / whole, RATIO_DIGITS);
}

function latencySummary(sorted: Float64Array): LatencySummary {
  let sum = 0;
  for (const value of sorted) sum += value;
  const at = (q: number): number => round(quantile(sorted, q), MS_DIGITS);
  return {
    p50: at(0.5), p90: at(0.9), p99: at(0.99), p999: at(0.999), max: at(1),
    mean: round(sorted.length === 0 ? 0 : sum / sorted.length, MS_DIGITS),
  };
}

function clientReport(track: TrackData): ClientReport {
  const sorted = track.latencies.sorted();
  const userRequests = track.latencies.length;
  const errors: Record<string, number> = {};
  for (const code of [...track.errors.keys()].sort()) errors[code] = track.errors.get(code) as number;
  return {
    name: track.name,
    instances: track.clients.length,
    userRequests,
    succeeded: track.succeeded,
    failed: userRequests - track.succeeded,
    successRate: ratio(track.succeeded, userRequests),
    calls: track.calls,
    attempts: track.attempts,
    hedges: track.hedges,
    retries: track.retries,
    attemptsPerCall: ratio(track.attempts, track.calls),
    hedgesPerCall: ratio(track.hedges, track.calls),
    retriesPerCall: ratio(track.retries, track.calls),
    latencyMs: latencySummary(sorted),
    errors,
    cdf: cdfPoints(sorted).map(([value, fraction]) => [round(value, MS_DIGITS), fraction] as const),
  };
}

function backendReport(source: BackendStatsSource, bucketMs: number, buckets: number): BackendReport {
  const requests = new Array<number>(buckets).fill(0);
  const failures = new Array<number>(buckets).fill(0);
  let totalRequests = 0;
  let totalFailures = 0;
  for (const bucket of source.buckets()) {
    const index = Math.floor(bucket.start / bucketMs);
    if (index < 0 || index >= buckets) continue;
    requests[index] = (requests[index] as number) + bucket.arrivals;
    failures[index] = (failures[index] as number) + bucket.failed;
    totalRequests += bucket.arrivals;
    totalFailures += bucket.failed;
  }
  return { id: source.id, service: source.service, zone: source.zone ?? null, totalRequests, totalFailures, requests, failures };
}

/** Builds the {@link SimReport} of a run: fixed key order, rounded numbers, nothing from the wall clock. */
export function buildReport(input: ReportInput): SimReport {
  const buckets = Math.max(1, Math.ceil(input.durationMs / input.bucketMs));
  const limiters: LimiterSeries[] = [];
  for (const track of input.tracks) {
    for (const [series, values] of track.samples) {
      limiters.push({ client: track.name, series, values: values.map((value) => round(value, MS_DIGITS)) });
    }
  }
  return {
    scenario: input.scenario,
    seed: input.seed,
    durationMs: round(input.durationMs, MS_DIGITS),
    bucketMs: input.bucketMs,
    clients: input.tracks.map(clientReport),
    backends: input.backends.map((source) => backendReport(source, input.bucketMs, buckets)),
    timelines: {
      ejections: input.ejections.map((e) => ({ t: round(e.t, MS_DIGITS), client: e.client, endpoint: e.endpoint, ejected: e.ejected, reason: e.reason })),
      breakers: input.breakers.map((b) => ({ t: round(b.t, MS_DIGITS), client: b.client, breaker: b.breaker, state: b.state })),
      limiters,
    },
  };
}
