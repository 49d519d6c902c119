/**
 * Identity telemetry: expiry, staleness and handshake metrics of an identity
 * (real mTLS handshakes on 127.0.0.1), and `peer.service` on the server span
 * an HTTP instrumentation made for the request.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { context, trace } from '@opentelemetry/api';
import { client, fileIdentity, type Identity } from '../../src/index.js';
import { identityServerOptions } from '../../src/server/index.js';
import { authorizingListener } from '../../src/express/mtls.js';
import { IDENTITY_METRIC, identityMetrics } from '../../src/otel/index.js';
import { loadSpanApi } from '../../src/security/span-peer.js';
import { createCertificateAuthority } from '../helpers/tls.js';
import { startSdk } from './support.js';

const spiffe = (service: string): string => `spiffe://bbbb.consul/ns/default/dc/dc1/svc/${service}`;

describe('identity telemetry', () => {
  const ca = createCertificateAuthority('telemetry CA');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meshkit-identity-metrics-'));
  const closers: (() => unknown)[] = [];
  after(async () => {
    for (const close of closers.reverse()) await close();
    rmSync(dir, { recursive: true, force: true });
  });

  const identityOf = (service: string): Identity => {
    const leaf = ca.issue({ commonName: service, altNames: [spiffe(service)], usage: 'both' });
    const files = { cert: path.join(dir, `${service}.crt`), key: path.join(dir, `${service}.key`), ca: path.join(dir, 'ca.pem') };
    writeFileSync(files.cert, leaf.cert);
    writeFileSync(files.key, leaf.key);
    writeFileSync(files.ca, ca.cert);
    const identity = fileIdentity(files);
    closers.push(() => identity.close());
    return identity;
  };

  it('reports expiry seconds, staleness and handshakes by result, and sets peer.service on the server span', async () => {
    const sdk = startSdk();
    closers.push(() => sdk.shutdown());
    trace.setGlobalTracerProvider(sdk.tracerProvider);
    closers.push(() => trace.disable());
    await loadSpanApi();
    const orders = identityOf('orders');
    const web = identityOf('web');
    const billing = identityOf('billing');
    const tracer = sdk.tracerProvider.getTracer('test-instrumentation');
    const app = (req: http.IncomingMessage, res: http.ServerResponse): void => {
      res.end(req.meshkit?.peer);
    };
    const server = https.createServer(await identityServerOptions(orders), (req, res) => {
      // What an HTTP instrumentation does: a server span, active while the request is handled.
      const span = tracer.startSpan('GET /');
      res.on('finish', () => span.end());
      context.with(trace.setSpan(context.active(), span), () => authorizingListener(app, undefined)(req, res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(resolve);
    }));
    const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    await web.ready();
    const stop = identityMetrics(web, { meterProvider: sdk.meterProvider });
    closers.push(stop);

    const good = client('orders').endpoints([address]).identity(web).build();
    closers.push(() => good.close());
    assert.equal(await (await good.request({ path: '/' })).body.text(), 'web');
    // web calling a server that is not `billing` (it is orders): a failed handshake counted for web.
    const wrong = client('billing').endpoints([address]).identity(web).retry(false).build();
    closers.push(() => wrong.close());
    await assert.rejects(wrong.request({ path: '/' }));
    void billing;

    const metrics = await sdk.reader.metrics();
    const find = (name: string) => metrics.find((metric) => metric.descriptor.name === name);
    const expiry = find(IDENTITY_METRIC.expiry)?.dataPoints[0];
    assert.ok(expiry !== undefined);
    assert.equal(expiry.attributes['meshkit.identity.spiffe_id'], spiffe('web'));
    // The test CA issues for a day.
    assert.ok((expiry.value as number) > 3600 && (expiry.value as number) <= 86_400, `expiry ${String(expiry.value)}`);
    assert.equal(find(IDENTITY_METRIC.stale)?.dataPoints[0]?.value, 0);
    const handshakes = find(IDENTITY_METRIC.handshakes)?.dataPoints ?? [];
    const count = (result: string): unknown => handshakes.find((point) => point.attributes['meshkit.handshake.result'] === result)?.value;
    assert.equal(count('ok'), 1);
    assert.equal(count('failed'), 1);

    const spans = sdk.spans().filter((span) => span.name === 'GET /');
    assert.equal(spans.length, 1);
    assert.equal(spans[0]?.attributes['peer.service'], 'web');
  });
});
