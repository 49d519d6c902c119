/**
 * What the `balancers` bench measures: every balancer meshkit ships, each set
 * up as a client would have it (endpoints from discovery, then the balancer's
 * real per-endpoint state from attempt feedback), and the per-endpoint health
 * machinery (outlier detection, endpoint breakers, active health checks).
 */
import type { Balancer, BalancerFactory, Picker } from '../src/balancing/balancer.js';
import {
  leastRequest, peakEwma, random, ringHash, roundRobin, weighted, zoneAware,
} from '../src/balancing/index.js';
import { subsets } from '../src/balancing/subsets.js';
import type { AttemptContext } from '../src/core/attempt.js';
import { CallRecord } from '../src/attempts/call-record.js';
import type { CallContext } from '../src/core/call-context.js';
import type { Clock } from '../src/core/clock.js';
import { toEndpoint, type Endpoint } from '../src/core/endpoint.js';
import { Outcomes } from '../src/core/outcome.js';
import type { HealthProber } from '../src/health/active-health-check.js';
import { ActiveHealthChecker } from '../src/health/active-health-check.js';
import { resolveHealthCheck } from '../src/health/active-health-check-options.js';
import { resolveEndpointCircuitBreakers } from '../src/health/endpoint-breaker-options.js';
import { EndpointHealthFilter } from '../src/health/endpoint-health-filter.js';
import { resolveOutlierDetection } from '../src/health/outlier-options.js';
import { functionClassifier, functionTransport } from '../src/transports/function.js';

/** Endpoint counts every balancer is measured at (the 10, 1,000 and 10,000). */
export const SIZES = [10, 1_000, 10_000] as const;

/** Calls cycled through by the pick loops; a power of two so the index is a mask. */
export const CALL_POOL = 4096;

/** A balancer to measure. */
export interface BalancerSubject {
  readonly id: string;
  /** How it is configured, for the table and the README. */
  readonly setup: string;
  /** Picks by the power of two choices (directly or through a wrapper): the 200 ns target applies. */
  readonly p2c: boolean;
  /** Calls carry a routing key (ring hash). */
  readonly keyed: boolean;
  /** The endpoint set discovery would deliver (objects the balancer does not own). */
  endpoints(size: number): Endpoint[];
  /** Builds the balancer and its picker over `all` (less any endpoints the subject holds out of rotation), with real state. */
  build(all: readonly Endpoint[], clock: Clock): { readonly balancer: Balancer; readonly picker: Picker };
}

const WEIGHTS = [1, 2, 3, 4, 5];

function plain(size: number): Endpoint[] {
  return Array.from({ length: size }, (_, i) => toEndpoint({ host: '127.0.0.1', port: 1000 + i }, 'bench'));
}

function weightedSet(size: number): Endpoint[] {
  return Array.from({ length: size }, (_, i) => toEndpoint({ host: '127.0.0.1', port: 1000 + i, weight: WEIGHTS[i % WEIGHTS.length] as number }, 'bench'));
}

const ZONES = ['a', 'b', 'c'];

function zonedSet(size: number): Endpoint[] {
  return Array.from({ length: size }, (_, i) => toEndpoint({ host: '127.0.0.1', port: 1000 + i, zone: ZONES[i % ZONES.length] as string }, 'bench'));
}

function versionedSet(size: number): Endpoint[] {
  // Every tenth endpoint is the canary.
  return Array.from({ length: size }, (_, i) => toEndpoint({ host: '127.0.0.1', port: 1000 + i, metadata: { version: i % 10 === 9 ? 'v2' : 'v1' } }, 'bench'));
}

/**
 * A mutable attempt: the feedback loops reuse one object so the harness itself
 * allocates nothing. A class with initialised fields, so V8 keeps `startedAt`
 * as an in-place double (an object literal with a getter would box each write).
 */
export class BenchAttempt implements AttemptContext {
  readonly number = 1;
  readonly deadline = Infinity;
  readonly outboundHeaders = undefined;
  startedAt = 0;

  constructor(readonly call: CallContext, public endpoint: Endpoint, startedAt: number) {
    this.startedAt = startedAt;
  }

  get signal(): AbortSignal {
    throw new Error('balancers never read the signal');
  }
}

export function benchAttempt(call: CallContext, endpoint: Endpoint, startedAt = 0): BenchAttempt {
  return new BenchAttempt(call, endpoint, startedAt);
}

/** `CALL_POOL` calls; with keys (`key-0`, ...) for keyed subjects. */
export function callPool(keyed: boolean): CallRecord[] {
  return Array.from({ length: CALL_POOL }, (_, i) =>
    new CallRecord('bench', undefined, functionTransport, functionClassifier, 0, Infinity, true, true, undefined, keyed ? `key-${i}` : undefined));
}

/**
 * Gives a balancer the state a client's traffic would: every endpoint has
 * answered once (latencies spread over 2-50 ms), and every fourth one has an
 * attempt in flight that has not ended.
 */
export function warmState(balancer: Balancer, endpoints: readonly Endpoint[], clock: Clock): void {
  const call = new CallRecord('bench', undefined, functionTransport, functionClassifier, 0, Infinity, true, true, undefined);
  endpoints.forEach((endpoint, i) => {
    const attempt = benchAttempt(call, endpoint, clock.now());
    balancer.onAttemptStart?.(attempt);
    balancer.onAttemptEnd?.(attempt, Outcomes.success, 2 + 48 * clock.random());
    if (i % 4 === 0) balancer.onAttemptStart?.(benchAttempt(call, endpoint));
  });
}

function subject(
  id: string, setup: string, p2c: boolean, factory: () => BalancerFactory, endpoints: (size: number) => Endpoint[],
  options: { keyed?: boolean; inRotation?: (all: readonly Endpoint[]) => readonly Endpoint[] } = {},
): BalancerSubject {
  return {
    id, setup, p2c, keyed: options.keyed ?? false, endpoints,
    build(all, clock) {
      const balancer = factory().create({ service: 'bench', clock });
      const inRotation = options.inRotation?.(all) ?? all;
      balancer.update(inRotation, all);
      warmState(balancer, inRotation, clock);
      // The picker a client holds after its last set update.
      return { balancer, picker: balancer.update(inRotation, all) };
    },
  };
}

/** Zone `a` with half of its endpoints out of rotation: below 70 %, so picks spill (one more random number each). */
function halfOfZoneA(all: readonly Endpoint[]): readonly Endpoint[] {
  let seen = 0;
  return all.filter((e) => e.zone !== 'a' || seen++ % 2 === 0);
}

export const BALANCER_SUBJECTS: readonly BalancerSubject[] = [
  subject('round-robin', 'roundRobin()', false, roundRobin, plain),
  subject('random', 'random()', false, random, plain),
  subject('weighted', 'weighted(), weights 1-5', false, weighted, weightedSet),
  subject('least-request', 'leastRequest(), equal weights', true, () => leastRequest(), plain),
  subject('least-request-weighted', 'leastRequest(), weights 1-5 (alias-table sampling)', true, () => leastRequest(), weightedSet),
  subject('peak-ewma', 'peakEwma() (the default)', true, () => peakEwma(), plain),
  subject('ring-hash', 'ringHash(), bounded load 1.25, 4,096 keys', false, () => ringHash(), plain, { keyed: true }),
  subject('zone-aware', 'zoneAware({ zone: "a" }) over peakEwma(), 3 zones, half of zone a ejected', true,
    () => zoneAware({ zone: 'a' }), zonedSet, { inRotation: halfOfZoneA }),
  subject('subsets', 'subsets v1/v2 split 90/10 over peakEwma()', true,
    () => subsets({ subsets: { v1: { metadata: { version: 'v1' } }, v2: { metadata: { version: 'v2' } } }, split: { v1: 90, v2: 10 } }, peakEwma()),
    versionedSet),
];

/** Per-endpoint health machinery to measure for heap and timers. */
export interface HealthSubject {
  readonly id: string;
  readonly setup: string;
  /** An opt-in from another issue, measured beside issue 4's machinery and judged in its own target row. */
  readonly optIn?: boolean;
  /** Builds it over `endpoints` with traffic-shaped state; returns what keeps it alive and how to stop it. */
  build(endpoints: readonly Endpoint[], clock: Clock): { readonly close: () => Promise<void> | void };
}

const gatewayFailure = Outcomes.connect;

/** Feeds outlier detection one success per endpoint and ejects the first 10 % (the default cap) by consecutive failures. */
function exercise(detector: EndpointHealthFilter, endpoints: readonly Endpoint[]): void {
  const ejected = Math.max(1, Math.floor(endpoints.length / 10));
  endpoints.forEach((endpoint, i) => {
    detector.observe(endpoint, Outcomes.success);
    if (i < ejected) for (let n = 0; n < 5; n++) detector.observe(endpoint, gatewayFailure);
  });
}

/** A prober that answers healthy at once without I/O: the checker's own state and timers are measured, not sockets. */
const healthyProber: HealthProber = {
  probe: () => Promise.resolve(true),
  forget: () => {},
  close: () => Promise.resolve(),
};

export const HEALTH_SUBJECTS: readonly HealthSubject[] = [
  {
    id: 'outlier-detection',
    setup: 'outlierDetection({ slowStart: { window: "30s" } }): Envoy defaults, 10 % ejected, the last endpoint joined later (ramping)',
    build(endpoints, clock) {
      const detector = new EndpointHealthFilter(resolveOutlierDetection({ slowStart: { window: '30s' } }), clock, () => {}, 'bench');
      detector.setEndpoints(endpoints.slice(0, -1));
      detector.setEndpoints(endpoints);
      exercise(detector, endpoints);
      return { close: () => detector.close() };
    },
  },
  {
    id: 'endpoint-breakers',
    setup: 'outlierDetection({}) + endpointCircuitBreakers({}) (opt-in): one opossum breaker per endpoint, each with a rolling window',
    optIn: true,
    build(endpoints, clock) {
      const detector = new EndpointHealthFilter(resolveOutlierDetection({}), clock, () => {}, 'bench', resolveEndpointCircuitBreakers({}));
      detector.setEndpoints(endpoints);
      exercise(detector, endpoints);
      return { close: () => detector.close() };
    },
  },
  {
    id: 'active-health-checks',
    setup: 'healthCheck({}): every endpoint scheduled (5 s interval, 10 % jitter), prober without I/O',
    build(endpoints, clock) {
      const checker = new ActiveHealthChecker(resolveHealthCheck({}), clock, () => {}, healthyProber);
      checker.setEndpoints(endpoints);
      return { close: () => checker.stop() };
    },
  },
];

/** The endpoint set for health subjects. */
export function healthEndpoints(size: number): Endpoint[] {
  return plain(size);
}
