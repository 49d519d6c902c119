// client.fetch as strict as fetch: a malformed or relative URL, a port, or a scheme the transport
// does not speak is an error, never silently rewritten; response.url is the URL asked for.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { client, isMeshkitError, type Client } from '../../src/index.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

const invalidInput = (error: unknown): boolean =>
  isMeshkitError(error, 'ERR_INVALID_ARGUMENT') && (error.details as { argument?: string }).argument === 'input';

describe('client.fetch is strict about its URL', () => {
  let upstream: Upstream;
  let c: Client;
  before(async () => {
    upstream = await startUpstream();
    c = client('orders').endpoints([upstream.address]).build();
  });
  afterEach(() => {
    upstream.requests.length = 0;
    upstream.handler = undefined;
  });
  after(async () => {
    await c.close();
    await upstream.close();
  });

  it('rejects a malformed or relative URL with ERR_INVALID_ARGUMENT, sending nothing', async () => {
    for (const input of ['not a url', 'v1/orders', '?x=1', '', '//orders/x', 'http://', 'ftp://orders/x']) {
      await assert.rejects(c.fetch(input), invalidInput, JSON.stringify(input));
    }
    assert.equal(upstream.requests.length, 0);
  });

  it('rejects a URL with a port: the endpoints choose the port, it is not dropped silently', async () => {
    await assert.rejects(c.fetch('http://orders:8080/v1/x'), invalidInput);
    await assert.rejects(c.fetch(new Request('http://orders:9/v1/x')), invalidInput);
    assert.equal(upstream.requests.length, 0);
    // The scheme's default port is no port at all (as URL reads it).
    await (await c.fetch('http://orders:80/v1/x')).arrayBuffer();
    assert.equal(upstream.requests.at(-1)?.url, '/v1/x');
  });

  it('rejects an https:// URL on an http transport (and http:// on https)', async () => {
    await assert.rejects(c.fetch('https://orders/v1/x'), (error: unknown) => invalidInput(error) && /transport speaks http/.test((error as Error).message));
    assert.equal(upstream.requests.length, 0);
  });

  it("sets response.url to the URL asked for: the service URL, or the path on the service's origin", async () => {
    const absolute = await c.fetch('http://orders/v1/orders/42?x=1');
    await absolute.arrayBuffer();
    assert.equal(absolute.url, 'http://orders/v1/orders/42?x=1');
    assert.equal(absolute.redirected, false);
    const path = await c.fetch('/v1/orders/42');
    await path.arrayBuffer();
    assert.equal(path.url, 'http://orders/v1/orders/42');
    const request = await c.fetch(new Request('http://orders/from-request'));
    await request.arrayBuffer();
    assert.equal(request.url, 'http://orders/from-request');
  });

  it('after a redirect, response.url is where it ended and redirected is true', async () => {
    upstream.handler = (req, res) => {
      if (req.url === '/old') res.writeHead(301, { location: '/new?y=2' }).end();
      else res.writeHead(200).end('new');
    };
    const res = await c.fetch('http://orders/old');
    assert.equal(await res.text(), 'new');
    assert.equal(res.url, 'http://orders/new?y=2');
    assert.equal(res.redirected, true);
  });
});
