// Summaries of one run: the numbers the table and the JSON line print.
import type { Sample } from './load.js';

/** The moment outlier detection was first seen to have an instance out of rotation. */
export interface Ejection {
  readonly instance: string;
  /** Whether it happened in the uncounted warm-up or in the measured run. */
  readonly phase: 'warm-up' | 'measured';
  /** Logical requests completed in that phase when the ejection was noticed (checked after each one). */
  readonly afterRequests: number;
  /** Requests the instance had received from this client by then, warm-up included. */
  readonly instanceReceived: number;
}

export interface Summary {
  readonly label: string;
  readonly heading: readonly [string, string];
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
  /** Requests each instance received in the measured run, by instance name. */
  readonly received: Readonly<Record<string, number>>;
  /** Requests each instance received in this client's uncounted warm-up, by instance name. */
  readonly warmupReceived: Readonly<Record<string, number>>;
  /** First ejection of each instance, in order; empty without outlier detection. */
  readonly ejections: readonly Ejection[];
  /** Instances out of rotation when the run ended. */
  readonly ejectedAtEnd: readonly string[];
}

/** What the run observed besides the samples. */
export interface RunFacts {
  readonly received: Readonly<Record<string, number>>;
  readonly warmupReceived: Readonly<Record<string, number>>;
  readonly ejections: readonly Ejection[];
  readonly ejectedAtEnd: readonly string[];
}

/** Nearest-rank percentile of an ascending array; 0 when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? 0;
}

export function summarize(
  label: string,
  heading: readonly [string, string],
  samples: readonly Sample[],
  facts: RunFacts,
): Summary {
  const { received } = facts;
  const sorted = samples.map((s) => s.ms).sort((a, b) => a - b);
  const succeeded = samples.filter((s) => s.ok).length;
  const outcomes: Record<string, number> = {};
  for (const s of samples) outcomes[s.outcome] = (outcomes[s.outcome] ?? 0) + 1;
  const totalReceived = Object.values(received).reduce((a, b) => a + b, 0);
  const n = samples.length;
  return {
    label,
    heading,
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
    warmupReceived: facts.warmupReceived,
    ejections: facts.ejections,
    ejectedAtEnd: facts.ejectedAtEnd,
  };
}
