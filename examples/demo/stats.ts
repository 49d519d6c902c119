// Summaries of one run: the numbers the table and the JSON line print.
import type { Sample } from './load.js';

export interface Summary {
  readonly label: string;
  readonly requests: number;
  readonly succeeded: number;
  /** 0..1 */
  readonly successRate: number;
  /** Latency over all requests, failed ones included: what the caller waited. */
  readonly p50Ms: number;
  /** In the JSON only: a tail percentile that small smoke runs still measure well. */
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Requests the fleet received divided by logical requests sent. */
  readonly attemptsPerRequest: number;
  /** Count of each outcome, e.g. { "200": 290, "503": 10 }. */
  readonly outcomes: Readonly<Record<string, number>>;
  /** Requests each instance received, by instance name. */
  readonly received: Readonly<Record<string, number>>;
}

/** Nearest-rank percentile of an ascending array; 0 when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? 0;
}

export function summarize(
  label: string,
  samples: readonly Sample[],
  received: Readonly<Record<string, number>>,
): Summary {
  const sorted = samples.map((s) => s.ms).sort((a, b) => a - b);
  const succeeded = samples.filter((s) => s.ok).length;
  const outcomes: Record<string, number> = {};
  for (const s of samples) outcomes[s.outcome] = (outcomes[s.outcome] ?? 0) + 1;
  const totalReceived = Object.values(received).reduce((a, b) => a + b, 0);
  const n = samples.length;
  return {
    label,
    requests: n,
    succeeded,
    successRate: n === 0 ? 0 : succeeded / n,
    p50Ms: percentile(sorted, 50),
    p90Ms: percentile(sorted, 90),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted.at(-1) ?? 0,
    attemptsPerRequest: n === 0 ? 0 : totalReceived / n,
    outcomes,
    received,
  };
}
