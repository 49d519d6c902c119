import type { Duration } from '../core/duration.js';
import type { SimBehaviour } from './backend-behaviour.js';
import type { LatencySpec } from './latency.js';
import type { HedgeOptions } from '../attempts/hedge.js';
import type { RetryOptions } from '../attempts/retry.js';
import type { TimeoutOptions } from '../attempts/timeout.js';
import type { LeastRequestOptions } from '../balancing/least-request.js';
import type { PeakEwmaOptions } from '../balancing/peak-ewma.js';
import type { OutlierDetectionOptions } from '../health/outlier-options.js';
import type { EndpointCircuitBreakerOptions } from '../health/endpoint-breaker-options.js';
import type { AdaptiveThrottleOptions } from '../policies/adaptive-throttle.js';
import type { BulkheadOptions } from '../policies/bulkhead.js';
import type { CircuitBreakerOptions } from '../policies/circuit-breaker-options.js';
import type { RateLimitOptions } from '../policies/rate-limit.js';
import type { AimdOptions } from '../policies/limits/aimd.js';
import type { Gradient2Options } from '../policies/limits/gradient2.js';
import type { VegasOptions } from '../policies/limits/vegas.js';
import type { SampleWindowOptions } from '../policies/limits/limiter.js';

/**
 * The JSON scenario format of meshkit/sim: plain data (no functions, no
 * clocks), so a scenario can live in a `.json` file as well as in code.
 * `validateScenario` checks every field; durations are numbers of ms or
 * strings such as `'30s'`.
 */

/**
 * A service time distribution, in ms: the engine's {@link LatencySpec} (a number or `{ fixed }`,
 * `{ uniform: { min, max } }`, `{ exponential: { mean } }`, `{ lognormal: { median, p99 } }`,
 * `{ empirical: [samples] }`, or a weighted `{ mixture: [{ weight, latency }] }` of those).
 */
export type ScenarioLatency = LatencySpec;

/**
 * How a simulated backend answers; every field may change on a timeline. The engine's
 * {@link SimBehaviour} without `handler`: a scenario is data, and names its mid-tier calls in `handler`
 * of the service instead. Defaults are the engine's.
 */
export type ScenarioBehaviour = Omit<SimBehaviour, 'handler'>;

/** Which backends of a service a timeline event touches: indices, every one, or one zone's. */
export type ScenarioBackendSelector = readonly number[] | 'all' | { readonly zone: string };

/** A change to a service at a virtual time. */
export interface ScenarioTimelineEvent {
  /** When, from the start of the run. */
  readonly at: Duration;
  /** Backends touched. Default `'all'`. */
  readonly backends?: ScenarioBackendSelector;
  /** Behaviour fields changed from then on. */
  readonly set?: ScenarioBehaviour;
  /** Leave discovery (clients stop seeing them). */
  readonly leave?: boolean;
  /** Join discovery again. */
  readonly join?: boolean;
  /** The process goes away (connections refused). */
  readonly down?: boolean;
  /** The process comes back. */
  readonly up?: boolean;
}

/**
 * A rolling restart: instance i leaves discovery at `start + i * interval`,
 * goes down `drain` later, comes back up `downtime` after that and rejoins
 * discovery at once.
 */
export interface ScenarioRollingRestart {
  /** When the first instance leaves. */
  readonly start: Duration;
  /** Gap between two instances leaving. */
  readonly interval: Duration;
  /** Time out of discovery before the process stops. Default 0. */
  readonly drain?: Duration;
  /** Time the process is gone. */
  readonly downtime: Duration;
}

/** What a backend does with a request when it is a middle tier: it calls the next service through a client. */
export interface ScenarioHandler {
  /** The client (in `clients`) each instance uses; each instance gets its own, as real processes would. */
  readonly call: string;
  /** Path of the downstream request. Default `'/'`. */
  readonly path?: string;
  /** Status answered when the downstream call fails. Default 503. */
  readonly failureStatus?: number;
}

/** A simulated service: its instances and how they behave over time. */
export interface ScenarioService {
  /** Service name (what clients call). */
  readonly name: string;
  /** Number of instances (backends). */
  readonly instances: number;
  /** Zones, assigned to instances round robin. Default none. */
  readonly zones?: readonly string[];
  /** Behaviour every instance starts with. */
  readonly behaviour?: ScenarioBehaviour;
  /** Changes at virtual times. */
  readonly timeline?: readonly ScenarioTimelineEvent[];
  /** Every instance restarted in turn. */
  readonly rollingRestart?: ScenarioRollingRestart;
  /** A middle tier: each request is served by calling another service. */
  readonly handler?: ScenarioHandler;
}

/**
 * A balancer by name (`'roundRobin'`, `'random'`, `'weighted'`, `'leastRequest'`, `'peakEwma'`)
 * or with its options (`{ peakEwma: { decay: '5s' } }`); `zoneAware` wraps another
 * one and takes the client's zone.
 */
export type ScenarioBalancer =
  | 'roundRobin' | 'random' | 'weighted' | 'leastRequest' | 'peakEwma'
  | { readonly leastRequest: LeastRequestOptions }
  | { readonly peakEwma: PeakEwmaOptions }
  | { readonly zoneAware: { readonly inner?: ScenarioBalancer; readonly minHealthyPercent?: number } };

/** A limit algorithm of adaptive concurrency, by name or with its options. */
export type ScenarioLimitAlgorithm =
  | 'gradient2' | 'vegas' | 'aimd'
  | { readonly gradient2: Gradient2Options }
  | { readonly vegas: VegasOptions }
  | { readonly aimd: AimdOptions };

/** An admission policy added with `.policy()`, outermost first; options as the factory's, without `clock`. */
export type ScenarioPolicy =
  | { readonly adaptiveConcurrency: { readonly algorithm?: ScenarioLimitAlgorithm; readonly window?: SampleWindowOptions | false } }
  | { readonly bulkhead: Omit<BulkheadOptions, 'clock'> }
  | { readonly rateLimit: Omit<RateLimitOptions, 'clock'> }
  | { readonly adaptiveThrottle: Omit<AdaptiveThrottleOptions, 'clock'> };

/**
 * A client's meshkit configuration. Each key is the builder method of the
 * same name and its value the options object passed to it unchanged, so
 * meshkit's own validators check it; a key left out keeps the builder's default.
 */
export interface ScenarioStack {
  readonly balancer?: ScenarioBalancer;
  readonly timeout?: TimeoutOptions;
  readonly retry?: RetryOptions | false;
  readonly hedge?: HedgeOptions | false;
  readonly outlierDetection?: OutlierDetectionOptions | false;
  readonly endpointCircuitBreakers?: EndpointCircuitBreakerOptions | false;
  /** A service-level breaker (`.circuitBreaker()`), or `false` for none. */
  readonly circuitBreaker?: Omit<CircuitBreakerOptions, 'clock'> | false;
  /** Admission policies, outermost first. Default none. */
  readonly policies?: readonly ScenarioPolicy[];
}

/** Traffic a client sends: open loop (Poisson arrivals) or closed loop (N callers). */
export type ScenarioLoad =
  | {
    readonly type: 'open';
    /** User requests per second, per replica of the client. */
    readonly rate: number;
    readonly fanout?: number;
    readonly path?: string;
    readonly start?: Duration;
    readonly duration?: Duration;
  }
  | {
    readonly type: 'closed';
    /** Callers each sending one user request at a time, per replica. */
    readonly callers: number;
    /** Pause between a caller's requests. Default 0. */
    readonly think?: Duration;
    readonly fanout?: number;
    readonly path?: string;
    readonly start?: Duration;
    readonly duration?: Duration;
  };

/** A simulated client: a meshkit client built with the ordinary builder. */
export interface ScenarioClient {
  /** Unique name; the report's rows use it. */
  readonly name: string;
  /** The service it calls. */
  readonly service: string;
  /** Its zone (zone-aware balancing). Default none. */
  readonly zone?: string;
  /** Zones of its replicas, assigned round robin (instead of `zone`). Default none. */
  readonly zones?: readonly string[];
  /** Its meshkit configuration. Default: the builder's defaults. */
  readonly stack?: ScenarioStack;
  /** Traffic it sends; a client without load must be some tier's `handler.call`. */
  readonly load?: ScenarioLoad;
  /** Identical copies (instances of the calling service), each its own meshkit client. Default 1. */
  readonly replicas?: number;
}

/** A number a scenario can read off a run. */
export type ScenarioMetric =
  | 'successRate' | 'p50' | 'p90' | 'p99' | 'p999' | 'max'
  | 'attemptsPerCall' | 'hedgesPerCall' | 'retriesPerCall'
  /** Requests that reached `service`'s backends per user request of the client. */
  | 'amplification'
  /** Mean time after an instance rejoins until it gets its share of traffic back (rolling restarts). */
  | 'recoveryMs';

/** Where a figure is read: which variant's run, which client, which metric. */
export interface ScenarioMeasure {
  readonly variant: string;
  readonly metric: ScenarioMetric;
  /** Default: the scenario's first client with load. */
  readonly client?: string;
  /** For `amplification`: the service whose arrivals are counted. Default the client's service. */
  readonly service?: string;
}

/** A figure from a publication, shown beside meshkit's number for the same measure. */
export interface ScenarioPublishedFigure extends ScenarioMeasure {
  /** Row label (`'round robin: success rate'`). */
  readonly label: string;
  /** The published value: fractions for rates (0.95), ms for latencies, a ratio for amplification. */
  readonly value: number;
  /** Citation: title, authors, year (and where it is). */
  readonly source: string;
}

/** The same scenario with another configuration: a row of the comparison table. */
export interface ScenarioVariant {
  /** Unique name (`'round-robin'`). */
  readonly name: string;
  /** What it shows. */
  readonly description?: string;
  /** Stack changes for every client (keys replace the client's). */
  readonly stack?: ScenarioStack;
  /** Stack changes for one client, by name, applied after `stack`. */
  readonly clients?: Readonly<Record<string, ScenarioStack>>;
}

/** What `scale` may shrink besides time (the shape stays: ratios, zones, timelines). */
export interface ScenarioScaling {
  /** Scale services' instance counts (fleet scenarios). Default false. */
  readonly instances?: boolean;
  /** Scale clients' replicas. Default false. */
  readonly replicas?: boolean;
}

/** A whole scenario. */
export interface Scenario {
  /** Lowercase letters, digits and dashes. */
  readonly name: string;
  readonly description: string;
  /** Default seed. Default 1. */
  readonly seed?: number;
  /** Virtual length of the run. */
  readonly duration: Duration;
  /** Width of the report's time buckets, ms. Default 1000. */
  readonly bucketMs?: number;
  readonly services: readonly ScenarioService[];
  readonly clients: readonly ScenarioClient[];
  /** Configurations compared; default one variant named `'default'` with the clients' own stacks. */
  readonly variants?: readonly ScenarioVariant[];
  /** Published figures for the comparison table. Default none. */
  readonly published?: readonly ScenarioPublishedFigure[];
  /** Rows shown for every variant (meshkit's numbers only). Default success rate and p99 of the first loaded client. */
  readonly measures?: readonly Omit<ScenarioMeasure, 'variant'>[];
  /** What `scale` may shrink besides time. */
  readonly scaling?: ScenarioScaling;
}
