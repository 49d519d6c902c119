import type { AttemptContext } from '../core/attempt.js';
import type { CallContext } from '../core/call-context.js';
import type { Endpoint } from '../core/endpoint.js';
import { invalidArgument, invalidConfig } from '../core/errors.js';
import type { Outcome } from '../core/outcome.js';
import type { Balancer, BalancerEnvironment, BalancerFactory, Picker } from './balancer.js';
import { CHANCE_SCALE, chanceThreshold, PickRandom } from './pick-random.js';
import { checkSelector, matches, type SubsetSelector } from './subset-selector.js';

/** Options of {@link subsets}. */
export interface SubsetOptions {
  /** Named subsets: `{ v1: { metadata: { version: 'v1' } }, v2: { metadata: { version: 'v2' } } }`. */
  readonly subsets: Readonly<Record<string, SubsetSelector>>;
  /**
   * Traffic split for calls that name no subset: relative weights per subset
   * name (`{ v1: 90, v2: 10 }`). Default: no split, such calls use every endpoint.
   */
  readonly split?: Readonly<Record<string, number>>;
  /**
   * When the chosen subset has no endpoint to offer: `'any'` uses any endpoint,
   * `'none'` fails the attempt with `ERR_NO_ENDPOINTS`. Default `'any'` (as Envoy's `ANY_ENDPOINT`).
   */
  readonly fallback?: 'any' | 'none';
}

interface Route {
  readonly name: string;
  readonly selector: SubsetSelector;
  readonly balancer: Balancer;
  picker: Picker | undefined;
  ids: ReadonlySet<string>;
}

/** Chooses the route of each call, then lets that route's own picker choose the endpoint. */
class SubsetPicker implements Picker {
  constructor(
    readonly endpoints: readonly Endpoint[],
    readonly everything: Picker,
    readonly routes: ReadonlyMap<string, Route>,
    readonly splitRoutes: readonly Route[],
    /** Cumulative split shares as integer thresholds out of CHANCE_SCALE (the last is CHANCE_SCALE): integer comparisons, nothing to box. */
    readonly thresholds: Int32Array,
    readonly fallbackToAny: boolean,
    readonly random: PickRandom,
  ) {}

  pick(call: CallContext): Endpoint | undefined {
    const route = this.#route(call);
    if (route === undefined) return this.everything.pick(call);
    const picked = route.picker?.pick(call);
    return picked !== undefined || !this.fallbackToAny ? picked : this.everything.pick(call);
  }

  #route(call: CallContext): Route | undefined {
    const name = call.subset;
    if (name !== undefined) {
      const named = this.routes.get(name);
      if (named === undefined) throw invalidArgument('options.subset', `one of ${[...this.routes.keys()].join(', ')}`, name);
      return named;
    }
    const split = this.splitRoutes;
    if (split.length === 0) return undefined;
    const x = this.random.index(CHANCE_SCALE);
    for (let i = 0; i < split.length; i++) if (x < (this.thresholds[i] as number)) return split[i];
    return split[split.length - 1];
  }
}

/**
 * Subsets and traffic splits (Envoy's subset load balancer, weighted
 * clusters): calls choose a named subset of endpoints, by `options.subset`
 * per call, or by the `split` weights (a canary at 10 %); within the subset,
 * `inner` (default: the client's other balancer) picks. Each subset has its
 * own inner balancer, so load estimates stay per subset; attempt feedback
 * reaches every subset that holds the endpoint. Choosing the route costs a
 * map lookup (named subset) or one draw from the balancer's own random
 * stream (split), and allocates nothing.
 * Throws `ERR_INVALID_CONFIG` naming `subsets.<option>`.
 */
export function subsets(options: SubsetOptions, inner: BalancerFactory): BalancerFactory {
  if (options === null || typeof options !== 'object') throw invalidConfig('subsets', '{ subsets, split?, fallback? }', options);
  const named = options.subsets;
  if (named === null || typeof named !== 'object' || Object.keys(named).length === 0) {
    throw invalidConfig('subsets.subsets', 'an object of named selectors', named);
  }
  const selectors = new Map(Object.entries(named).map(([name, s]) => [name, checkSelector(s, `subsets.subsets.${name}`)] as const));
  const split = Object.entries(options.split ?? {});
  for (const [name, weight] of split) {
    if (!selectors.has(name)) throw invalidConfig(`subsets.split.${name}`, `a subset name (${[...selectors.keys()].join(', ')})`, name);
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) throw invalidConfig(`subsets.split.${name}`, 'a weight >= 0', weight);
  }
  if (split.length > 0 && split.every(([, w]) => w === 0)) throw invalidConfig('subsets.split', 'at least one weight > 0', options.split);
  const fallback = options.fallback ?? 'any';
  if (fallback !== 'any' && fallback !== 'none') throw invalidConfig('subsets.fallback', "'any' or 'none'", fallback);

  return Object.freeze({
    name: `subsets(${inner.name})`,
    create(environment: BalancerEnvironment): Balancer {
      const everything = inner.create(environment);
      const routes = new Map<string, Route>();
      for (const [name, selector] of selectors) {
        routes.set(name, { name, selector, balancer: inner.create(environment), picker: undefined, ids: new Set() });
      }
      const splitRoutes = split.filter(([, w]) => w > 0).map(([name]) => routes.get(name) as Route);
      const weights = split.filter(([, w]) => w > 0).map(([, w]) => w);
      const total = weights.reduce((a, b) => a + b, 0);
      let sum = 0;
      const thresholds = Int32Array.from(weights, (w) => chanceThreshold((sum += w) / total));
      const random = PickRandom.from(environment.clock);
      return {
        update(endpoints: readonly Endpoint[], all?: readonly Endpoint[]): Picker {
          for (const route of routes.values()) {
            const chosen = endpoints.filter((e) => matches(route.selector, e));
            route.ids = new Set(chosen.map((e) => e.id));
            route.picker = route.balancer.update(chosen, (all ?? endpoints).filter((e) => matches(route.selector, e)));
          }
          return new SubsetPicker(endpoints, everything.update(endpoints, all), routes, splitRoutes, thresholds, fallback === 'any', random);
        },
        describe: (endpoint: Endpoint) => everything.describe?.(endpoint),
        onAttemptStart(attempt: AttemptContext): void {
          everything.onAttemptStart?.(attempt);
          for (const route of routes.values()) if (route.ids.has(attempt.endpoint.id)) route.balancer.onAttemptStart?.(attempt);
        },
        onAttemptEnd(attempt: AttemptContext, outcome: Outcome, durationMs: number): void {
          everything.onAttemptEnd?.(attempt, outcome, durationMs);
          for (const route of routes.values()) if (route.ids.has(attempt.endpoint.id)) route.balancer.onAttemptEnd?.(attempt, outcome, durationMs);
        },
      };
    },
  });
}
