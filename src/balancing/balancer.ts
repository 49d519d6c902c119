import type { AttemptContext } from '../core/attempt.js';
import type { Clock } from '../core/clock.js';
import type { Endpoint } from '../core/endpoint.js';
import type { Outcome } from '../core/outcome.js';

/**
 * What a picker reads of the call it picks for (as grpc-js's `PickArgs`):
 * the routing key, the named subset and the endpoints already tried. The
 * call itself is passed (it has these fields), so picking allocates nothing.
 */
export interface PickArgs {
  /** Routing key for hash-based balancers (the call's `key` option); undefined when none was given. */
  readonly hashKey: string | undefined;
  /** The named subset the call asked for (its `subset` option); undefined to follow the client's split. */
  readonly subset: string | undefined;
  /** Endpoints this call already tried, in order; undefined until a retry or hedge. Avoid them while others remain. */
  readonly tried: readonly Endpoint[] | undefined;
}

/**
 * Chooses the endpoint for one attempt. Pickers are immutable snapshots built
 * by a {@link Balancer} for one endpoint set; `pick` is the hot path: no I/O,
 * no allocation, no waiting.
 */
export interface Picker {
  /** Endpoints this picker chooses from. */
  readonly endpoints: readonly Endpoint[];
  /**
   * Returns an endpoint, or undefined when none can serve. Pickers should
   * avoid endpoints in `args.tried` when others exist (retries move on).
   */
  pick(args: PickArgs): Endpoint | undefined;
}

/** What a balancer knows about one endpoint's load, for `client.endpoints()`. */
export interface EndpointLoad {
  /** Attempts in flight to the endpoint from this client. */
  readonly inFlight?: number;
  /** The balancer's latency estimate in ms (peak EWMA's decayed cost). */
  readonly latencyMs?: number;
  /** The number the balancer compares (lower is preferred). */
  readonly load?: number;
}

/**
 * Turns endpoint sets into pickers and learns from attempt results. One
 * balancer per client; state that must survive set changes (load estimates)
 * lives here, keyed by `endpoint.id`.
 */
export interface Balancer {
  /**
   * Builds the picker for a new endpoint set. `endpoints` are the ones to
   * balance over (ejected endpoints left out, slow-start weights applied);
   * `all` is the whole set from discovery, for balancers that reason about
   * capacity (zone-aware routing). Default for `all`: `endpoints`.
   */
  update(endpoints: readonly Endpoint[], all?: readonly Endpoint[]): Picker;
  /** Optional feedback: an attempt went out to `attempt.endpoint`. */
  onAttemptStart?(attempt: AttemptContext): void;
  /** Optional feedback: an attempt settled, classified once as `outcome`, after `durationMs`. */
  onAttemptEnd?(attempt: AttemptContext, outcome: Outcome, durationMs: number): void;
  /** Optional: what the balancer knows about an endpoint's load (status pages); undefined when nothing. */
  describe?(endpoint: Endpoint): EndpointLoad | undefined;
}

/** What a balancer may use from its client. */
export interface BalancerEnvironment {
  readonly service: string;
  readonly clock: Clock;
}

/** Creates one balancer per client (the builder holds factories, so builders can be shared). */
export interface BalancerFactory {
  /** The algorithm's name (`round-robin`, `p2c-peak-ewma`, ...). */
  readonly name: string;
  /**
   * True when its pickers read `PickArgs.subset` (`subsets()` does, and a
   * balancer wrapping one, such as `zoneAware({ inner: subsets(...) })`).
   * A call naming a `subset` on a client whose balancer does not is refused
   * with `ERR_INVALID_ARGUMENT`: the name would be ignored and the call sent
   * anywhere. Set it on a balancer of your own that reads `subset`. Default
   * false.
   */
  readonly readsSubset?: boolean;
  create(environment: BalancerEnvironment): Balancer;
}
