// client.fetch as a drop-in for code written against fetch(url, init): service URLs
// (http://orders/...) resolved through meshkit, streamed request and response bodies.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { client, DEADLINE_HEADER, roundRobin, type Client } from '../../src/index.js';
import { startUpstreams, type Upstream } from '../helpers/upstream.js';

/** Code that knows nothing of meshkit: it takes any fetch. */
async function uploadLines(fetchImpl: typeof fetch, lines: readonly string[]): Promise<{ status: number; chunks: string[] }> {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const line of lines) controller.enqueue(encoder.encode(`${line}\n`));
      controller.close();
    },
  });
  const response = await fetchImpl('http://orders/v1/lines?x=1', { method: 'POST', body, headers: { 'content-type': 'text/plain' }, duplex: 'half' } as RequestInit);
  const chunks: string[] = [];
  const decoder = new TextDecoder();
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) chunks.push(decoder.decode(chunk));
  return { status: response.status, chunks };
}

describe('client.fetch as a drop-in fetch', () => {
  let upstreams: Upstream[];
  let orders: Client;
  before(async () => {
    upstreams = await startUpstreams([{}, {}]);
    orders = client('orders').endpoints(upstreams.map((u) => u.address)).balancer(roundRobin())
      .timeout({ total: '5s' }).retry({ attempts: 2, budget: false }).build();
  });
  after(async () => {
    await orders.close();
    await Promise.all(upstreams.map((u) => u.close()));
  });

  it('sends a streamed body to http://orders/... and streams the answer back', async () => {
    for (const upstream of upstreams) {
      // Echoes each received line as its own chunk, then ends.
      upstream.handler = (_req, res, body) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        const lines = body.split('\n').filter(Boolean);
        let i = 0;
        const next = (): void => {
          if (i === lines.length) res.end();
          else res.write(`got ${lines[i++]};`, () => setTimeout(next, 5));
        };
        next();
      };
    }
    const fetchLike: typeof fetch = orders.fetch.bind(orders);
    const { status, chunks } = await uploadLines(fetchLike, ['a', 'b', 'c']);
    assert.equal(status, 200);
    assert.equal(chunks.join(''), 'got a;got b;got c;');
    const seen = upstreams.flatMap((u) => u.requests);
    assert.equal(seen.length, 1);
    assert.deepEqual([seen[0]?.method, seen[0]?.url, seen[0]?.body], ['POST', '/v1/lines?x=1', 'a\nb\nc\n']);
    assert.ok(Number(seen[0]?.headers[DEADLINE_HEADER]) <= 5000);
  });

  it('never retries a streamed body: the 503 comes back as the Response', async () => {
    for (const upstream of upstreams) {
      upstream.handler = undefined;
      upstream.behaviour = { status: 503, body: 'busy' };
      upstream.requests.length = 0;
    }
    const { status, chunks } = await uploadLines(orders.fetch.bind(orders), ['x']);
    assert.equal(status, 503);
    assert.equal(chunks.join(''), 'busy');
    assert.equal(upstreams.flatMap((u) => u.requests).length, 1);
    // The same call with a replayable body is retried on the other endpoint.
    for (const upstream of upstreams) upstream.requests.length = 0;
    upstreams[1]!.behaviour = {};
    const retried = await orders.fetch('http://orders/v1/lines', { method: 'PUT', body: 'x' });
    assert.equal(retried.status, 200);
    assert.equal(await retried.text(), `ok ${upstreams[1]!.port}`);
  });
});
