import {
  adaptiveConcurrency, adaptiveThrottle, bulkhead, client, gradient2, rateLimit, roundRobin, undiciTransport, type CallObserverFactory,
} from '../src/index.js';

/** What the foundation client turns on: every stage of the foundation, so the numbers are the cost a real user pays. */
export const FOUNDATION_STAGES = {
  discovery: 'static endpoints',
  balancer: 'roundRobin()',
  timeout: { perTry: '1s', total: '2s' },
  retry: { attempts: 3 },
} as const;

/**
 * What the full-stack client turns on: every built-in stage and every admission
 * policy of the resilience issue, each sized so it never refuses on the success
 * path. The hedge delay is a fixed 1 s rather than the default p95: with p95 a
 * hedge would fire on the slowest ~5 % of HTTP requests (within its budget), so
 * the row would measure extra load, not the pipeline's cost. Armed, it never fires.
 * Policies are in docs/policies.md's recommended order, outermost first.
 */
export const FULL_STACK_STAGES = {
  discovery: 'static endpoints',
  balancer: 'peakEwma() (the default)',
  timeout: { perTry: '1s', total: '2s' },
  retry: { attempts: 3, budget: 'default (20 % + 10/s over 10 s)' },
  hedge: { after: '1s' },
  outlierDetection: '{} (Envoy defaults)',
  policies: [
    'rateLimit({ rate: 1e9 })',
    'adaptiveThrottle({})',
    '.circuitBreaker({})',
    'bulkhead({ maxConcurrent: 1000 })',
    'adaptiveConcurrency({ algorithm: gradient2({ initialLimit: 64, minLimit: 64 }) }) (max 200)',
  ],
} as const;

/**
 * The adaptive concurrency floor of the full stack: the HTTP rows' 64
 * closed-loop callers. Sized like the other policies (never refusing on the
 * success path) so that the row measures what the limiter costs, not how
 * much it sheds. With gradient2's defaults (initial and min 20) it holds the
 * limit near 20-24 against this one-process upstream, whose latency rises
 * with every extra call in flight, and refuses the rest: the right answer
 * for a saturated upstream, but not a cost.
 */
export const FULL_STACK_LIMIT = 64;

/** A meshkit client with every foundation stage on; `connections` sets the undici transport's pool size; `telemetry` adds an observer. */
export function buildBenchClient(name: string, endpoints: readonly string[], connections?: number, telemetry?: CallObserverFactory) {
  let builder = client(name)
    .endpoints([...endpoints])
    .balancer(roundRobin())
    .timeout({ perTry: FOUNDATION_STAGES.timeout.perTry, total: FOUNDATION_STAGES.timeout.total })
    .retry({ attempts: FOUNDATION_STAGES.retry.attempts });
  if (connections !== undefined) builder = builder.transport(undiciTransport({ connections }));
  if (telemetry !== undefined) builder = builder.telemetry(telemetry);
  return builder.build();
}

/** A meshkit client with {@link FULL_STACK_STAGES}; `connections` sets the undici transport's pool size. */
export function buildFullStackClient(name: string, endpoints: readonly string[], connections?: number) {
  let builder = client(name)
    .endpoints([...endpoints])
    .timeout({ perTry: FULL_STACK_STAGES.timeout.perTry, total: FULL_STACK_STAGES.timeout.total })
    .retry({ attempts: FULL_STACK_STAGES.retry.attempts })
    .hedge({ after: FULL_STACK_STAGES.hedge.after })
    .outlierDetection({})
    .policy(rateLimit({ rate: 1e9 }))
    .policy(adaptiveThrottle({}))
    .circuitBreaker({})
    .policy(bulkhead({ maxConcurrent: 1000 }))
    .policy(adaptiveConcurrency({ algorithm: gradient2({ initialLimit: FULL_STACK_LIMIT, minLimit: FULL_STACK_LIMIT }) }));
  if (connections !== undefined) builder = builder.transport(undiciTransport({ connections }));
  return builder.build();
}

export type BenchClient = ReturnType<typeof buildBenchClient>;
