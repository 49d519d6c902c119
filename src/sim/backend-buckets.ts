import type { BackendBucket } from './backend-stats.js';

/**
 * Counts what one backend sees per bucket of virtual time. Buckets are made
 * as traffic arrives, so a quiet bucket is missing; each starts with the
 * requests already in flight as its `maxInFlight`.
 */
export class BackendBuckets {
  readonly #width: number;
  readonly #buckets: BackendBucket[] = [];
  #current: BackendBucket | undefined = undefined;
  #currentEnd = -Infinity;

  /** `width`: bucket width in ms. */
  constructor(width: number) {
    this.#width = width;
  }

  /** The bucket holding `now`, made if needed; `inFlight` is what the backend holds now. */
  at(now: number, inFlight: number): BackendBucket {
    const current = this.#current;
    if (current !== undefined && now < this.#currentEnd) return current;
    const start = Math.floor(now / this.#width) * this.#width;
    const bucket: BackendBucket = { start, arrivals: 0, succeeded: 0, failed: 0, maxInFlight: inFlight };
    this.#buckets.push(bucket);
    this.#current = bucket;
    this.#currentEnd = start + this.#width;
    return bucket;
  }

  /** The buckets so far, in time order. */
  all(): readonly BackendBucket[] {
    return this.#buckets;
  }
}
