import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RequestError } from 'got';
import { circuitBreaker, client, isMeshkitError } from '../../src/index.js';
import { meshkitGot } from '../../src/got/index.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

/**
 * Issue 11, finding 2, through got: a request got refuses locally (a header
 * value outside Latin-1 gives ERR_INVALID_CHAR) sends 0 bytes, so it is the
 * caller's doing: it reaches the caller as ERR_INVALID_ARGUMENT and moves no
 * breaker, ejection or latency estimate.
 */
describe('meshkit/got: a request refused locally is the caller\'s doing', () => {
  let upstream: Upstream;
  before(async () => {
    upstream = await startUpstream();
  });
  after(() => upstream.close());

  it('a header value got refuses: ERR_INVALID_ARGUMENT as the cause of got\'s RequestError, 0 bytes sent, nothing moved', async () => {
    const breaker = circuitBreaker({ volumeThreshold: 1, errorThreshold: 0, resetTimeout: '1h' });
    await using c = client('orders').endpoints([upstream.address]).retry(false)
      .outlierDetection({ consecutiveGatewayFailures: 1, maxEjectionPercent: 100 })
      .endpointCircuitBreakers({ volumeThreshold: 1, errorThreshold: 0, resetTimeout: '1h' })
      .policy(breaker).build();
    const api = meshkitGot(c);
    await api.get('v1/warm').text();
    const latencyBefore = c.snapshot().endpoints[0]?.latencyMs ?? 0;
    const seen = upstream.requests.length;
    const error = await api.get('v1/x', { headers: { 'x-name': 'Zo\u00eb \u2603' } }).text().then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof RequestError, String(error));
    assert.ok(isMeshkitError(error.cause, 'ERR_INVALID_ARGUMENT'), `cause: ${String(error.cause)}`);
    assert.equal(error.cause.blame, 'caller');
    assert.equal(upstream.requests.length, seen, 'nothing reached the server');
    assert.equal(breaker.stats().failures, 0);
    assert.equal(breaker.state, 'closed');
    const endpoint = c.snapshot().endpoints[0];
    assert.equal(endpoint?.ejected, false);
    assert.equal(endpoint?.circuit, 'closed');
    assert.ok((endpoint?.latencyMs ?? 0) <= latencyBefore + 1, 'the latency estimate did not grow');
    assert.equal(await api.get('v1/after').text(), `ok ${upstream.port}`, 'later requests go through');
  });
});
