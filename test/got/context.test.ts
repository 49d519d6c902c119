import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HTTPError, RequestError } from 'got';
import { client, isMeshkitError, type Client } from '../../src/index.js';
import { meshkitGot } from '../../src/got/index.js';
import { startUpstreams, type Upstream } from '../helpers/upstream.js';

describe('meshkit/got context.meshkit is checked like per-call options', () => {
  let upstreams: Upstream[];
  let orders: Client;
  let api: ReturnType<typeof meshkitGot>;

  before(async () => {
    upstreams = await startUpstreams([{ status: 503 }, { status: 503 }]);
    orders = client('orders').endpoints(upstreams.map((u) => u.address)).retry({ attempts: 2, backoff: { base: '1ms', cap: '2ms' }, budget: false }).build();
    api = meshkitGot(orders);
  });
  after(async () => {
    await orders.close();
    await Promise.all(upstreams.map((u) => u.close()));
  });

  const sent = (): number => upstreams.reduce((n, u) => n + u.requests.length, 0);

  for (const [label, meshkit, argument] of [
    ['an unknown key (a typo)', { idempotant: true }, 'context.meshkit.idempotant'],
    ['a non-boolean idempotent', { idempotent: 'yes' }, 'context.meshkit.idempotent'],
    ['a non-string key', { key: 42 }, 'context.meshkit.key'],
    ['a non-string subset', { subset: {} }, 'context.meshkit.subset'],
    ['a context that is not an object', 'fast', 'context.meshkit'],
  ] as const) {
    it(`refuses ${label}: ERR_INVALID_ARGUMENT naming ${argument}, nothing sent`, async () => {
      const before = sent();
      await assert.rejects(api.post('v1/orders', { json: { a: 1 }, context: { meshkit } }), (error: unknown) => {
        assert.ok(error instanceof RequestError);
        assert.equal(error.code, 'ERR_INVALID_ARGUMENT');
        assert.ok(isMeshkitError(error.cause, 'ERR_INVALID_ARGUMENT'));
        assert.equal(error.cause.details['argument'], argument);
        return true;
      });
      assert.equal(sent(), before);
    });
  }

  it('the typo hint names the known key', async () => {
    await assert.rejects(api.get('v1/x', { context: { meshkit: { idempotant: true } } }), /did you mean `idempotent`/);
  });

  it('a valid context still applies: idempotent: true retries a POST on 503', async () => {
    const before = sent();
    await assert.rejects(api.post('v1/orders', { json: { a: 1 }, context: { meshkit: { idempotent: true, key: 'k', subset: undefined } } }), HTTPError);
    assert.equal(sent() - before, 2);
  });
});
