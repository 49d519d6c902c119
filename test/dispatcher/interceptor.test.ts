// meshkitInterceptor composed into an undici Agent (undici 7's controller API reaches it),
// undici's redirect interceptor on top of meshkitDispatcher, and a hand-written controller handler.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { Agent, interceptors, request, type Dispatcher } from 'undici';
import { client, DEADLINE_HEADER, roundRobin, type Client } from '../../src/index.js';
import { meshkitDispatcher, meshkitInterceptor } from '../../src/dispatcher/index.js';
import { streamBody, streamedText } from '../helpers/body-upstream.js';
import { startUpstreams, type Upstream } from '../helpers/upstream.js';

describe('meshkitInterceptor and the controller API', () => {
  let upstreams: Upstream[];
  let outside: Upstream;
  let orders: Client;
  let agent: Agent;
  let composed: Dispatcher;

  before(async () => {
    [outside, ...upstreams] = await startUpstreams([{}, {}, {}]) as [Upstream, ...Upstream[]];
    orders = client('orders').endpoints(upstreams.map((u) => u.address)).balancer(roundRobin())
      .timeout({ total: '3s' }).retry({ attempts: 2, budget: false }).build();
    agent = new Agent();
    composed = agent.compose(meshkitInterceptor({ routes: { 'http://orders': orders } }));
  });
  after(async () => {
    await agent.close();
    await orders.close();
    await Promise.all([outside, ...upstreams].map((u) => u.close()));
  });
  afterEach(() => {
    for (const upstream of [outside, ...upstreams]) {
      upstream.requests.length = 0;
      upstream.behaviour = {};
      upstream.handler = undefined;
    }
  });

  it('governs a routed origin (retry elsewhere, deadline header) and passes others to the agent', async () => {
    (upstreams[0] as Upstream).behaviour = { status: 503 };
    for (let i = 0; i < 2; i++) {
      const { statusCode, body } = await request('http://orders/v1/x', { dispatcher: composed });
      assert.equal(statusCode, 200);
      assert.equal(await body.text(), `ok ${(upstreams[1] as Upstream).port}`);
    }
    assert.ok((upstreams[1] as Upstream).requests.every((r) => r.headers[DEADLINE_HEADER] !== undefined));
    const plain = await request(`http://127.0.0.1:${outside.port}/plain`, { dispatcher: composed });
    assert.equal(await plain.body.text(), `ok ${outside.port}`);
    assert.equal(outside.requests[0]?.headers[DEADLINE_HEADER], undefined);
  });

  it('streams a large body with backpressure through the controller (pause, resume)', async () => {
    for (const upstream of upstreams) upstream.handler = (_req, res) => streamBody(res, 50, 1);
    const { body } = await request('http://orders/v1/stream', { dispatcher: composed, highWaterMark: 16 });
    let text = '';
    for await (const chunk of body) {
      text += String(chunk);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    assert.equal(text, streamedText(50));
  });

  it("under undici's redirect interceptor, a redirect is followed through meshkit", async () => {
    for (const upstream of upstreams) upstream.handler = (req, res) => {
      if (req.url === '/old') {
        res.writeHead(301, { location: 'http://orders/new' });
        res.end();
      } else {
        res.end(`at ${req.url ?? ''}`);
      }
    };
    const dispatcher = meshkitDispatcher({ routes: { 'http://orders': orders }, fallback: agent })
      .compose(interceptors.redirect({ maxRedirections: 2 }));
    const { statusCode, body } = await request('http://orders/old', { dispatcher });
    assert.equal(statusCode, 200);
    assert.equal(await body.text(), 'at /new');
    assert.deepEqual(upstreams.flatMap((u) => u.requests).map((r) => r.url).sort(), ['/new', '/old']);
    // The same with meshkit as an interceptor, undici's redirect interceptor wrapping it.
    const chained = new Agent().compose(meshkitInterceptor({ routes: { 'http://orders': orders } }), interceptors.redirect({ maxRedirections: 2 }));
    try {
      const again = await request('http://orders/old', { dispatcher: chained });
      assert.equal(await again.body.text(), 'at /new');
    } finally {
      await chained.close();
    }
  });

  it('serves a hand-written controller handler: pause holds the body, resume lets it finish', async () => {
    for (const upstream of upstreams) upstream.handler = (_req, res) => streamBody(res, 5, 1);
    const dispatcher = meshkitDispatcher({ routes: { 'http://orders': orders }, fallback: agent });
    const events: string[] = [];
    let received = '';
    const done = new Promise<void>((resolve, reject) => {
      dispatcher.dispatch({ origin: 'http://orders', path: '/v1/c', method: 'GET' }, {
        onRequestStart: () => events.push('start'),
        onResponseStart: (controller, statusCode, headers) => {
          events.push(`status ${statusCode} ${String(headers['content-type'])}`);
          controller.pause();
          setTimeout(() => {
            events.push('resume');
            controller.resume();
          }, 50);
        },
        onResponseData: (_controller, chunk) => {
          if (!events.includes('resume')) events.push('data while paused');
          received += chunk.toString();
        },
        onResponseEnd: () => {
          events.push('end');
          resolve();
        },
        onResponseError: (_controller, error) => reject(error),
      });
    });
    await done;
    assert.deepEqual(events, ['start', 'status 200 text/plain', 'resume', 'end']);
    assert.equal(received, streamedText(5));
    assert.equal(dispatcher.inFlight, 0);
  });
});
