// meshkit/etcd reads etcdctl's environment variables when options are absent:
// ETCDCTL_ENDPOINTS (URLs or host:port), ETCDCTL_CACERT/CERT/KEY, ETCDCTL_USER/PASSWORD.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Etcd3 } from 'etcd3';
import { etcd } from '../../src/etcd/index.js';
import { resolveEtcdOptions } from '../../src/etcd/options.js';
import { client, isMeshkitError } from '../../src/index.js';
import { closedPort, startUpstreams, type Upstream } from '../helpers/upstream.js';
import { createTestPki } from '../helpers/tls.js';
import { etcdFixture, uniqueService, value, waitFor } from './fixture.js';

const names = (variable: string) => (error: unknown): boolean =>
  isMeshkitError(error, 'ERR_INVALID_CONFIG') && String(error.details['option']).startsWith(variable) && error.message.includes(variable);

describe('etcd() environment variables, read like etcdctl', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'meshkit-etcd-env-'));
  const pki = createTestPki();
  const file = (name: string, text: string): string => {
    const full = path.join(dir, name);
    writeFileSync(full, text);
    return full;
  };
  const caFile = file('ca.pem', pki.ca.cert);
  const certFile = file('client.pem', pki.client.cert);
  const keyFile = file('client-key.pem', pki.client.key);
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('options win; the variables fill in what is absent; host:port takes the scheme of the credentials', () => {
    const plain = resolveEtcdOptions({ service: 's', env: { ETCDCTL_ENDPOINTS: '10.0.0.1:2379, http://10.0.0.2:2379/' } });
    assert.deepEqual(plain.hosts, ['http://10.0.0.1:2379', 'http://10.0.0.2:2379']);
    assert.equal(plain.credentials, undefined);
    const tls = resolveEtcdOptions({
      service: 's',
      env: { ETCDCTL_ENDPOINTS: '10.0.0.1:2379', ETCDCTL_CACERT: caFile, ETCDCTL_CERT: certFile, ETCDCTL_KEY: keyFile, ETCDCTL_USER: 'root:pw:with:colons' },
    });
    assert.deepEqual(tls.hosts, ['https://10.0.0.1:2379']);
    assert.equal(tls.credentials?.rootCertificate.toString(), pki.ca.cert);
    assert.equal(tls.credentials?.certChain?.toString(), pki.client.cert);
    assert.equal(tls.credentials?.privateKey?.toString(), pki.client.key);
    assert.deepEqual(tls.auth, { username: 'root', password: 'pw:with:colons' });
    assert.deepEqual(resolveEtcdOptions({ service: 's', env: { ETCDCTL_USER: 'app', ETCDCTL_PASSWORD: 'secret' } }).auth, { username: 'app', password: 'secret' });
    // Each option replaces its variables as a whole.
    const given = resolveEtcdOptions({
      service: 's', hosts: '127.0.0.1:2379', auth: { username: 'me', password: 'mine' },
      env: { ETCDCTL_ENDPOINTS: '10.0.0.1:2379', ETCDCTL_USER: 'root:pw', ETCDCTL_CACERT: caFile },
    });
    assert.deepEqual(given.hosts, ['https://127.0.0.1:2379'], 'the CA from the environment still makes host:port https');
    assert.deepEqual(given.auth, { username: 'me', password: 'mine' });
    const ownCredentials = resolveEtcdOptions({ service: 's', credentials: { rootCertificate: Buffer.from('mine') }, env: { ETCDCTL_CACERT: caFile } });
    assert.equal(ownCredentials.credentials?.rootCertificate.toString(), 'mine');
    assert.deepEqual(resolveEtcdOptions({ service: 's', env: {} }).hosts, ['http://127.0.0.1:2379']);

    assert.throws(() => resolveEtcdOptions({ service: 's', env: { ETCDCTL_ENDPOINTS: 'localhost' } }), names('ETCDCTL_ENDPOINTS'));
    assert.throws(() => resolveEtcdOptions({ service: 's', env: { ETCDCTL_ENDPOINTS: '10.0.0.1:2379,,' } }), names('ETCDCTL_ENDPOINTS'));
    assert.throws(() => resolveEtcdOptions({ service: 's', env: { ETCDCTL_CACERT: path.join(dir, 'missing.pem') } }), names('ETCDCTL_CACERT'));
    assert.throws(() => resolveEtcdOptions({ service: 's', env: { ETCDCTL_CACERT: caFile, ETCDCTL_CERT: certFile } }), names('ETCDCTL_KEY'));
    assert.throws(() => resolveEtcdOptions({ service: 's', env: { ETCDCTL_CERT: certFile, ETCDCTL_KEY: keyFile } }), names('ETCDCTL_CACERT'));
    assert.throws(() => resolveEtcdOptions({ service: 's', env: { ETCDCTL_USER: 'root' } }), names('ETCDCTL_PASSWORD'));
    assert.throws(() => resolveEtcdOptions({ service: 's', env: { ETCDCTL_USER: ':pw' } }), (error: unknown) =>
      names('ETCDCTL_USER')(error) && !(error as Error).message.includes('pw'));
  });

  describe('against a real etcd with authentication on', () => {
    const fixture = etcdFixture();
    let upstream: Upstream | undefined;
    before(async () => {
      await fixture.before();
      [upstream] = await startUpstreams([{}]);
    });
    after(async () => {
      await upstream?.close();
      await fixture.after();
    });

    it('ETCDCTL_ENDPOINTS (host:port, a dead one first) and ETCDCTL_USER from process.env find the service', async (t) => {
      const server = fixture.need(t);
      if (server === undefined || upstream === undefined) return;
      const service = uniqueService('env');
      const admin = new Etcd3({ hosts: server.url });
      try {
        await admin.put(`/meshkit/services/${service}/a`).value(value(upstream.port));
        await admin.role('root').create();
        await admin.user('root').create('env-root-password');
        await admin.user('root').addRole('root');
        await admin.auth.authEnable();
      } finally {
        admin.close();
      }
      const saved = { ETCDCTL_ENDPOINTS: process.env['ETCDCTL_ENDPOINTS'], ETCDCTL_USER: process.env['ETCDCTL_USER'] };
      t.after(() => {
        for (const [key, was] of Object.entries(saved)) {
          if (was === undefined) delete process.env[key];
          else process.env[key] = was;
        }
      });
      process.env['ETCDCTL_ENDPOINTS'] = `127.0.0.1:${await closedPort()},127.0.0.1:${server.clientPort}`;
      process.env['ETCDCTL_USER'] = 'root:env-root-password';
      await using orders = client(service).discovery(etcd({ service, backoff: { base: 50, cap: 200 }, requestTimeout: '2s' })).build();
      await waitFor('the set through the variables', () => orders.endpoints().endpoints.length === 1, 10_000);
      assert.equal(orders.endpoints().endpoints[0]?.port, upstream.port);
      const res = await orders.request({ path: '/' });
      assert.equal(res.statusCode, 200);
      await res.body.dump();
      // The variables are read when the provider is made: an option-less provider made without them gets nothing.
      await using anonymous = client(service).discovery(etcd({ service, hosts: server.url, env: {}, backoff: { base: 50, cap: 200 } })).build();
      await waitFor('no credentials is refused', () => anonymous.endpoints().lastError !== undefined, 5000);
      assert.deepEqual(anonymous.endpoints().endpoints, []);
    });
  });
});
