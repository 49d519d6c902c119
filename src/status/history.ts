import type { ClientSnapshot } from '../client/snapshot.js';

/** One sample of an endpoint's latency: `[wall-clock ms, latency ms or null when the balancer had no estimate]`. */
export type LatencySample = readonly [at: number, latencyMs: number | null];

/** A fixed-size ring of samples for one endpoint: memory is allocated once and never grows. */
class Ring {
  readonly #at: Float64Array;
  readonly #latency: Float64Array;
  #next = 0;
  #count = 0;

  constructor(size: number) {
    this.#at = new Float64Array(size);
    this.#latency = new Float64Array(size);
  }

  push(at: number, latencyMs: number | undefined): void {
    this.#at[this.#next] = at;
    // NaN marks "no estimate" (an ejected endpoint, a balancer without latency): the sparkline shows a gap.
    this.#latency[this.#next] = latencyMs ?? Number.NaN;
    this.#next = (this.#next + 1) % this.#at.length;
    if (this.#count < this.#at.length) this.#count++;
  }

  /** Oldest first. */
  samples(): LatencySample[] {
    const size = this.#at.length;
    const out: LatencySample[] = [];
    for (let i = 0; i < this.#count; i++) {
      const j = (this.#next - this.#count + i + size) % size;
      const v = this.#latency[j] as number;
      // Three decimals (1 us) are plenty for a sparkline and keep the JSON small.
      out.push([this.#at[j] as number, Number.isNaN(v) ? null : Math.round(v * 1000) / 1000]);
    }
    return out;
  }
}

/**
 * Keys for a list of snapshots: the service name, with `#2`, `#3`... for
 * later clients of the same name (build order), so that two clients of one
 * service keep separate histories and rows.
 */
export function clientKeys(snapshots: readonly ClientSnapshot[]): string[] {
  const seen = new Map<string, number>();
  return snapshots.map((s) => {
    const n = (seen.get(s.service) ?? 0) + 1;
    seen.set(s.service, n);
    return n === 1 ? s.service : `${s.service}#${n}`;
  });
}

/**
 * Recent latency estimates per client and endpoint, so that a status page
 * opened now already shows a trend. Bounded: `size` samples per endpoint, and
 * only for the clients and endpoints of the latest sample (others are
 * forgotten at once), so it cannot outgrow the endpoint sets it is shown.
 */
export class LatencyHistory {
  readonly size: number;
  #clients = new Map<string, Map<string, Ring>>();

  /** @param size samples kept per endpoint */
  constructor(size: number) {
    this.size = size;
  }

  /**
   * Appends one sample per endpoint of `snapshots` (keyed by `keys`), dropping
   * whatever is no longer there. The caller bounds the endpoints per snapshot.
   */
  record(snapshots: readonly ClientSnapshot[], keys: readonly string[], at: number): void {
    const clients = new Map<string, Map<string, Ring>>();
    snapshots.forEach((snapshot, i) => {
      const key = keys[i] as string;
      const before = this.#clients.get(key);
      const rings = new Map<string, Ring>();
      for (const endpoint of snapshot.endpoints) {
        const ring = before?.get(endpoint.id) ?? new Ring(this.size);
        ring.push(at, endpoint.latencyMs);
        rings.set(endpoint.id, ring);
      }
      clients.set(key, rings);
    });
    this.#clients = clients;
  }

  /** The samples of one endpoint, oldest first; empty when none were taken. */
  samples(key: string, endpointId: string): LatencySample[] {
    return this.#clients.get(key)?.get(endpointId)?.samples() ?? [];
  }

  clear(): void {
    this.#clients = new Map();
  }
}
