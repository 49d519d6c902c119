// The three-service example (examples/chain): Express gateway -> Fastify
// orders -> gRPC inventory, each a real process governed by meshkit, spans
// exported over OTLP to a loopback receiver. Run once with static addresses
// and once with Consul discovery.
import * as assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import { startChain, type Chain } from '../../examples/chain/main.js';
import { CONSUL_HOW_TO_GET, startConsul, type ConsulServer } from '../helpers/consul-server.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.js';
import { serverMissing } from '../helpers/require-server.js';

interface Hop { service: string; deadlineMs: number; traceId: string }
interface Answer { status: number; elapsedMs: number; hops: Hop[] }

async function checkout(chain: Chain, sku: string, workMs: number): Promise<Answer> {
  const started = performance.now();
  const res = await fetch(`${chain.gatewayUrl}/checkout/${sku}?work=${workMs}`);
  const body = (await res.json()) as { hops?: Hop[] };
  return { status: res.status, elapsedMs: performance.now() - started, hops: body.hops ?? [] };
}

const serviceOf = (span: ReceivedSpan): string => String(span.resource['service.name']);
/** OTLP's SpanKind numbers (the API's value + 1). */
const OTLP_SERVER = 2;
const OTLP_CLIENT = 3;

/** The scenarios both discovery modes must pass. */
async function exercise(t: TestContext, chain: Chain, receiver: OtlpReceiver): Promise<void> {
  // 1. A request with time to spare: every hop answers, each with less of the edge's 300 ms than the one before.
  const ok = await checkout(chain, 'sku-1', 30);
  t.diagnostic(`200 path: ${ok.hops.map((h) => `${h.service} ${h.deadlineMs} ms`).join(' > ')} in ${ok.elapsedMs.toFixed(0)} ms`);
  assert.equal(ok.status, 200);
  assert.deepEqual(ok.hops.map((h) => h.service), ['gateway', 'orders', 'inventory']);
  const [gateway, orders, inventory] = ok.hops as [Hop, Hop, Hop];
  assert.ok(gateway.deadlineMs <= 300 && gateway.deadlineMs > 200, `the edge gave 300 ms (${gateway.deadlineMs})`);
  // Whole milliseconds cross each hop, so a fast hop can show the same number; the last hop always has less than the first.
  assert.ok(orders.deadlineMs <= gateway.deadlineMs && inventory.deadlineMs <= orders.deadlineMs && inventory.deadlineMs < gateway.deadlineMs,
    `no hop sees more than the one before: ${gateway.deadlineMs} >= ${orders.deadlineMs} >= ${inventory.deadlineMs}`);
  const traceId = gateway.traceId;
  assert.match(traceId, /^[0-9a-f]{32}$/);
  assert.ok(ok.hops.every((h) => h.traceId === traceId), 'one trace id at every hop');

  // 2. Work that cannot fit: the caller gets 504 at the edge's deadline, and the last hop drops the work.
  const before = await chain.inventoryStats();
  const late = await checkout(chain, 'sku-2', 1500);
  t.diagnostic(`504 path: ${late.status} after ${late.elapsedMs.toFixed(0)} ms`);
  assert.equal(late.status, 504);
  assert.ok(late.elapsedMs >= 250 && late.elapsedMs < 900, `answered at the deadline, not after the work (${late.elapsedMs.toFixed(0)} ms)`);
  let afterStats = await chain.inventoryStats();
  for (let i = 0; i < 40 && afterStats.abandoned === before.abandoned; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    afterStats = await chain.inventoryStats();
  }
  assert.equal(afterStats.abandoned, before.abandoned + 1, 'the inventory lookup was dropped when its deadline passed');
  await new Promise((resolve) => setTimeout(resolve, 1600)); // past the 1.5 s the work would have taken
  assert.equal((await chain.inventoryStats()).completed, before.completed, 'nothing ran to completion after the deadline');

  // 3. The exported spans: one trace across the three processes, linked parent to child over the wire.
  await chain.stop(); // each process flushes its spans as it exits
  const spans = (await receiver.waitFor('spans of all three services', (all) =>
    new Set(all.filter((s) => s.traceId === traceId).map(serviceOf)).size === 3)).filter((s) => s.traceId === traceId);
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const inventoryServer = spans.find((s) => serviceOf(s) === 'inventory' && s.kind === OTLP_SERVER);
  assert.ok(inventoryServer !== undefined, `an inventory server span in ${spans.map((s) => `${serviceOf(s)}:${s.name}`).join(', ')}`);
  const chainOfServices: string[] = [];
  for (let span: ReceivedSpan | undefined = inventoryServer; span !== undefined; span = span.parentSpanId === undefined ? undefined : byId.get(span.parentSpanId)) {
    if (chainOfServices.at(-1) !== serviceOf(span)) chainOfServices.push(serviceOf(span));
    if (span.parentSpanId === undefined) assert.equal(serviceOf(span), 'gateway', 'the root is the edge');
  }
  assert.deepEqual(chainOfServices, ['inventory', 'orders', 'gateway'], 'inventory <- orders <- gateway, parent by parent');
  const ordersAttempt = spans.find((s) => s.spanId === inventoryServer.parentSpanId);
  assert.equal(ordersAttempt?.kind, OTLP_CLIENT, 'the gRPC server span hangs off the orders CLIENT span (its call span, or its attempt span for a resend)');
}

describe('examples/chain: Express -> Fastify -> gRPC', () => {
  let receiver: OtlpReceiver;
  before(async () => { receiver = await startOtlpReceiver(); });
  after(async () => { await receiver.close(); });

  it('with static addresses: one trace id across all hops, a 300 ms edge deadline honoured at every hop', async (t) => {
    const chain = await startChain({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.tracesUrl, CONSUL_HTTP_ADDR: '' });
    t.after(() => chain.stop());
    await exercise(t, chain, receiver);
  });

  it('with Consul discovery: the services register, find each other there, and leave on SIGTERM', async (t) => {
    let consul: ConsulServer | undefined;
    try {
      consul = await startConsul();
    } catch (error) {
      serverMissing(t, 'Consul', CONSUL_HOW_TO_GET, error);
      return;
    }
    t.after(() => consul?.stop());
    const chain = await startChain({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.tracesUrl, CONSUL_HTTP_ADDR: consul.address });
    t.after(() => chain.stop());
    const passing = async (service: string): Promise<number[]> => {
      const res = await fetch(`${consul?.address ?? ''}/v1/health/service/${service}?passing`);
      return ((await res.json()) as { Service: { Port: number } }[]).map((e) => e.Service.Port);
    };
    assert.deepEqual(await passing('orders'), [chain.ports.orders]);
    assert.deepEqual(await passing('inventory'), [chain.ports.inventory]);
    await exercise(t, chain, receiver);
    assert.deepEqual(await passing('orders'), [], 'orders left Consul on SIGTERM');
    assert.deepEqual(await passing('inventory'), [], 'inventory left Consul on SIGTERM');
  });
});
