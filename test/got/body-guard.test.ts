import assert from 'node:assert/strict';
import type http from 'node:http';
import { after, afterEach, before, describe, it } from 'node:test';
import { RequestError } from 'got';
import { client, isMeshkitError } from '../../src/index.js';
import { meshkitGot } from '../../src/got/index.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

describe('meshkit/got bodies being read when the client closes', () => {
  let upstream: Upstream;
  let open: http.ServerResponse[] = [];
  before(async () => {
    upstream = await startUpstream();
    // A head and a first chunk, then a body that keeps coming slowly.
    upstream.handler = (_req, res) => {
      open.push(res);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first;');
    };
  });
  afterEach(() => {
    for (const res of open) res.destroy();
    open = [];
  });
  after(() => upstream.close());

  for (const [label, timeout] of [['guarded by a per-try timeout', { perTry: '10s' }], ['with no timeouts', {}]] as const) {
    it(`a body ${label}, cut by close(), fails with ERR_CLIENT_CLOSED, not ECONNRESET`, async () => {
      const c = client('orders').endpoints([upstream.address]).retry(false).timeout(timeout).build();
      const api = meshkitGot(c);
      const body = api.get('slow').text();
      const stream = api.stream('slow');
      const streamed = new Promise<unknown>((resolve) => {
        stream.on('error', resolve);
        stream.resume();
      });
      while (open.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
      await c.close({ timeout: '1s' });
      for (const failed of [await body.then(() => assert.fail('resolved'), (error: unknown) => error), await streamed]) {
        assert.ok(failed instanceof RequestError, `a got RequestError, got ${String(failed)}`);
        assert.equal(failed.code, 'ERR_CLIENT_CLOSED');
        assert.ok(isMeshkitError(failed.cause, 'ERR_CLIENT_CLOSED'));
      }
    });
  }

  it('a body that finishes within close()\'s bound is read whole, as the client\'s own are; close() returns once it has', async () => {
    const c = client('orders').endpoints([upstream.address]).retry(false).build();
    const api = meshkitGot(c);
    const body = api.get('slow').text();
    while (open.length < 1) await new Promise((resolve) => setTimeout(resolve, 5));
    const closed = c.close({ timeout: '5s' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    open[0]?.end('rest');
    assert.equal(await body, 'first;rest');
    const started = performance.now();
    await closed;
    assert.ok(performance.now() - started < 2000, 'close() returned once the body was done, well within its bound');
  });
});
