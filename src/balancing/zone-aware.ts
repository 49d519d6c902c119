import type { AttemptContext } from '../core/attempt.js';
import type { Endpoint } from '../core/endpoint.js';
import { invalidConfig } from '../core/errors.js';
import type { Outcome } from '../core/outcome.js';
import type { Balancer, BalancerEnvironment, BalancerFactory, PickArgs, Picker } from './balancer.js';
import { readOptions } from './options.js';
import { peakEwma } from './peak-ewma.js';
import { chanceThreshold, PickRandom } from './pick-random.js';
import { wasTried } from './tried.js';
import { firstUntried } from './uniform-pick.js';
import { localShare } from './zone-aware-share.js';

/** Options of {@link zoneAware}. */
export interface ZoneAwareOptions {
  /**
   * The caller's own zone (an availability zone, rack or data centre), as
   * discovery names it in `endpoint.zone`. Required: a non-empty string.
   * Endpoints without a zone count as another zone.
   */
  readonly zone: string;
  /**
   * The balancer used within the local zone and, separately, within the
   * other zones: one instance each, so per-endpoint state (load estimates)
   * survives set changes. Default `peakEwma()`.
   */
  readonly inner?: BalancerFactory;
  /**
   * While at least this percentage of the local zone's endpoints are in
   * rotation, every pick stays local; below it, the local share falls in
   * proportion (`healthy% / minHealthyPercent`) and the rest spills over.
   * 0 to 100; 0 keeps everything local while any local endpoint is in
   * rotation. Default 70 (Envoy's overprovisioning factor 1.4 means about
   * 71.4 %).
   */
  readonly minHealthyPercent?: number;
}

/**
 * Chooses between the local zone's picker and the other zones', then lets
 * that picker choose. One draw per pick decides, and only when the share is
 * strictly between 0 and 1.
 */
class ZoneAwarePicker implements Picker {
  readonly endpoints: readonly Endpoint[];
  /** Share of picks that go to the local zone, in [0, 1] (see {@link localShare}). */
  readonly localShare: number;
  /** The share as an integer threshold for {@link PickRandom.chance}. */
  readonly #localThreshold: number;
  readonly #local: Picker;
  readonly #others: Picker;
  readonly #random: PickRandom;

  constructor(endpoints: readonly Endpoint[], share: number, local: Picker, others: Picker, random: PickRandom) {
    this.endpoints = endpoints;
    this.localShare = share;
    this.#localThreshold = chanceThreshold(share);
    this.#local = local;
    this.#others = others;
    this.#random = random;
  }

  pick(args: PickArgs): Endpoint | undefined {
    const share = this.localShare;
    const local = share >= 1 || (share > 0 && this.#random.chance(this.#localThreshold));
    const first = local ? this.#local : this.#others;
    const endpoint = first.pick(args);
    const tried = args.tried;
    if (tried === undefined || tried.length === 0) return endpoint ?? (local ? this.#others : this.#local).pick(args);
    if (endpoint !== undefined && !wasTried(tried, endpoint)) return endpoint;
    return this.#retry(args, tried, endpoint, first, local ? this.#others : this.#local);
  }

  /**
   * A retry whose chosen side offered only endpoints the call already tried:
   * look once more on that side, then spill to the other side; if everything
   * was tried, any endpoint beats failing the retry.
   */
  #retry(args: PickArgs, tried: readonly Endpoint[], endpoint: Endpoint | undefined, first: Picker, second: Picker): Endpoint | undefined {
    const again = endpoint === undefined ? undefined : untriedBesides(first.endpoints, tried);
    if (again !== undefined) return again;
    const spill = second.pick(args);
    if (spill === undefined) return endpoint;
    if (!wasTried(tried, spill)) return spill;
    return untriedBesides(second.endpoints, tried) ?? endpoint ?? spill;
  }
}

/**
 * An endpoint of a side not in `tried`, when the side's own picker may have
 * missed it. Pickers avoid tried endpoints only while `tried` is shorter than
 * their set, and `tried` also lists endpoints of the other side; so when it
 * is as long as the side, scan (a short scan: the side is no longer than the
 * few endpoints tried). Otherwise the picker has already looked.
 */
function untriedBesides(endpoints: readonly Endpoint[], tried: readonly Endpoint[]): Endpoint | undefined {
  return tried.length >= endpoints.length ? firstUntried(endpoints, tried, 0) : undefined;
}

/**
 * Zone-aware routing: prefers endpoints in the caller's `zone` while that
 * zone has enough healthy capacity, and spills over proportionally when it
 * has not. Wraps another balancer (`inner`, default `peakEwma()`), which
 * balances within the local zone and, with a second instance, within the
 * other zones together.
 *
 * The rule ({@link localShare}): with H local endpoints in rotation (the
 * `endpoints` outlier detection passes the balancer) out of T local ones
 * discovery knows (`all`), a zone at or above `minHealthyPercent` (default
 * 70) gets every pick; below it, a share of `(H / T) / (minHealthyPercent /
 * 100)` and the rest goes to the other zones, which the inner balancer
 * spreads over their endpoints in rotation, so each zone takes spill in
 * proportion to its healthy capacity. No healthy local endpoint: everything
 * spills over; none elsewhere: everything stays local. Endpoints without a
 * zone count as another zone; a `zone` that no endpoint has sends everything
 * to the inner balancer over the whole set.
 *
 * This is Envoy's priority-level and locality-weight arithmetic, with the
 * local zone as the preferred level and `100 / minHealthyPercent` as the
 * overprovisioning factor (Envoy: 1.4). Envoy's own zone-aware routing also
 * weighs how the *calling* fleet is spread over zones, which a client library
 * does not know; so here each caller fills its own zone first, as with
 * Envoy's locality failover. Sources:
 * https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/load_balancing/zone_aware,
 * https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/load_balancing/priority,
 * https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/load_balancing/locality_weight,
 * https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/load_balancing/overprovisioning.
 *
 * A pick draws at most one number from the balancer's own random stream
 * (seeded from the clock) for the local-or-spill choice (none while the share
 * is 0 or 1), then does the inner picker's work, and allocates nothing. Retries avoid `args.tried`: once every local endpoint was tried,
 * the retry spills to another zone (and the other way round). Feedback
 * (`onAttemptStart`, `onAttemptEnd`) and `describe` go to the inner balancer
 * that owns the endpoint's zone. Without outlier detection (or in its panic mode) every
 * endpoint is in rotation, so traffic stays local while the zone has any.
 * Throws `ERR_INVALID_CONFIG` naming `balancer.<option>` for a bad value.
 */
export function zoneAware(options: ZoneAwareOptions): BalancerFactory {
  const given = readOptions(options, ['zone', 'inner', 'minHealthyPercent']);
  const zone = given['zone'];
  if (typeof zone !== 'string' || zone.trim() === '') throw invalidConfig('balancer.zone', "the caller's zone, a non-empty string", zone);
  const inner = given['inner'] === undefined ? peakEwma() : given['inner'];
  if (!isFactory(inner)) throw invalidConfig('balancer.inner', 'a balancer factory such as peakEwma()', inner);
  const minHealthyPercent = given['minHealthyPercent'] === undefined ? 70 : given['minHealthyPercent'];
  if (typeof minHealthyPercent !== 'number' || Number.isNaN(minHealthyPercent) || minHealthyPercent < 0 || minHealthyPercent > 100) {
    throw invalidConfig('balancer.minHealthyPercent', 'a number from 0 to 100', minHealthyPercent);
  }
  return Object.freeze({
    name: `zone-aware(${inner.name})`,
    // Both halves run the inner balancer's pickers, which see the call's subset.
    readsSubset: inner.readsSubset === true,
    create(environment: BalancerEnvironment): Balancer {
      const local = inner.create(environment);
      const others = inner.create(environment);
      const random = PickRandom.from(environment.clock);
      const owner = (endpoint: Endpoint): Balancer => (endpoint.zone === zone ? local : others);
      const balancer: Balancer = {
        update(endpoints: readonly Endpoint[], all: readonly Endpoint[] = endpoints): Picker {
          const localUp: Endpoint[] = [];
          const othersUp: Endpoint[] = [];
          for (const endpoint of endpoints) (endpoint.zone === zone ? localUp : othersUp).push(endpoint);
          const localAll: Endpoint[] = [];
          const othersAll: Endpoint[] = [];
          for (const endpoint of all) (endpoint.zone === zone ? localAll : othersAll).push(endpoint);
          const share = localShare(localUp.length, localAll.length, othersUp.length, minHealthyPercent);
          return new ZoneAwarePicker(endpoints, share, local.update(localUp, localAll), others.update(othersUp, othersAll), random);
        },
      };
      // Only when an inner balancer listens: the executor skips reading the end time when nobody does.
      if (local.onAttemptStart !== undefined) {
        balancer.onAttemptStart = (attempt: AttemptContext): void => owner(attempt.endpoint).onAttemptStart?.(attempt);
      }
      if (local.onAttemptEnd !== undefined) {
        balancer.onAttemptEnd = (attempt: AttemptContext, outcome: Outcome, durationMs: number): void =>
          owner(attempt.endpoint).onAttemptEnd?.(attempt, outcome, durationMs);
      }
      if (local.describe !== undefined) balancer.describe = (endpoint: Endpoint) => owner(endpoint).describe?.(endpoint);
      return balancer;
    },
  });
}

function isFactory(value: unknown): value is BalancerFactory {
  return typeof value === 'object' && value !== null
    && typeof (value as BalancerFactory).create === 'function' && typeof (value as BalancerFactory).name === 'string';
}
