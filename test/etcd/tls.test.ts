// meshkit/etcd against a real etcd that serves clients over TLS only, and one that also
// requires client certificates (--client-cert-auth): configured by etcdctl's variables
// (ETCDCTL_ENDPOINTS, ETCDCTL_CACERT, ETCDCTL_CERT, ETCDCTL_KEY) or by the credentials option.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { etcd, type EtcdOptions } from '../../src/etcd/index.js';
import { resolveEtcdOptions } from '../../src/etcd/options.js';
import { client, isMeshkitError, register } from '../../src/index.js';
import type { EtcdServer } from '../helpers/etcd-server.js';
import { createCertificateAuthority } from '../helpers/tls.js';
import { clientSocketsTo } from '../helpers/resources.js';
import { startUpstreams, type Upstream } from '../helpers/upstream.js';
import { etcdFixture, uniqueService, value, waitFor } from './fixture.js';

const FAST = { backoff: { base: 50, cap: 200 }, requestTimeout: '2s' } as const;

/** PEM files on disk, as etcdctl's variables name them. */
function pemFiles(): { write(name: string, text: string): string; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'meshkit-etcd-tls-test-'));
  return {
    write(name, text) {
      const file = path.join(dir, name);
      writeFileSync(file, text);
      return file;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** `127.0.0.1:<port>`: the host:port form of etcdctl's endpoints, no scheme. */
const hostPort = (server: EtcdServer): string => `127.0.0.1:${server.clientPort}`;

/**
 * Builds a client on `options`, waits for its one endpoint, and makes a call through it. With
 * `etcdPort`, also checks the watch holds a socket to etcd while the client is open (so a later
 * "no socket left" check is not vacuous).
 */
async function discoversAndCalls(service: string, options: EtcdOptions, upstream: Upstream, etcdPort?: number): Promise<void> {
  await using orders = client(service).discovery(etcd(options)).build();
  await waitFor('the set over TLS', () => orders.endpoints().endpoints.length === 1 || orders.endpoints().lastError !== undefined, 10_000);
  assert.equal(orders.endpoints().lastError, undefined, `no discovery error: ${orders.endpoints().lastError?.message}`);
  assert.equal(orders.endpoints().endpoints[0]?.port, upstream.port);
  const res = await orders.request({ path: '/' });
  assert.equal(res.statusCode, 200);
  await res.body.dump();
  if (etcdPort !== undefined) assert.ok(clientSocketsTo(new Set([etcdPort])).length > 0, 'the watch holds a connection to etcd');
}

/**
 * Builds a client on `options` and waits for its discovery error; returns the error and how long it
 * took. The client never gets an endpoint meanwhile.
 */
async function refused(service: string, options: EtcdOptions): Promise<{ message: string; ms: number }> {
  const start = performance.now();
  await using orders = client(service).discovery(etcd(options)).build();
  await waitFor('the refusal', () => orders.endpoints().lastError !== undefined, 15_000);
  const ms = performance.now() - start;
  assert.deepEqual(orders.endpoints().endpoints, [], 'no endpoints without a verified connection');
  return { message: orders.endpoints().lastError?.message ?? '', ms };
}

describe('etcd serving clients over TLS (real etcd, --cert-file/--key-file)', () => {
  const ca = createCertificateAuthority('meshkit etcd test CA');
  const stranger = createCertificateAuthority('a CA etcd never heard of');
  const fixture = etcdFixture({ tls: { ca } });
  const files = pemFiles();
  const caFile = files.write('ca.pem', ca.cert);
  const strangerCaFile = files.write('stranger-ca.pem', stranger.cert);
  let upstream: Upstream | undefined;
  let service = '';
  before(async () => {
    await fixture.before();
    [upstream] = await startUpstreams([{}]);
  });
  after(async () => {
    await upstream?.close();
    await fixture.after();
    files.remove();
  });

  /** The server and upstream, with one instance of a fresh service written over TLS. */
  async function setUp(t: TestContext): Promise<{ server: EtcdServer; upstream: Upstream } | undefined> {
    const server = fixture.need(t);
    if (server === undefined || upstream === undefined) return undefined;
    service = uniqueService('tls');
    await fixture.kv().put(`/meshkit/services/${service}/a`).value(value(upstream.port));
    return { server, upstream };
  }

  it('ETCDCTL_ENDPOINTS as host:port plus ETCDCTL_CACERT: the endpoint becomes https and the service is found', async (t) => {
    const ready = await setUp(t);
    if (ready === undefined) return;
    const env = { ETCDCTL_ENDPOINTS: hostPort(ready.server), ETCDCTL_CACERT: caFile };
    assert.deepEqual(resolveEtcdOptions({ service, env }).hosts, [ready.server.url], 'host:port took https from the CA variable');
    await discoversAndCalls(service, { service, env, ...FAST }, ready.upstream);
  });

  it('the same variables read from process.env (the default env) find the service', async (t) => {
    const ready = await setUp(t);
    if (ready === undefined) return;
    const saved = { ETCDCTL_ENDPOINTS: process.env['ETCDCTL_ENDPOINTS'], ETCDCTL_CACERT: process.env['ETCDCTL_CACERT'] };
    t.after(() => {
      for (const [key, was] of Object.entries(saved)) {
        if (was === undefined) delete process.env[key];
        else process.env[key] = was;
      }
    });
    process.env['ETCDCTL_ENDPOINTS'] = hostPort(ready.server);
    process.env['ETCDCTL_CACERT'] = caFile;
    await discoversAndCalls(service, { service, ...FAST }, ready.upstream);
  });

  it('the explicit credentials option with an https:// URL finds the service and registers over TLS', async (t) => {
    const ready = await setUp(t);
    if (ready === undefined) return;
    const options = { service, hosts: ready.server.url, credentials: { rootCertificate: Buffer.from(ca.cert) }, env: {}, ...FAST };
    await discoversAndCalls(service, options, ready.upstream);
    // Registration goes over the same TLS connection settings.
    const [second] = await startUpstreams([{}]);
    if (second === undefined) throw new Error('no second upstream');
    t.after(() => second.close());
    const registration = await register(etcd(options), { service, address: '127.0.0.1', port: second.port }, { signals: [] });
    await using orders = client(service).discovery(etcd(options)).build();
    await waitFor('both instances', () => orders.endpoints().endpoints.length === 2, 10_000);
    await registration.deregister();
    await waitFor('the registered instance gone after deregister', () => orders.endpoints().endpoints.length === 1, 10_000);
    assert.equal(orders.endpoints().endpoints[0]?.port, ready.upstream.port);
  });

  it('the same host:port without TLS variables is plain http, which the TLS port does not answer', async (t) => {
    const ready = await setUp(t);
    if (ready === undefined) return;
    const env = { ETCDCTL_ENDPOINTS: hostPort(ready.server) };
    assert.deepEqual(resolveEtcdOptions({ service, env }).hosts, [`http://${hostPort(ready.server)}`]);
    const { message } = await refused(service, { service, env, ...FAST });
    t.diagnostic(`plain gRPC to the TLS port: ${message}`);
  });

  it('an http:// URL with TLS credentials is ERR_INVALID_CONFIG naming it, not dialled over TLS behind the URL\'s back', async (t) => {
    const ready = await setUp(t);
    if (ready === undefined) return;
    // etcd3 dials every host with the one set of credentials: an http:// URL would silently get TLS.
    const plainUrl = `http://${hostPort(ready.server)}`;
    const credentials = { rootCertificate: Buffer.from(ca.cert) };
    assert.throws(() => etcd({ service, hosts: [ready.server.url, plainUrl], credentials, env: {} }), (error: unknown) =>
      isMeshkitError(error, 'ERR_INVALID_CONFIG') && error.details['option'] === 'etcd.hosts[1]' && error.message.includes('https://'));
    assert.throws(() => etcd({ service, env: { ETCDCTL_ENDPOINTS: plainUrl, ETCDCTL_CACERT: caFile } }), (error: unknown) =>
      isMeshkitError(error, 'ERR_INVALID_CONFIG') && String(error.details['option']).startsWith('ETCDCTL_ENDPOINTS') && error.message.includes('ETCDCTL_ENDPOINTS'));
    // The default endpoint takes the scheme of the credentials like a host:port does.
    assert.deepEqual(resolveEtcdOptions({ service, env: { ETCDCTL_CACERT: caFile } }).hosts, ['https://127.0.0.1:2379']);
    assert.deepEqual(resolveEtcdOptions({ service, env: {} }).hosts, ['http://127.0.0.1:2379']);
  });

  it('a CA that did not sign the server certificate is refused at once with a certificate error, not a hang', async (t) => {
    const ready = await setUp(t);
    if (ready === undefined) return;
    // A long request deadline: the refusal must come from the handshake, not from a call timing out.
    const { message, ms } = await refused(service, {
      service, env: { ETCDCTL_ENDPOINTS: hostPort(ready.server), ETCDCTL_CACERT: strangerCaFile }, ...FAST, requestTimeout: '30s',
    });
    t.diagnostic(`wrong CA after ${Math.round(ms)} ms: ${message}`);
    assert.match(message, /certificate|self.signed|verify/i);
    assert.ok(ms < 10_000, `refused in ${Math.round(ms)} ms, well before the 30 s request deadline`);
  });
});

describe('etcd requiring client certificates (real etcd, --client-cert-auth --trusted-ca-file)', () => {
  const ca = createCertificateAuthority('meshkit etcd mTLS test CA');
  const stranger = createCertificateAuthority('a CA etcd does not trust');
  const fixture = etcdFixture({ tls: { ca, clientCertAuth: true } });
  const files = pemFiles();
  const mine = ca.issue({ commonName: 'orders caller', usage: 'client' });
  const theirs = stranger.issue({ commonName: 'an impostor', usage: 'client' });
  const caFile = files.write('ca.pem', ca.cert);
  const certFile = files.write('client.pem', mine.cert);
  const keyFile = files.write('client-key.pem', mine.key);
  const strangerCertFile = files.write('stranger-client.pem', theirs.cert);
  const strangerKeyFile = files.write('stranger-client-key.pem', theirs.key);
  let upstream: Upstream | undefined;
  before(async () => {
    await fixture.before();
    [upstream] = await startUpstreams([{}]);
  });
  after(async () => {
    await upstream?.close();
    await fixture.after();
    files.remove();
  });

  /** A fresh service with one instance, written by a client that closes at once (so socket checks see only the test's own). */
  async function setUp(t: TestContext): Promise<{ server: EtcdServer; upstream: Upstream; service: string } | undefined> {
    const server = fixture.need(t);
    if (server === undefined || upstream === undefined) return undefined;
    const service = uniqueService('mtls');
    const writer = fixture.kv();
    try {
      await writer.put(`/meshkit/services/${service}/a`).value(value(upstream.port));
    } finally {
      writer.close();
    }
    return { server, upstream, service };
  }

  it('ETCDCTL_ENDPOINTS (host:port) + ETCDCTL_CACERT + ETCDCTL_CERT + ETCDCTL_KEY find the service; nothing stays open after close', async (t) => {
    const ready = await setUp(t);
    if (ready === undefined) return;
    const { server, service } = ready;
    const env = { ETCDCTL_ENDPOINTS: hostPort(server), ETCDCTL_CACERT: caFile, ETCDCTL_CERT: certFile, ETCDCTL_KEY: keyFile };
    assert.deepEqual(resolveEtcdOptions({ service, env }).hosts, [server.url]);
    await discoversAndCalls(service, { service, env, ...FAST }, ready.upstream, server.clientPort);
    await waitFor('no socket left to etcd', () => clientSocketsTo(new Set([server.clientPort])).length === 0, 3000);
  });

  it('the credentials option with the client certificate finds the service', async (t) => {
    const ready = await setUp(t);
    if (ready === undefined) return;
    const credentials = { rootCertificate: Buffer.from(ca.cert), certChain: Buffer.from(mine.cert), privateKey: Buffer.from(mine.key) };
    await discoversAndCalls(ready.service, { service: ready.service, hosts: ready.server.url, credentials, env: {}, ...FAST }, ready.upstream);
  });

  it('without a client certificate (ETCDCTL_CACERT alone) etcd refuses the connection, quickly and without leaks', async (t) => {
    const ready = await setUp(t);
    if (ready === undefined) return;
    const { message, ms } = await refused(ready.service, {
      service: ready.service, env: { ETCDCTL_ENDPOINTS: hostPort(ready.server), ETCDCTL_CACERT: caFile }, ...FAST, requestTimeout: '30s',
    });
    t.diagnostic(`no client certificate, after ${Math.round(ms)} ms: ${message}`);
    assert.match(message, /certificate/i, 'the handshake failure names the certificate');
    assert.ok(ms < 10_000, `refused in ${Math.round(ms)} ms, well before the 30 s request deadline`);
    await waitFor('no socket left to etcd', () => clientSocketsTo(new Set([ready.server.clientPort])).length === 0, 3000);
  });

  it('a client certificate from a CA etcd does not trust is refused', async (t) => {
    const ready = await setUp(t);
    if (ready === undefined) return;
    const { message, ms } = await refused(ready.service, {
      service: ready.service,
      env: { ETCDCTL_ENDPOINTS: hostPort(ready.server), ETCDCTL_CACERT: caFile, ETCDCTL_CERT: strangerCertFile, ETCDCTL_KEY: strangerKeyFile },
      ...FAST, requestTimeout: '30s',
    });
    t.diagnostic(`untrusted client certificate, after ${Math.round(ms)} ms: ${message}`);
    assert.match(message, /certificate/i, 'the handshake failure names the certificate');
    assert.ok(ms < 10_000, `refused in ${Math.round(ms)} ms, well before the 30 s request deadline`);
  });
});
