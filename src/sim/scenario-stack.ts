import { client as startClient, type ClientBuilder } from '../client/builder.js';
import type { Clock } from '../core/clock.js';
import { invalidConfig, isMeshkitError } from '../core/errors.js';
import { checkOptions, isOptionsObject } from '../core/options.js';
import type { BalancerFactory } from '../balancing/balancer.js';
import { leastRequest, type LeastRequestOptions } from '../balancing/least-request.js';
import { peakEwma, type PeakEwmaOptions } from '../balancing/peak-ewma.js';
import { random } from '../balancing/random.js';
import { roundRobin } from '../balancing/round-robin.js';
import { weighted } from '../balancing/weighted.js';
import { zoneAware } from '../balancing/zone-aware.js';
import type { Policy } from '../core/policy.js';
import { adaptiveConcurrency } from '../policies/adaptive-concurrency.js';
import { adaptiveThrottle, type AdaptiveThrottleOptions } from '../policies/adaptive-throttle.js';
import { bulkhead, type BulkheadOptions } from '../policies/bulkhead.js';
import { rateLimit, type RateLimitOptions } from '../policies/rate-limit.js';
import { aimd, type AimdOptions } from '../policies/limits/aimd.js';
import { gradient2, type Gradient2Options } from '../policies/limits/gradient2.js';
import type { LimitAlgorithm } from '../policies/limits/limit.js';
import type { SampleWindowOptions } from '../policies/limits/limiter.js';
import { vegas, type VegasOptions } from '../policies/limits/vegas.js';
import type { ScenarioBalancer, ScenarioLimitAlgorithm, ScenarioPolicy, ScenarioStack } from './scenario-types.js';

/** The keys of a {@link ScenarioStack}, each a builder method. */
export const STACK_KEYS: readonly (keyof ScenarioStack)[] = [
  'balancer', 'timeout', 'retry', 'hedge', 'outlierDetection', 'endpointCircuitBreakers', 'circuitBreaker', 'policies',
];

const BALANCER_NAMES = ['roundRobin', 'random', 'weighted', 'leastRequest', 'peakEwma'] as const;
const BALANCER_KEYS = ['leastRequest', 'peakEwma', 'zoneAware'] as const;
const POLICY_KEYS = ['adaptiveConcurrency', 'bulkhead', 'rateLimit', 'adaptiveThrottle'] as const;
const LIMIT_NAMES = ['gradient2', 'vegas', 'aimd'] as const;

/**
 * Runs `make` and re-throws an `ERR_INVALID_CONFIG` it raises with `path` in
 * front of the option it names (`timeout.pertry` becomes
 * `clients[0].stack.timeout.pertry`), keeping its "did you mean" hint.
 */
function under<T>(path: string, make: () => T): T {
  try {
    return make();
  } catch (error) {
    if (!isMeshkitError(error, 'ERR_INVALID_CONFIG')) throw error;
    const option = String(error.details['option'] ?? '');
    const inner = option.includes('.') ? option.slice(option.indexOf('.')) : '';
    throw invalidConfig(`${path}${inner}`, String(error.details['expected']), error.details['value']);
  }
}

/** The one key of a `{ name: options }` object, checked against `known`. */
function singleKey<K extends string>(value: unknown, path: string, known: readonly K[]): K {
  const object = checkOptions(value, path, known);
  const keys = Object.keys(object);
  if (keys.length !== 1) throw invalidConfig(path, `an object with exactly one of ${known.join(', ')}`, value);
  return keys[0] as K;
}

/** Turns a scenario balancer into meshkit's factory; `zone` is the client's (for `zoneAware`). */
export function balancerFactory(spec: ScenarioBalancer, path: string, zone: string | undefined): BalancerFactory {
  if (typeof spec === 'string') {
    if (!(BALANCER_NAMES as readonly string[]).includes(spec)) {
      throw invalidConfig(path, `one of ${BALANCER_NAMES.map((name) => `'${name}'`).join(', ')} or { leastRequest | peakEwma | zoneAware: options }`, spec);
    }
    const byName: Record<(typeof BALANCER_NAMES)[number], () => BalancerFactory> = {
      roundRobin: () => roundRobin(), random: () => random(), weighted: () => weighted(),
      leastRequest: () => leastRequest(), peakEwma: () => peakEwma(),
    };
    return byName[spec as (typeof BALANCER_NAMES)[number]]();
  }
  const key = singleKey(spec, path, BALANCER_KEYS);
  const options = (spec as Record<string, unknown>)[key];
  if (key === 'leastRequest') return under(`${path}.leastRequest`, () => leastRequest(options as LeastRequestOptions));
  if (key === 'peakEwma') return under(`${path}.peakEwma`, () => peakEwma(options as PeakEwmaOptions));
  const o = checkOptions(options, `${path}.zoneAware`, ['inner', 'minHealthyPercent']);
  if (zone === undefined) throw invalidConfig(`${path}.zoneAware`, 'a client with a zone (set the client\'s zone)', options);
  const inner = o['inner'] === undefined ? undefined : balancerFactory(o['inner'] as ScenarioBalancer, `${path}.zoneAware.inner`, zone);
  return under(`${path}.zoneAware`, () => zoneAware({
    zone,
    ...(inner === undefined ? {} : { inner }),
    ...(o['minHealthyPercent'] === undefined ? {} : { minHealthyPercent: o['minHealthyPercent'] as number }),
  }));
}

function limitAlgorithm(spec: ScenarioLimitAlgorithm, path: string): LimitAlgorithm {
  if (typeof spec === 'string') {
    if (spec === 'gradient2') return gradient2();
    if (spec === 'vegas') return vegas();
    if (spec === 'aimd') return aimd();
    throw invalidConfig(path, `one of ${LIMIT_NAMES.map((name) => `'${name}'`).join(', ')} or { name: options }`, spec);
  }
  const key = singleKey(spec, path, LIMIT_NAMES);
  const options = (spec as Record<string, unknown>)[key];
  if (key === 'gradient2') return under(`${path}.gradient2`, () => gradient2(options as Gradient2Options));
  if (key === 'vegas') return under(`${path}.vegas`, () => vegas(options as VegasOptions));
  return under(`${path}.aimd`, () => aimd(options as AimdOptions));
}

/** Refuses a `clock` in a policy's options: the simulation gives every policy its clock. */
function withoutClock(options: unknown, path: string): Readonly<Record<string, unknown>> {
  if (!isOptionsObject(options)) throw invalidConfig(path, 'an options object', options);
  if ('clock' in options) throw invalidConfig(`${path}.clock`, 'no clock (the simulation gives every policy its virtual clock)', options['clock']);
  return options;
}

/** A factory making one policy instance per client, on `clock`. */
export function policyFactory(spec: ScenarioPolicy, path: string, clock: Clock): () => Policy {
  const key = singleKey(spec, path, POLICY_KEYS);
  const at = `${path}.${key}`;
  const options = withoutClock((spec as Record<string, unknown>)[key], at);
  let make: () => Policy;
  if (key === 'adaptiveConcurrency') {
    const o = checkOptions(options, at, ['algorithm', 'window']);
    make = () => adaptiveConcurrency({
      clock,
      ...(o['algorithm'] === undefined ? {} : { algorithm: limitAlgorithm(o['algorithm'] as ScenarioLimitAlgorithm, `${at}.algorithm`) }),
      ...(o['window'] === undefined ? {} : { window: o['window'] as SampleWindowOptions | false }),
    });
  } else if (key === 'bulkhead') {
    make = () => bulkhead({ ...(options as unknown as BulkheadOptions), clock });
  } else if (key === 'rateLimit') {
    make = () => rateLimit({ ...(options as unknown as RateLimitOptions), clock });
  } else {
    make = () => adaptiveThrottle({ ...(options as AdaptiveThrottleOptions), clock });
  }
  under(at, make); // validates now, so a bad scenario fails before it runs
  return () => under(at, make);
}

/**
 * Applies a stack to a builder: each key calls the builder method of the
 * same name with the options as given (meshkit validates them; errors name
 * `path.key...`). Policies are made per build on `clock`.
 */
export function applyStack(builder: ClientBuilder, stack: ScenarioStack, path: string, clock: Clock, zone: string | undefined): ClientBuilder {
  const s = checkOptions(stack, path, STACK_KEYS);
  let b = builder;
  if (s['balancer'] !== undefined) b = b.balancer(balancerFactory(s['balancer'] as ScenarioBalancer, `${path}.balancer`, zone));
  if (s['timeout'] !== undefined) b = under(`${path}.timeout`, () => b.timeout(s['timeout'] as NonNullable<ScenarioStack['timeout']>));
  if (s['retry'] !== undefined) b = under(`${path}.retry`, () => b.retry(s['retry'] as NonNullable<ScenarioStack['retry']>));
  if (s['hedge'] !== undefined) b = under(`${path}.hedge`, () => b.hedge(s['hedge'] as NonNullable<ScenarioStack['hedge']>));
  if (s['outlierDetection'] !== undefined) {
    b = under(`${path}.outlierDetection`, () => b.outlierDetection(s['outlierDetection'] as NonNullable<ScenarioStack['outlierDetection']>));
  }
  if (s['endpointCircuitBreakers'] !== undefined) {
    b = under(`${path}.endpointCircuitBreakers`, () => b.endpointCircuitBreakers(s['endpointCircuitBreakers'] as NonNullable<ScenarioStack['endpointCircuitBreakers']>));
  }
  const breaker = s['circuitBreaker'];
  if (breaker !== undefined && breaker !== false) {
    const options = withoutClock(breaker, `${path}.circuitBreaker`);
    b = under(`${path}.circuitBreaker`, () => b.circuitBreaker({ ...options, clock }));
  }
  if (s['policies'] !== undefined) {
    const policies = s['policies'];
    if (!Array.isArray(policies)) throw invalidConfig(`${path}.policies`, 'a list of policies', policies);
    policies.forEach((policy: ScenarioPolicy, index) => {
      b = b.policy(policyFactory(policy, `${path}.policies[${index}]`, clock));
    });
  }
  return b;
}

/** Checks a stack without running anything (a throwaway builder on `clock`). */
export function checkStack(stack: unknown, path: string, clock: Clock, zone: string | undefined): void {
  applyStack(startClient('scenario-check'), stack as ScenarioStack, path, clock, zone);
}

/** A stack with `changes` laid over it: each key given replaces the whole key. */
export function overlayStack(base: ScenarioStack | undefined, changes: ScenarioStack | undefined): ScenarioStack {
  return { ...base, ...changes };
}
