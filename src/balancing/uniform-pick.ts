import type { PickArgs } from './balancer.js';
import type { Endpoint } from '../core/endpoint.js';
import type { PickRandom } from './pick-random.js';
import { shouldAvoid, wasTried } from './tried.js';

/**
 * Samples drawn before falling back to a scan when a retry keeps hitting tried
 * endpoints: with half of them tried, all five land on tried ones about 3 % of
 * the time (0.5^5).
 */
export const MAX_SAMPLE_ROUNDS = 5;

/**
 * A uniformly random endpoint, avoiding `args.tried` while others remain: one
 * draw on the hot path; a retry re-samples up to {@link MAX_SAMPLE_ROUNDS}
 * times, then scans from a random offset (only when nearly every endpoint was
 * tried, so the scan is short).
 */
export function uniformPick(endpoints: readonly Endpoint[], args: PickArgs, random: PickRandom): Endpoint | undefined {
  const count = endpoints.length;
  if (count <= 1) return endpoints[0];
  const first = endpoints[random.index(count)] as Endpoint;
  const tried = args.tried;
  if (!shouldAvoid(tried, count) || !wasTried(tried, first)) return first;
  for (let round = 1; round < MAX_SAMPLE_ROUNDS; round++) {
    const endpoint = endpoints[random.index(count)] as Endpoint;
    if (!wasTried(tried, endpoint)) return endpoint;
  }
  return firstUntried(endpoints, tried, random.index(count)) ?? first;
}

/** The first endpoint not in `tried`, scanning circularly from `start`. */
export function firstUntried(endpoints: readonly Endpoint[], tried: readonly Endpoint[], start: number): Endpoint | undefined {
  const count = endpoints.length;
  for (let i = 0; i < count; i++) {
    const endpoint = endpoints[(start + i) % count] as Endpoint;
    if (!wasTried(tried, endpoint)) return endpoint;
  }
  return undefined;
}
