/** What one simulated backend saw during one bucket of virtual time. */
export interface BackendBucket {
  /** Virtual time the bucket starts at, in ms. */
  readonly start: number;
  /** Requests that reached the backend (served, queued, turned away with a 503 by a full queue, or blackholed); a refused connection is no arrival. */
  arrivals: number;
  /** Requests it answered with a success (any status below 500). */
  succeeded: number;
  /** Requests that ended in a failure it caused (5xx, reset, refused, stall, blackhole). */
  failed: number;
  /** Most requests in service plus queued at once. */
  maxInFlight: number;
}

/** A backend as a report reads it: where it sits and what it saw over time. */
export interface BackendStatsSource {
  /** The endpoint id clients see (`host:port`). */
  readonly id: string;
  /** The service it belongs to. */
  readonly service: string;
  /** Its zone; undefined when the scenario has none. */
  readonly zone: string | undefined;
  /** Buckets from the start of the run, in time order, `bucketMs` wide; a bucket with no traffic may be missing. */
  buckets(): readonly BackendBucket[];
}
