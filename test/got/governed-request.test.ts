import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, afterEach, before, describe, it } from 'node:test';
import { RequestError } from 'got';
import { client, isMeshkitError, type Client, type MeshkitErrorCode } from '../../src/index.js';
import { meshkitGot } from '../../src/got/index.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

function refusedWith(code: MeshkitErrorCode): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof RequestError, `a got RequestError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.ok(isMeshkitError(error.cause, code));
    return true;
  };
}

describe('meshkit/got governed requests', () => {
  let upstream: Upstream;
  let orders: Client;
  let api: ReturnType<typeof meshkitGot>;

  before(async () => {
    upstream = await startUpstream();
    orders = client('orders').endpoints([upstream.address]).retry(false).build();
    api = meshkitGot(orders);
  });
  afterEach(() => {
    upstream.handler = undefined;
    upstream.requests.length = 0;
  });
  after(async () => {
    await orders.close();
    await upstream.close();
  });

  describe('redirects', () => {
    const redirectTo = (location: string): void => {
      upstream.handler = (req, res) => {
        if (req.url === '/start') res.writeHead(302, { location }).end();
        else res.end(`service answered ${req.url ?? ''}`);
      };
    };

    it('refuses a redirect to another origin with ERR_REDIRECT: the service is not asked in its name', async () => {
      redirectTo('http://files.other.example/report.pdf');
      await assert.rejects(api.get('start').text(), refusedWith('ERR_REDIRECT'));
      assert.deepEqual(upstream.requests.map((r) => r.url), ['/start']);
    });

    it('refuses a redirect to another scheme or port of the same host', async () => {
      redirectTo('http://orders:8443/x');
      await assert.rejects(api.get('start').text(), refusedWith('ERR_REDIRECT'));
      assert.deepEqual(upstream.requests.map((r) => r.url), ['/start']);
    });

    it('follows a redirect within the service', async () => {
      redirectTo('/moved?a=1');
      const response = await api.get('start');
      assert.equal(response.body, 'service answered /moved?a=1');
      assert.equal(response.url, 'http://orders/moved?a=1');
      redirectTo('http://orders/abs');
      assert.equal(await api.get('start').text(), 'service answered /abs');
    });
  });

  describe('stream mode uploads', () => {
    for (const method of ['post', 'put', 'patch'] as const) {
      it(`refuses writing into api.stream.${method}(): ERR_INVALID_ARGUMENT, nothing sent`, async () => {
        let answer = '';
        const sink = new Writable({ write(chunk, _encoding, callback) { answer += String(chunk); callback(); } });
        await assert.rejects(pipeline(Readable.from(['important payload']), api.stream[method]('upload'), sink), (error: unknown) => {
          refusedWith('ERR_INVALID_ARGUMENT')(error);
          assert.match((error as Error).message, /`body`, `json` or `form` option/);
          return true;
        });
        assert.equal(answer, '');
        assert.deepEqual(upstream.requests, []);
      });
    }

    it('sends a body given as an option, and streams a GET as before', async () => {
      upstream.handler = (req, res, body) => res.end(`${req.method ?? ''} ${body}`);
      const chunks: Buffer[] = [];
      for await (const chunk of api.stream.post('upload', { body: 'payload' })) chunks.push(chunk as Buffer);
      assert.equal(Buffer.concat(chunks).toString(), 'POST payload');
      chunks.length = 0;
      for await (const chunk of api.stream('download')) chunks.push(chunk as Buffer);
      assert.equal(Buffer.concat(chunks).toString(), 'GET ');
    });
  });
});
