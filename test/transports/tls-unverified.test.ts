import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { client, TLS_UNVERIFIED_WARNING, undiciTransport } from '../../src/index.js';
import { meshkitGot } from '../../src/got/index.js';
import { createTestPki, startHttpsUpstream } from '../helpers/tls.js';

// The warning is once per process: this file runs in its own process, and nothing before this test turns verification off.
describe('rejectUnauthorized: false', () => {
  it('turns verification off (an unknown CA is accepted) and says so with one process warning', async (t) => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning);
    };
    process.on('warning', onWarning);
    t.after(() => process.off('warning', onWarning));
    const unverified = (): Error[] => warnings.filter((w) => (w as { code?: string }).code === TLS_UNVERIFIED_WARNING);
    const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick

    const pki = createTestPki();
    const upstream = await startHttpsUpstream({ server: pki.server });
    t.after(() => upstream.close());

    undiciTransport({ protocol: 'https', tls: { ca: pki.ca.cert } });
    undiciTransport({ protocol: 'https', tls: { rejectUnauthorized: true } });
    await settle();
    assert.deepEqual(unverified(), [], 'verified settings warn nothing');

    // No CA given, so the test CA is unknown: only an unverified connection gets through.
    const insecure = undiciTransport({ protocol: 'https', tls: { rejectUnauthorized: false } });
    await settle();
    assert.equal(unverified().length, 1);
    assert.match(unverified()[0]!.message, /transport\.tls\.rejectUnauthorized is false: TLS certificates are not verified/);

    await using c = client('orders').endpoints([upstream.address]).transport(insecure)
      .healthCheck({ interval: '20ms', protocol: 'https', tls: { rejectUnauthorized: false } }).build();
    const res = await c.request({ path: '/insecure' });
    assert.equal(res.statusCode, 200);
    await res.body.dump();
    assert.equal(await meshkitGot(c).get('via-got').text(), `ok ${upstream.port}`);
    undiciTransport({ protocol: 'https', tls: { rejectUnauthorized: false } });
    await settle();
    assert.equal(unverified().length, 1, 'once per process, however many transports, health checks and adapters turn it off');
  });
});
