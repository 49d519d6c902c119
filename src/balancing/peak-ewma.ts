import type { AttemptContext } from '../core/attempt.js';
import type { Clock } from '../core/clock.js';
import { parseDuration, parsePositiveDuration, type Duration } from '../core/duration.js';
import type { Endpoint } from '../core/endpoint.js';
import type { Outcome } from '../core/outcome.js';
import type { Balancer, BalancerEnvironment, BalancerFactory, EndpointLoad } from './balancer.js';
import { EndpointStates } from './endpoint-states.js';
import { readOptions } from './options.js';
import { P2cPicker } from './p2c-picker.js';
import { PeakEwmaCost } from './peak-ewma-cost.js';

/** Options of {@link peakEwma}. */
export interface PeakEwmaOptions {
  /** Time constant of the moving average and of the decay toward zero. Default `'10s'` (Finagle, linkerd2). */
  readonly decay?: Duration;
  /** Cost of an endpoint that has not answered yet, in ms (or a duration string). Default 30. */
  readonly defaultRttMs?: Duration;
  /**
   * Latency a failed attempt (`outcome.ok === false`, except aborts by the
   * caller) counts as, when it took less: fast failures must not look fast.
   * Set it well above the service's normal latency; 0 counts failures at
   * their real duration. Default `'1s'`.
   */
  readonly failurePenalty?: Duration;
}

class PeakEwmaPicker extends P2cPicker {
  readonly #costs: readonly PeakEwmaCost[];

  constructor(endpoints: readonly Endpoint[], costs: readonly PeakEwmaCost[], clock: Clock) {
    super(endpoints, clock, 2);
    this.#costs = costs;
  }

  /** ln of the decayed load, up to a term shared by all endpoints (see PeakEwmaCost.score): no clock read. */
  protected load(index: number): number {
    const cost = this.#costs[index] as PeakEwmaCost;
    return cost.pending === 0 ? cost.score : cost.score + Math.log(cost.pending + 1);
  }
}

/**
 * Peak EWMA: power of two choices over `cost * (pending + 1)`, where cost is
 * a peak-sensitive moving average of each endpoint's round-trip time
 * (Finagle's `PeakEwma`, linkerd2-proxy's balancer, Envoy's `peak_ewma`
 * policy). Slow or queueing endpoints lose traffic within one response; the
 * cost read decays toward zero with `decay` (default 10 s), so avoided
 * endpoints are probed again. Fresh endpoints start at `defaultRttMs`
 * (default 30 ms).
 *
 * Latency-only balancers are drawn to endpoints that fail fast (Envoy's
 * Peak EWMA docs say to pair it with outlier detection); so a failed attempt
 * counts as at least `failurePenalty` (default 1 s). Attempts the caller
 * aborted say nothing about the endpoint and are not recorded. Weights are
 * ignored, as in Finagle and linkerd2. State is kept per `endpoint.id` and
 * survives set updates; a pick draws two random numbers and reads no clock
 * (decay is compared in log space), at any set size.
 * Throws `ERR_INVALID_CONFIG` naming `balancer.<option>` for a bad value.
 */
export function peakEwma(options?: PeakEwmaOptions): BalancerFactory {
  const given = readOptions(options, ['decay', 'defaultRttMs', 'failurePenalty']);
  const tau = given['decay'] === undefined ? 10_000 : parsePositiveDuration(given['decay'], 'balancer.decay');
  const defaultRtt = given['defaultRttMs'] === undefined ? 30 : parseDuration(given['defaultRttMs'], 'balancer.defaultRttMs');
  const penalty = given['failurePenalty'] === undefined ? 1000 : parseDuration(given['failurePenalty'], 'balancer.failurePenalty');
  return Object.freeze({
    name: 'p2c-peak-ewma',
    create(environment: BalancerEnvironment): Balancer {
      const clock = environment.clock;
      const costs = new EndpointStates<PeakEwmaCost>(() => new PeakEwmaCost(defaultRtt, clock.now(), tau));
      return {
        update: (endpoints) => new PeakEwmaPicker(endpoints, costs.sync(endpoints), clock),
        onAttemptStart(attempt: AttemptContext): void {
          const cost = costs.get(attempt.endpoint.id);
          if (cost !== undefined) cost.pending++;
        },
        describe(endpoint: Endpoint): EndpointLoad | undefined {
          const cost = costs.get(endpoint.id);
          if (cost === undefined) return undefined;
          const now = clock.now();
          return { inFlight: cost.pending, latencyMs: cost.read(now), load: cost.load(now) };
        },
        onAttemptEnd(attempt: AttemptContext, outcome: Outcome, durationMs: number): void {
          const cost = costs.get(attempt.endpoint.id);
          if (cost === undefined) return; // the endpoint left the set
          if (cost.pending > 0) cost.pending--;
          if (outcome.reason === 'aborted') return;
          const rtt = outcome.ok || durationMs >= penalty ? durationMs : penalty;
          cost.observe(rtt, clock.now());
        },
      };
    },
  });
}
