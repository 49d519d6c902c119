import type { AttemptContext } from '../core/attempt.js';
import type { Endpoint } from '../core/endpoint.js';
import { invalidArgument, invalidConfig } from '../core/errors.js';
import { checkOptions, isOptionsObject, nearestKey, readChoice, readNumber } from '../core/options.js';
import type { Outcome } from '../core/outcome.js';
import type { Balancer, BalancerEnvironment, BalancerFactory, PickArgs, Picker } from './balancer.js';
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

  pick(args: PickArgs): Endpoint | undefined {
    const route = this.#route(args);
    if (route === undefined) return this.everything.pick(args);
    const picked = route.picker?.pick(args);
    return picked !== undefined || !this.fallbackToAny ? picked : this.everything.pick(args);
  }

  #route(args: PickArgs): Route | undefined {
    const name = args.subset;
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

const SUBSETS_KEYS: readonly (keyof SubsetOptions)[] = ['subsets', 'split', 'fallback'];

/** "one of a, b (did you mean `b`?)" for a split entry naming no subset. */
function nameHint(name: string, names: readonly string[]): string {
  const near = nearestKey(name, names);
  return `one of ${names.join(', ')}${near === undefined ? '' : ` (did you mean \`${near}\`?)`}`;
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
 * Throws `ERR_INVALID_CONFIG` naming `subsets.<option>` (unknown keys included).
 */
export function subsets(options: SubsetOptions, inner: BalancerFactory): BalancerFactory {
  const o = checkOptions(options, 'subsets', SUBSETS_KEYS);
  if (inner === null || typeof inner !== 'object' || typeof inner.create !== 'function') {
    throw invalidConfig('balancer', 'a balancer factory such as peakEwma()', inner);
  }
  const named = o['subsets'];
  if (!isOptionsObject(named) || Object.keys(named).length === 0) {
    throw invalidConfig('subsets.subsets', 'an object of named selectors', named);
  }
  const selectors = new Map(Object.entries(named).map(([name, s]) => [name, checkSelector(s as SubsetSelector, `subsets.subsets.${name}`)] as const));
  const splitOption = o['split'] ?? {};
  if (!isOptionsObject(splitOption)) throw invalidConfig('subsets.split', 'an object of weights by subset name', splitOption);
  const split = Object.entries(splitOption);
  for (const [name, weight] of split) {
    if (!selectors.has(name)) {
      throw invalidConfig(`subsets.split.${name}`, `a subset name: ${nameHint(name, [...selectors.keys()])}`, name);
    }
    readNumber(weight, `subsets.split.${name}`, 0, { min: 0 });
  }
  const weightsOf = split as [string, number][];
  if (weightsOf.length > 0 && weightsOf.every(([, w]) => w === 0)) throw invalidConfig('subsets.split', 'at least one weight > 0', splitOption);
  const fallback = readChoice(o['fallback'], 'subsets.fallback', ['any', 'none'] as const, 'any');

  return Object.freeze({
    name: `subsets(${inner.name})`,
    readsSubset: true,
    create(environment: BalancerEnvironment): Balancer {
      const everything = inner.create(environment);
      const routes = new Map<string, Route>();
      for (const [name, selector] of selectors) {
        routes.set(name, { name, selector, balancer: inner.create(environment), picker: undefined, ids: new Set() });
      }
      const splitRoutes = weightsOf.filter(([, w]) => w > 0).map(([name]) => routes.get(name) as Route);
      const weights = weightsOf.filter(([, w]) => w > 0).map(([, w]) => w);
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
