// One table of resilience scenarios, run against every transport meshkit governs
// (client.request on undici, meshkit/got, meshkit/grpc) by scenarios.test.ts:
// each transport must retry, eject and honour deadlines the same way.
import assert from 'node:assert/strict';
import { client, roundRobin, subscribe, type Client, type ClientBuilder, type EjectionMessage } from '../../src/index.js';

/** Real upstreams of one kind (HTTP servers, gRPC servers) on 127.0.0.1, driven by the scenarios. */
export interface Fleet {
  /** `host:port` of each upstream, in order. */
  readonly addresses: readonly string[];
  /** Makes upstream `index` answer with its protocol's "unavailable" (HTTP 503, gRPC UNAVAILABLE), or recover. */
  fail(index: number, failing: boolean): void;
  /** Makes upstream `index` answer after `ms`. */
  delay(index: number, ms: number): void;
  /** Requests upstream `index` has received. */
  received(index: number): number;
  /** The remaining deadline (ms) upstream `index` was told on its last request (x-meshkit-deadline / gRPC deadline). */
  lastDeadlineMs(index: number): number | undefined;
  close(): Promise<void>;
}

/** A transport under test: starts its kind of upstreams and makes one idempotent call through a meshkit client. */
export interface TransportUnderTest {
  readonly name: string;
  start(count: number): Promise<Fleet>;
  /**
   * One idempotent call through `meshkit`; resolves with the index of the
   * upstream that answered with success, rejects with what the caller of
   * this transport would see (an HTTP 503 that survives retries is an error).
   */
  call(meshkit: Client, fleet: Fleet, options?: { readonly timeout?: string }): Promise<number>;
}

export interface Scenario {
  readonly name: string;
  run(transport: TransportUnderTest): Promise<void>;
}

let clients = 0;

/** A client over the fleet with the settings every scenario shares (round robin, fast unbudgeted retries). */
function clientFor(fleet: Fleet, configure: (builder: ClientBuilder) => ClientBuilder = (b) => b): { meshkit: Client; service: string } {
  const service = `scenario-${++clients}`;
  const builder = client(service)
    .endpoints(fleet.addresses)
    .balancer(roundRobin())
    .retry({ attempts: 3, backoff: { base: '1ms', cap: '2ms' }, budget: false });
  return { meshkit: configure(builder).build(), service };
}

/** What every transport reports when the call's deadline passes: meshkit's code (got wraps it in a RequestError with the same code). */
function isDeadlineExceeded(error: unknown): boolean {
  return (error as { code?: unknown }).code === 'ERR_DEADLINE_EXCEEDED';
}

export const scenarios: readonly Scenario[] = [
  {
    name: 'a retryable failure (503 / UNAVAILABLE) is retried on another endpoint',
    async run(transport) {
      const fleet = await transport.start(2);
      const { meshkit } = clientFor(fleet);
      try {
        fleet.fail(0, true);
        for (let i = 0; i < 6; i++) assert.equal(await transport.call(meshkit, fleet), 1);
        assert.ok(fleet.received(0) >= 1, 'the failing endpoint was tried');
        assert.equal(fleet.received(1), 6, 'every call ended on the healthy endpoint, once');
      } finally {
        await meshkit.close();
        await fleet.close();
      }
    },
  },
  {
    name: 'an endpoint that keeps failing is ejected by outlier detection and traffic moves',
    async run(transport) {
      const fleet = await transport.start(2);
      const { meshkit, service } = clientFor(fleet, (builder) =>
        builder.outlierDetection({ consecutiveGatewayFailures: 2, maxEjectionPercent: 50, baseEjectionTime: '30s' }));
      const ejections: EjectionMessage[] = [];
      const unsubscribe = subscribe('ejection', (message) => {
        if (message.service === service) ejections.push(message);
      });
      try {
        fleet.fail(0, true);
        for (let i = 0; i < 4 && ejections.length === 0; i++) assert.equal(await transport.call(meshkit, fleet), 1);
        assert.equal(ejections.length, 1);
        assert.equal(ejections[0]?.endpoint.id, fleet.addresses[0]);
        assert.equal(ejections[0]?.ejected, true);
        const failedBefore = fleet.received(0);
        for (let i = 0; i < 6; i++) assert.equal(await transport.call(meshkit, fleet), 1);
        assert.equal(fleet.received(0), failedBefore, 'no traffic to the ejected endpoint');
        assert.deepEqual(meshkit.endpoints().available.map((e) => e.id), [fleet.addresses[1]]);
      } finally {
        unsubscribe();
        await meshkit.close();
        await fleet.close();
      }
    },
  },
  {
    name: 'a deadline shorter than the upstream delay fails with ERR_DEADLINE_EXCEEDED; the upstream was told the deadline',
    async run(transport) {
      const fleet = await transport.start(1);
      const { meshkit } = clientFor(fleet);
      try {
        fleet.delay(0, 1500);
        await assert.rejects(transport.call(meshkit, fleet, { timeout: '150ms' }), isDeadlineExceeded);
        assert.equal(fleet.received(0), 1, 'no retry after the deadline');
        const told = fleet.lastDeadlineMs(0);
        assert.ok(told !== undefined && told > 0 && told <= 150, `upstream was told ${told} ms`);
      } finally {
        await meshkit.close();
        await fleet.close();
      }
    },
  },
];
