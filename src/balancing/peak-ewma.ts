import type { AttemptContext } from '../core/attempt.js';
import { parseDuration, parsePositiveDuration, type Duration } from '../core/duration.js';
import type { Endpoint } from '../core/endpoint.js';
import type { Outcome } from '../core/outcome.js';
import type { Balancer, BalancerEnvironment, BalancerFactory, EndpointLoad } from './balancer.js';
import { EndpointStates } from './endpoint-states.js';
import { readOptions } from './options.js';
import { P2cPicker, weightsDiffer } from './p2c-picker.js';
import { PeakEwmaCost } from './peak-ewma-cost.js';
import { PickRandom } from './pick-random.js';
import { StateSlab } from './state-slab.js';

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
  readonly #slab: StateSlab;
  /** Each endpoint's slot in the slab (endpoints of one id share it). */
  readonly #slots: Int32Array;
  /** ln(weight) per endpoint when weights differ (slow start, discovery weights); undefined when they are equal. */
  readonly #logWeight: Float64Array | undefined;

  constructor(endpoints: readonly Endpoint[], costs: readonly PeakEwmaCost[], slab: StateSlab, random: PickRandom) {
    super(endpoints, random, 2);
    this.#slab = slab;
    // Plain loops: `TypedArray.from` with a mapping function runs the iterator protocol and a call per endpoint.
    const slots = new Int32Array(costs.length);
    for (let i = 0; i < costs.length; i++) slots[i] = (costs[i] as PeakEwmaCost).slot;
    this.#slots = slots;
    this.#logWeight = weightsDiffer(endpoints) ? logWeights(endpoints) : undefined;
  }

  /**
   * Compares ln of the decayed loads, up to a term shared by all endpoints
   * (see PeakEwmaCost.rank), read from the slab: no clock read, two reads of
   * compact arrays. With unequal weights the load is divided by the weight,
   * i.e. ln(weight) is subtracted.
   */
  protected less(a: number, b: number): boolean {
    const ranks = this.#slab.values;
    const rankA = ranks[this.#slots[a] as number] as number;
    const rankB = ranks[this.#slots[b] as number] as number;
    const logWeight = this.#logWeight;
    return logWeight === undefined ? rankA < rankB : rankA - (logWeight[a] as number) < rankB - (logWeight[b] as number);
  }
}

/** ln(weight) of each endpoint. */
function logWeights(endpoints: readonly Endpoint[]): Float64Array {
  const logs = new Float64Array(endpoints.length);
  for (let i = 0; i < endpoints.length; i++) logs[i] = Math.log((endpoints[i] as Endpoint).weight);
  return logs;
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
 * aborted say nothing about the endpoint and are not recorded.
 *
 * Weights: with equal weights (the usual case) they play no part, as in
 * Finagle and linkerd2. When they differ, each load is divided by its
 * endpoint's weight before comparing (`cost * (pending + 1) / weight`, the
 * rule `leastRequest()` uses for in-flight counts): so slow start, which
 * lowers a new or returning endpoint's weight, keeps it from winning
 * comparisons until it has ramped up, and discovery weights (DNS SRV, Consul)
 * count as capacity. State is kept per `endpoint.id` and
 * survives set updates; a pick draws two numbers from the balancer's own
 * random stream (seeded from the clock), reads two scores and no clock (decay
 * is compared in log space), at any set size, and allocates nothing.
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
      const slab = new StateSlab();
      const costs = new EndpointStates<PeakEwmaCost>(() => new PeakEwmaCost(defaultRtt, clock.now(), tau, slab), (cost) => cost.release());
      const random = PickRandom.from(clock);
      return {
        update: (endpoints) => new PeakEwmaPicker(endpoints, costs.sync(endpoints), slab, random),
        onAttemptStart(attempt: AttemptContext): void {
          costs.get(attempt.endpoint.id)?.start();
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
          cost.end();
          // Only the upstream's doing says how fast it is: not a caller's abort or deadline, nor a local refusal.
          if (outcome.blame !== 'upstream') return;
          const rtt = outcome.ok || durationMs >= penalty ? durationMs : penalty;
          // The attempt's end, which the executor read on this clock just before: no second read.
          cost.observe(rtt, attempt.startedAt + durationMs);
        },
      };
    },
  });
}
