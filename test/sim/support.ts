import { client } from '../../src/index.js';
import type { Endpoint } from '../../src/core/endpoint.js';
import type { BackendBucket, BackendStatsSource } from '../../src/sim/backend-stats.js';
import { SimLoop } from '../../src/sim/event-loop.js';
import { closedLoop, openLoop } from '../../src/sim/load.js';
import { SimRecorder } from '../../src/sim/recorder.js';
import type { SimReport } from '../../src/sim/report.js';

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

/**
 * A small whole run for report tests: six fake backends in three zones
 * (one slow from 1 s to 2 s, one resetting connections, all of them for
 * 300 ms at 2.5 s), an open-loop
 * client with peak EWMA, retries, hedging and outlier detection, and a
 * closed-loop client with fan-out and a circuit breaker; 4 s of virtual time.
 */
export async function smallRun(seed: number, scenario = 'small'): Promise<SimReport> {
  const loop = new SimLoop({ seed });
  const latency = loop.random('fake-latency');
  const ids = [1, 2, 3, 4, 5, 6].map((i) => `127.0.0.${i}:8080`);
  const fakes = new FakeBackends(loop, ids.map((id, index) => ({
    id,
    zone: `zone-${'abc'[index % 3]}`,
    behaviour: (now: number): FakeBehaviour => {
      // Backend 6 resets every connection; all of them do from 2.5 s to 2.8 s (an outage the breaker sees).
      if (index === 5 || (now >= 2500 && now < 2800)) return { latencyMs: 1, failWith: 'ECONNRESET' };
      const base = 2 + latency() * 6;
      return { latencyMs: index === 0 && now >= 1000 && now < 2000 ? 300 : base };
    },
  })), 250);
  const web = client('web').endpoints(ids).clock(loop.clock)
    .retry({ attempts: 3 }).hedge({ after: '20ms' }).outlierDetection({ consecutiveGatewayFailures: 3 }).timeout({ perTry: '100ms' }).build();
  const batch = client('batch').endpoints(ids).clock(loop.clock).circuitBreaker({ volumeThreshold: 10, errorThreshold: 0.3, window: '500ms', resetTimeout: '300ms' }).build();
  const recorder = new SimRecorder(loop, { duration: 4000, backends: fakes.sources, bucketMs: 250 });
  const webTrack = recorder.track('web', web);
  const batchTrack = recorder.track('batch', batch);
  recorder.start();
  try {
    openLoop(loop, () => web.call(fakes.call, { idempotent: true }), { record: webTrack, rate: 300, duration: 4000 });
    closedLoop(loop, () => batch.call(fakes.call), { record: batchTrack, callers: 4, fanout: 3, thinkMs: 10, duration: 4000 });
    // The load ends at 4 s; what is in flight then finishes before the recorder stops.
    await loop.run(5000);
  } finally {
    recorder.stop();
  }
  const closing = Promise.all([web.close(), batch.close()]);
  await loop.run(6000);
  await closing;
  return recorder.report(scenario);
}
