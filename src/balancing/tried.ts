import type { Endpoint } from '../core/endpoint.js';

/**
 * Whether `endpoint` is among the endpoints a call already tried. Compares
 * ids too, because a set update may hand out new objects for the same
 * instance between two attempts. `tried` is tiny (one entry per retry), so a
 * loop beats any index.
 */
export function wasTried(tried: readonly Endpoint[], endpoint: Endpoint): boolean {
  for (let i = 0; i < tried.length; i++) {
    const other = tried[i] as Endpoint;
    if (other === endpoint || other.id === endpoint.id) return true;
  }
  return false;
}

/** True when `args.tried` leaves something to avoid: some tried, and not all of the `count` endpoints. */
export function shouldAvoid(tried: readonly Endpoint[] | undefined, count: number): tried is readonly Endpoint[] {
  return tried !== undefined && tried.length > 0 && tried.length < count;
}
