import type { Endpoint } from '../core/endpoint.js';
import type { PickArgs, Picker } from './balancer.js';
import type { AliasTable } from './alias-table.js';
import type { PickRandom } from './pick-random.js';
import { shouldAvoid, wasTried } from './tried.js';
import { MAX_SAMPLE_ROUNDS, firstUntried } from './uniform-pick.js';

/**
 * Power of d choices (Mitzenmacher; Finagle's P2C, Envoy's least_request,
 * gRPC): sample `choices` random endpoints and take the least loaded. Cost is
 * one draw from the balancer's {@link PickRandom} per uniform sample (two per
 * weighted one) and `choices` load reads, whatever the set size; no clock
 * read and no allocation. Subclasses say what load means. With two uniform
 * choices the samples are distinct, so the worse of the two is never taken;
 * ties go to the first sample.
 */
export abstract class P2cPicker implements Picker {
  readonly endpoints: readonly Endpoint[];
  readonly #random: PickRandom;
  readonly #choices: number;
  /** Weighted sampling (by `endpoint.weight`) when weights differ; uniform otherwise. */
  readonly #sampler: AliasTable | undefined;

  constructor(endpoints: readonly Endpoint[], random: PickRandom, choices: number, sampler?: AliasTable) {
    this.endpoints = endpoints;
    this.#random = random;
    this.#choices = choices;
    this.#sampler = sampler;
  }

  /**
   * Whether endpoint `a` is strictly less loaded than endpoint `b`. A boolean
   * rather than a load number: V8 boxes a double returned by a call it does
   * not inline, which would allocate on every pick.
   */
  protected abstract less(a: number, b: number): boolean;

  pick(args: PickArgs): Endpoint | undefined {
    const endpoints = this.endpoints;
    const count = endpoints.length;
    if (count <= 1) return endpoints[0];
    const tried = shouldAvoid(args.tried, count) ? args.tried : undefined;
    let fallback = -1;
    const random = this.#random;
    const sampler = this.#sampler;
    for (let round = 0; round < MAX_SAMPLE_ROUNDS; round++) {
      const first = sampler === undefined ? random.index(count) : sampler.sample(random);
      let best = -1;
      for (let c = 0; c < this.#choices; c++) {
        // Uniform: the second sample is drawn from the others, so two samples are always two endpoints.
        const index = c === 0 ? first
          : sampler !== undefined ? sampler.sample(random)
          : c === 1 ? random.indexBesides(first, count) : random.index(count);
        if (tried !== undefined && wasTried(tried, endpoints[index] as Endpoint)) continue;
        if (best < 0 || this.less(index, best)) best = index;
      }
      if (best >= 0) return endpoints[best];
      fallback = first;
    }
    // Every sample was tried: only when nearly all endpoints were, so this scan is short in practice.
    return firstUntried(endpoints, tried as readonly Endpoint[], fallback) ?? endpoints[fallback];
  }
}

/** True when the endpoints do not all have the same weight. */
export function weightsDiffer(endpoints: readonly Endpoint[]): boolean {
  const first = endpoints[0]?.weight;
  for (let i = 1; i < endpoints.length; i++) if ((endpoints[i] as Endpoint).weight !== first) return true;
  return false;
}
