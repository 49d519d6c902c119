import type CircuitBreaker from 'opossum';
import type { SharedRotation } from './circuit-breaker-rotation.js';

/** The thresholds and rolling window of a breaker (both the service-level and the per-endpoint settings have them). */
export interface BreakerWindowSettings {
  readonly errorThreshold: number;
  readonly volumeThreshold: number;
  readonly resetTimeoutMs: number;
  readonly windowMs: number;
  readonly buckets: number;
}

/**
 * The opossum options every meshkit breaker uses: its thresholds and window,
 * and nothing opossum would run per call or per breaker on its own.
 * @internal Shared by src/policies/circuit-breaker.ts and src/health/endpoint-breaker.ts.
 */
export function opossumOptions<TI extends unknown[]>(name: string, settings: BreakerWindowSettings, rotation: SharedRotation): CircuitBreaker.Options<TI> {
  return {
    name,
    errorThresholdPercentage: settings.errorThreshold * 100,
    volumeThreshold: settings.volumeThreshold,
    resetTimeout: settings.resetTimeoutMs,
    rollingCountTimeout: settings.windowMs,
    rollingCountBuckets: settings.buckets,
    // Deadlines and per-try timeouts are meshkit's (and an endpoint breaker only
    // records outcomes already known): no opossum timer per call.
    timeout: false,
    // No latency percentiles and no snapshot timer: nobody reads them.
    rollingPercentilesEnabled: false,
    enableSnapshots: false,
    // Rotate the window on the shared timer: 1,000 breakers cost one timer, not 1,000.
    rotateBucketController: rotation,
  };
}

/**
 * Empties every bucket of opossum's rolling window. Called when a breaker
 * closes, so that it starts closed with an empty window (as Polly does): old
 * failures must not re-open it at once.
 * @internal
 */
export function clearWindow(breaker: CircuitBreaker): void {
  for (const bucket of breaker.status.window) {
    const counts = bucket as unknown as Record<string, unknown>;
    for (const key of Object.keys(counts)) if (typeof counts[key] === 'number') counts[key] = 0;
    bucket.latencyTimes.length = 0;
  }
}
