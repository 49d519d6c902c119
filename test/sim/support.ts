import type { Endpoint } from '../../src/core/endpoint.js';
import type { BackendBucket, BackendStatsSource } from '../../src/sim/backend-stats.js';
import type { SimLoop } from '../../src/sim/event-loop.js';

/** What a fake backend does with one call. */
export interface FakeBehaviour {
  /** Latency of the answer, ms. */
  readonly latencyMs: number;
  /** Fails with this error code (`ECONNREFUSED` at once, others after the latency); undefined to succeed. */
  readonly failWith?: string | undefined;
}

/**
 * Backends for `client.call(fakes.call)`: each endpoint id has a behaviour
 * (a function of the virtual time), answers on SimLoop timers, and counts
 * its traffic per bucket as a {@link BackendStatsSource}, the way the
 * simulated backends do.
 */
export class FakeBackends {
  readonly sources: FakeBackend[];
  readonly #byId = new Map<string, FakeBackend>();

  constructor(readonly loop: SimLoop, specs: readonly { id: string; zone?: string; behaviour: (now: number) => FakeBehaviour }[], bucketMs = 1000) {
    this.sources = specs.map((spec) => new FakeBackend(loop, spec.id, spec.zone, spec.behaviour, bucketMs));
    for (const source of this.sources) this.#byId.set(source.id, source);
  }

  /** The governed function: one attempt against the endpoint meshkit picked. */
  readonly call = (endpoint: Endpoint): Promise<string> => (this.#byId.get(endpoint.id) as FakeBackend).serve();
}

export class FakeBackend implements BackendStatsSource {
  readonly service = 'fake';
  readonly #buckets: BackendBucket[] = [];

  constructor(
    readonly loop: SimLoop,
    readonly id: string,
    readonly zone: string | undefined,
    readonly behaviour: (now: number) => FakeBehaviour,
    readonly bucketMs: number,
  ) {}

  buckets(): readonly BackendBucket[] {
    return this.#buckets;
  }

  #bucket(): BackendBucket {
    const start = Math.floor(this.loop.now() / this.bucketMs) * this.bucketMs;
    let last = this.#buckets.at(-1);
    if (last === undefined || last.start !== start) {
      last = { start, arrivals: 0, succeeded: 0, failed: 0, maxInFlight: 0 };
      this.#buckets.push(last);
    }
    return last;
  }

  serve(): Promise<string> {
    const now = this.loop.now();
    const { latencyMs, failWith } = this.behaviour(now);
    this.#bucket().arrivals++;
    if (failWith === 'ECONNREFUSED') {
      this.#bucket().failed++;
      return Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: failWith }));
    }
    return new Promise((resolve, reject) => {
      this.loop.after(latencyMs, () => {
        if (failWith === undefined) {
          this.#bucket().succeeded++;
          resolve('ok');
        } else {
          this.#bucket().failed++;
          reject(Object.assign(new Error(`failed ${failWith}`), { code: failWith }));
        }
      });
    });
  }
}
