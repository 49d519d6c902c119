import type { BalancerFactory } from '../balancing/balancer.js';
import { peakEwma } from '../balancing/peak-ewma.js';
import { roundRobin } from '../balancing/round-robin.js';
import { subsets, type SubsetOptions } from '../balancing/subsets.js';
import { systemClock, type Clock } from '../core/clock.js';
import type { EndpointInput } from '../core/endpoint.js';
import { invalidConfig } from '../core/errors.js';
import type { CallObserverFactory } from '../core/call-observer.js';
import type { Policy } from '../core/policy.js';
import type { Resolver } from '../discovery/resolver.js';
import { circuitBreaker } from '../policies/circuit-breaker.js';
import { resolveCircuitBreaker, type CircuitBreakerOptions } from '../policies/circuit-breaker-options.js';
import { resolveHedge, type HedgeOptions, type HedgeSettings } from '../attempts/hedge.js';
import { resolveOutlierDetection, type OutlierDetectionOptions, type OutlierSettings } from '../health/outlier-options.js';
import { resolveHealthCheck, type HealthCheckOptions, type HealthCheckSettings } from '../health/active-health-check-options.js';
import {
  resolveEndpointCircuitBreakers, type EndpointCircuitBreakerOptions, type EndpointCircuitBreakerSettings,
} from '../health/endpoint-breaker-options.js';
import { staticEndpoints } from '../discovery/static.js';
import { DEFAULT_RETRY, resolveRetry, type RetryOptions, type RetrySettings } from '../attempts/retry.js';
import { NO_TIMEOUTS, resolveTimeouts, type TimeoutOptions, type TimeoutSettings } from '../attempts/timeout.js';
import { undiciTransport, type HttpTransportFactory, type UndiciTransportOptions } from '../transports/undici.js';
import type { Identity } from '../security/identity.js';
import { Client, type ClientConfig } from './client.js';
import { checkPolicy, held, instanceFor } from './policy-instances.js';
import type { RequestDefaults } from './request-options.js';
import { resolveRequestDefaults, type ResolvedRequestDefaults } from './request-shape.js';

interface BuilderState {
  readonly name: string;
  readonly resolver: Resolver | undefined;
  readonly balancer: BalancerFactory | undefined;
  readonly timeouts: TimeoutSettings;
  readonly retry: RetrySettings;
  readonly transport: HttpTransportFactory | undefined;
  /** Policy makers, first added outermost; each build() gets its own instances (a breaker's state is per client). */
  readonly policies: readonly ((clock: Clock) => Policy)[];
  readonly clock: Clock;
  readonly outlierDetection: OutlierSettings | undefined;
  readonly healthCheck: HealthCheckSettings | undefined;
  readonly endpointBreakers: EndpointCircuitBreakerSettings | undefined;
  readonly subsets: SubsetOptions | undefined;
  readonly hedge: HedgeSettings | undefined;
  readonly observers: readonly CallObserverFactory[];
  readonly requestDefaults: ResolvedRequestDefaults | undefined;
}

function requireMethods(value: unknown, option: string, expected: string, methods: readonly string[]): void {
  const ok = typeof value === 'object' && value !== null
    && methods.every((method) => typeof (value as Record<string, unknown>)[method] === 'function');
  if (!ok) throw invalidConfig(option, expected, value);
}

/**
 * Builds a {@link Client}. Every method validates its options at once
 * (throwing `ERR_INVALID_CONFIG` that names the option and the bad value, or
 * an unknown key with the nearest known one: `timeout.pertry`, did you mean
 * `perTry`?) and returns a new builder, so a partly configured builder can be
 * shared and extended safely. Clients built from one builder are
 * independent: each gets its own policy instances (see {@link ClientBuilder.policy}),
 * balancer, transport and observers; closing one leaves the others working.
 * `build()` checks that discovery is set.
 *
 * Defaults: P2C peak-EWMA balancing, no timeouts, 2 attempts for idempotent
 * calls (see {@link RetryOptions}), the undici transport, no policies.
 */
export class ClientBuilder {
  readonly #state: BuilderState;

  /** @internal Use `client(name)`. */
  constructor(state: BuilderState) {
    this.#state = state;
  }

  #with(changes: Partial<BuilderState>): ClientBuilder {
    return new ClientBuilder({ ...this.#state, ...changes });
  }

  /** Where endpoints come from: a {@link Resolver} (static, DNS, Consul, etcd or your own). Required. */
  discovery(resolver: Resolver): ClientBuilder {
    requireMethods(resolver, 'discovery', 'a resolver with subscribe()', ['subscribe']);
    return this.#with({ resolver });
  }

  /** Shorthand for `.discovery(staticEndpoints(list))`: `'host:port'` strings or endpoint objects. */
  endpoints(list: readonly EndpointInput[]): ClientBuilder {
    return this.#with({ resolver: staticEndpoints(list) });
  }

  /** The load-balancing algorithm. Default `peakEwma()`: P2C over latency x (in flight + 1), failures penalised. */
  balancer(factory: BalancerFactory): ClientBuilder {
    requireMethods(factory, 'balancer', 'a balancer factory such as roundRobin()', ['create']);
    return this.#with({ balancer: factory });
  }

  /**
   * Named subsets of endpoints (by tags or metadata) and an optional traffic
   * split between them (`{ split: { v1: 90, v2: 10 } }`); a call may name its
   * subset (`{ subset: 'v2' }`). The balancer runs within each subset.
   * Default none: every call may use every endpoint.
   */
  subsets(options: SubsetOptions): ClientBuilder {
    subsets(options, roundRobin()); // validates now, so the error points here
    return this.#with({ subsets: options });
  }

  /**
   * Hedged requests for idempotent calls: when the first attempt has not
   * answered after `after` (default the p95 of recent latency), another goes
   * to a different endpoint; the first answer wins and the other is cancelled.
   * Hedges spend from their own budget (default 5 % of calls) and from the
   * retry budget. Default off.
   */
  hedge(options: HedgeOptions | false = {}): ClientBuilder {
    return this.#with({ hedge: options === false ? undefined : resolveHedge(options) });
  }

  /** Per-try timeout and total deadline. Default none; set both in production. */
  timeout(options: TimeoutOptions): ClientBuilder {
    return this.#with({ timeouts: resolveTimeouts(options) });
  }

  /** Retry policy, or `false` for a single attempt. Default 2 attempts, full-jitter backoff 25-250 ms. */
  retry(options: RetryOptions | false): ClientBuilder {
    return this.#with({ retry: resolveRetry(options) });
  }

  /**
   * Mutual TLS with a service identity (`connectIdentity` from
   * `meshkit/consul`, or `fileIdentity`): shorthand for
   * `.transport(undiciTransport({ ...options, identity, peerService: <this client's name> }))`.
   * New connections present the identity's current leaf, trust only its
   * roots, and require the server to present this service's SPIFFE ID
   * (else `ERR_PEER_IDENTITY`). A later `.transport()` replaces it. Default none (no client certificate).
   */
  identity(identity: Identity, options: Omit<UndiciTransportOptions, 'identity' | 'peerService' | 'protocol'> = {}): ClientBuilder {
    return this.transport(undiciTransport({ ...options, identity, peerService: this.#state.name }));
  }

  /** The HTTP transport for `request()` and `fetch()`. Default `undiciTransport()`. */
  transport(factory: HttpTransportFactory): ClientBuilder {
    requireMethods(factory, 'transport', 'a transport factory such as undiciTransport()', ['create']);
    return this.#with({ transport: factory });
  }

  /**
   * Adds a policy around every call. The first policy added is the outermost.
   *
   * Give a policy instance or a factory (`() => Policy`). Every client built
   * gets its own state either way: with an instance, the first client built
   * uses the instance itself (the reference you hold reads that client's
   * state) and every later build gets `policy.clone()`, a fresh instance with
   * the same settings (every built-in policy has one); a factory is called
   * once per build. A policy without `clone()` (your own) is shared by every
   * client built with it, and closed when the last of them closes: give a
   * factory when it holds state. A factory that returns one instance every
   * time shares it on purpose (one limit over several clients), closed the
   * same way.
   */
  policy(policy: Policy | (() => Policy)): ClientBuilder {
    if (typeof policy === 'function') {
      const make = policy;
      return this.#with({ policies: [...this.#state.policies, () => held(checkPolicy(make(), 'policy'))] });
    }
    const instance = checkPolicy(policy, 'policy');
    return this.#with({ policies: [...this.#state.policies, () => held(instanceFor(instance))] });
  }

  /**
   * Adds a service-level circuit breaker as a policy; each built client gets
   * its own breaker, on the client's clock unless `options.clock` is given.
   * Same as `.policy(() => circuitBreaker({ ...options, clock }))` with the client's clock.
   * Defaults: error threshold 0.5 over 10 s, volume threshold 20, reset timeout 5 s.
   */
  circuitBreaker(options: CircuitBreakerOptions = {}): ClientBuilder {
    resolveCircuitBreaker(options); // validates now, so the error points here
    const given = { ...options }; // later changes to the caller's object do not reach later builds
    return this.#with({ policies: [...this.#state.policies, (clock) => held(circuitBreaker({ ...given, clock: given.clock ?? clock }))] });
  }

  /**
   * Outlier detection: eject endpoints that keep failing (consecutive gateway
   * failures, consecutive 5xx when `consecutive5xx` is set, success-rate
   * outliers), with a panic threshold and optional slow start. Default off;
   * `.outlierDetection({})` turns it on with Envoy's defaults (but
   * `consecutive5xx` off).
   */
  outlierDetection(options: OutlierDetectionOptions | false): ClientBuilder {
    return this.#with({ outlierDetection: options === false ? undefined : resolveOutlierDetection(options) });
  }

  /**
   * Active health checks: `GET /health` on every endpoint every 5 s (+ up to
   * 10 % jitter); 2 failed probes in a row take an endpoint out of rotation,
   * 1 success brings it back. Probes are not calls (no retries, no metrics).
   * Default off; `.healthCheck({})` turns it on. The verdict goes to outlier
   * detection: without `.outlierDetection()`, a detector whose passive rules
   * are off is created for it (panic threshold 50 %, no slow start).
   */
  healthCheck(options: HealthCheckOptions | false): ClientBuilder {
    return this.#with({ healthCheck: options === false ? undefined : resolveHealthCheck(options) });
  }

  /**
   * Per-endpoint circuit breakers, opt-in: each endpoint gets its
   * own breaker (when it is first used), fed with every attempt to it; when
   * more than `errorThreshold` of at least `volumeThreshold` attempts in the
   * window failed, the endpoint leaves rotation (health reason
   * `'circuit-open'`) for `resetTimeout`, then comes back half-open and the
   * next attempt outcome closes or re-opens it. Defaults as `.circuitBreaker()`:
   * 0.5 over 10 s, volume 20, reset 5 s. Works with outlier detection (same
   * panic threshold; not limited by `maxEjectionPercent`); without
   * `.outlierDetection()`, a detector whose passive rules are off is created
   * for it. Default off. All endpoint breakers share one rotation timer; they
   * run on the client's clock.
   */
  endpointCircuitBreakers(options: EndpointCircuitBreakerOptions | false = {}): ClientBuilder {
    return this.#with({ endpointBreakers: options === false ? undefined : resolveEndpointCircuitBreakers(options) });
  }

  /**
   * Adds a call observer: telemetry such as `openTelemetry()` from
   * `meshkit/otel`, or your own {@link CallObserverFactory}. Each built
   * client gets its own observer; several may be added and run in order.
   * Observers run guarded: one that throws is reported once and never breaks
   * a call. Default none (and then the call path pays nothing for it).
   */
  telemetry(factory: CallObserverFactory): ClientBuilder {
    requireMethods(factory, 'telemetry', 'an observer factory such as openTelemetry()', ['create']);
    return this.#with({ observers: [...this.#state.observers, factory] });
  }

  /**
   * Defaults for `request()` and `fetch()` (not `call()`): a `basePath`
   * prefixed to every path (`'/api/v1'`) and `headers` sent with every
   * request unless the call sets a header of the same name. Replaces earlier
   * `.defaults()`; `.defaults({})` clears them. Default none: calls pay
   * nothing for it. With defaults, each request copies its options once.
   */
  defaults(options: RequestDefaults): ClientBuilder {
    const resolved = resolveRequestDefaults(options);
    return this.#with({ requestDefaults: resolved.basePath === '' && resolved.headers.length === 0 ? undefined : resolved });
  }

  /** Time and randomness (tests use a virtual clock). Default the system clock. */
  clock(clock: Clock): ClientBuilder {
    requireMethods(clock, 'clock', 'a clock with now, random, setTimeout and clearTimeout', ['now', 'random', 'setTimeout', 'clearTimeout']);
    return this.#with({ clock });
  }

  /** Validates the whole configuration and creates the client, which starts discovery at once. */
  build(): Client {
    const state = this.#state;
    if (state.resolver === undefined) {
      throw invalidConfig('discovery', 'a resolver: call .discovery(resolver) or .endpoints([...]) before build()', undefined);
    }
    const config: ClientConfig = Object.freeze({
      name: state.name,
      resolver: state.resolver,
      balancer: state.subsets === undefined ? (state.balancer ?? peakEwma()) : subsets(state.subsets, state.balancer ?? peakEwma()),
      timeouts: state.timeouts,
      retry: state.retry,
      transport: state.transport ?? undiciTransport(),
      policies: Object.freeze(makePolicies(state.policies, state.clock)),
      clock: state.clock,
      outlierDetection: state.outlierDetection,
      hedge: state.hedge,
      healthCheck: state.healthCheck,
      endpointBreakers: state.endpointBreakers,
      observers: Object.freeze([...state.observers]),
      requestDefaults: state.requestDefaults,
    });
    try {
      return new Client(config);
    } catch (error) {
      // No client came of it: the policies made for it are released, or a shared one would never close.
      releasePolicies(config.policies);
      throw error;
    }
  }
}

/** Closes each policy made for a client that will not be; what their close() does or throws is not awaited. */
function releasePolicies(policies: readonly Policy[]): void {
  for (const policy of policies) {
    try {
      void Promise.resolve(policy.close?.()).catch(() => undefined);
    } catch {
      // A close() that throws at once: nothing more to release.
    }
  }
}

/** One instance of each policy for a new client; if one cannot be made, those already made are released. */
function makePolicies(makers: readonly ((clock: Clock) => Policy)[], clock: Clock): Policy[] {
  const policies: Policy[] = [];
  try {
    for (const make of makers) policies.push(make(clock));
  } catch (error) {
    releasePolicies(policies);
    throw error;
  }
  return policies;
}

/**
 * Starts building a client for the service `name` (used in errors, status and
 * telemetry; with discovery, usually the registry's service name).
 */
export function client(name: string): ClientBuilder {
  if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._:-]{0,252}$/.test(name)) {
    throw invalidConfig('name', 'a service name of letters, digits, ".", "_", ":" or "-"', name);
  }
  return new ClientBuilder({
    name,
    resolver: undefined,
    balancer: undefined,
    timeouts: NO_TIMEOUTS,
    retry: DEFAULT_RETRY,
    transport: undefined,
    policies: [],
    clock: systemClock,
    outlierDetection: undefined,
    healthCheck: undefined,
    endpointBreakers: undefined,
    subsets: undefined,
    hedge: undefined,
    observers: [],
    requestDefaults: undefined,
  });
}
