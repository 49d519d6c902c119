// meshkit/consul reads the consul CLI's environment variables when options are absent:
// CONSUL_HTTP_ADDR (URL or host:port), CONSUL_HTTP_TOKEN, CONSUL_CACERT, CONSUL_CLIENT_CERT/KEY.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { consul } from '../../src/consul/index.js';
import { resolveConsulOptions } from '../../src/consul/options.js';
import { client, isMeshkitError, type Client } from '../../src/index.js';
import { createConsulCerts, useConsul, type ConsulCerts } from '../helpers/consul-server.js';
import { startUpstreams, type Upstream } from '../helpers/upstream.js';
import { testAgent, uniqueName, within, type TestAgent } from './support.js';

const MASTER = 'meshkit-env-master-token';
const ports = (c: Client): number[] => c.endpoints().endpoints.map((e) => e.port).sort();
const names = (variable: string) => (error: unknown): boolean =>
  isMeshkitError(error, 'ERR_INVALID_CONFIG') && error.details['option'] === variable && error.message.includes(variable);

describe('consul() environment variables, read like the consul CLI', () => {
  it('options win; the variables fill in what is absent; malformed values name the variable', () => {
    const env = { CONSUL_HTTP_ADDR: '10.0.0.1:8500', CONSUL_HTTP_TOKEN: 'from-env' };
    const fromEnv = resolveConsulOptions({ service: 's', env });
    assert.equal(fromEnv.url.href, 'http://10.0.0.1:8500/');
    assert.equal(fromEnv.token, 'from-env');
    const given = resolveConsulOptions({ service: 's', env, address: 'http://127.0.0.1:8500', token: 'mine' });
    assert.equal(given.url.href, 'http://127.0.0.1:8500/');
    assert.equal(given.token, 'mine');
    assert.equal(resolveConsulOptions({ service: 's', env: { CONSUL_HTTP_ADDR: '10.0.0.1:8501', CONSUL_HTTP_SSL: 'true' } }).url.href, 'https://10.0.0.1:8501/');
    assert.equal(resolveConsulOptions({ service: 's', env: { CONSUL_HTTP_ADDR: 'https://consul.local:8501' } }).url.href, 'https://consul.local:8501/');
    // host:port is an address the option takes too (plain HTTP).
    assert.equal(resolveConsulOptions({ service: 's', env: {}, address: '[::1]:8500' }).url.href, 'http://[::1]:8500/');
    // `env: {}` ignores the process environment; an empty variable is unset.
    assert.equal(resolveConsulOptions({ service: 's', env: { CONSUL_HTTP_ADDR: '' } }).url.href, 'http://127.0.0.1:8500/');
    // TLS variables apply to an https:// address only, and a tls option replaces them all.
    assert.equal(resolveConsulOptions({ service: 's', env: { CONSUL_HTTP_SSL_VERIFY: 'false' } }).tls, undefined);
    assert.deepEqual(resolveConsulOptions({ service: 's', env: { CONSUL_HTTP_ADDR: 'https://c:8501', CONSUL_HTTP_SSL_VERIFY: 'false', CONSUL_TLS_SERVER_NAME: 'server.dc1.consul' } }).tls,
      { rejectUnauthorized: false, servername: 'server.dc1.consul' });
    assert.deepEqual(resolveConsulOptions({ service: 's', env: { CONSUL_HTTP_SSL_VERIFY: 'false' }, address: 'https://c:8501', tls: { servername: 'x' } }).tls,
      { servername: 'x' });

    assert.throws(() => resolveConsulOptions({ service: 's', env: { CONSUL_HTTP_ADDR: 'not an address' } }), names('CONSUL_HTTP_ADDR'));
    assert.throws(() => resolveConsulOptions({ service: 's', env: { CONSUL_HTTP_ADDR: 'unix:///tmp/consul.sock' } }), names('CONSUL_HTTP_ADDR'));
    assert.throws(() => resolveConsulOptions({ service: 's', env: { CONSUL_HTTP_ADDR: '10.0.0.1:8500', CONSUL_HTTP_SSL: 'maybe' } }), names('CONSUL_HTTP_SSL'));
    const https = { CONSUL_HTTP_ADDR: 'https://c:8501' };
    assert.throws(() => resolveConsulOptions({ service: 's', env: { ...https, CONSUL_CACERT: '/nonexistent/ca.pem' } }), names('CONSUL_CACERT'));
    assert.throws(() => resolveConsulOptions({ service: 's', env: { ...https, CONSUL_CLIENT_CERT: '/etc/hostname' } }), names('CONSUL_CLIENT_KEY'));
    assert.throws(() => resolveConsulOptions({ service: 's', env: { ...https, CONSUL_HTTP_SSL_VERIFY: 'nope' } }), names('CONSUL_HTTP_SSL_VERIFY'));
    assert.throws(() => resolveConsulOptions({ service: 's', env: { CONSUL_HTTP_TOKEN_FILE: '/nonexistent/token' } }), names('CONSUL_HTTP_TOKEN_FILE'));
    assert.throws(() => resolveConsulOptions({ service: 's', env: 'CONSUL_HTTP_ADDR=x' as never }), names('consul.env'));
    // The option name is still checked like every other.
    assert.throws(() => resolveConsulOptions({ service: 's', enf: {} } as never), (error: unknown) => isMeshkitError(error, 'ERR_INVALID_CONFIG') && /did you mean `env`/.test((error as Error).message));
  });

  describe('against an agent with ACLs (default deny) and TLS on its HTTP API', () => {
    let certs: ConsulCerts | undefined;
    const registry = useConsul(async () => {
      certs = await createConsulCerts();
      return {
        token: MASTER,
        hcl: [
          'primary_datacenter = "dc1"',
          `acl {\n enabled = true\n default_policy = "deny"\n enable_token_persistence = false\n tokens {\n master = "${MASTER}"\n agent = "${MASTER}"\n }\n}`,
        ],
        https: { certs, verifyIncoming: true },
      };
    });
    let agent: TestAgent;
    let upstreams: Upstream[] = [];
    const saved = { ...process.env };
    before(async () => {
      if (registry.server !== undefined) agent = testAgent(registry.server.address, MASTER);
      upstreams = await startUpstreams([{}]);
    });
    after(async () => {
      agent?.close();
      await Promise.all(upstreams.map((u) => u.close()));
      certs?.remove();
    });
    const restoreEnv = (): void => {
      for (const key of Object.keys(process.env)) if (key.startsWith('CONSUL_')) delete process.env[key];
      for (const [key, value] of Object.entries(saved)) if (key.startsWith('CONSUL_')) process.env[key] = value;
    };

    it('CONSUL_HTTP_ADDR as host:port and CONSUL_HTTP_TOKEN from process.env find the service', async (t) => {
      const server = registry.need(t);
      if (server === undefined) return;
      const name = uniqueName('env-plain');
      await agent.register(name, 'a', upstreams[0]!.port);
      t.after(restoreEnv);
      process.env['CONSUL_HTTP_ADDR'] = `127.0.0.1:${server.httpPort}`;
      process.env['CONSUL_HTTP_TOKEN'] = MASTER;
      await using orders = client(name).discovery(consul({ service: name })).build();
      await within(5000, 'the set through the variables', () => ports(orders).length === 1);
      assert.deepEqual(ports(orders), [upstreams[0]!.port]);
      const res = await orders.request({ path: '/' });
      assert.equal(res.statusCode, 200);
      await res.body.dump();
    });

    it('an https:// CONSUL_HTTP_ADDR with CONSUL_CACERT and CONSUL_CLIENT_CERT/KEY talks TLS; a token option wins over the variable', async (t) => {
      const server = registry.need(t);
      if (server === undefined || certs === undefined || server.httpsAddress === undefined) return;
      const name = uniqueName('env-tls');
      await agent.register(name, 'a', upstreams[0]!.port);
      const env = {
        CONSUL_HTTP_ADDR: server.httpsAddress,
        CONSUL_HTTP_TOKEN: MASTER,
        CONSUL_CACERT: certs.caFile,
        CONSUL_CLIENT_CERT: certs.clientCertFile,
        CONSUL_CLIENT_KEY: certs.clientKeyFile,
      };
      await using secure = client(name).discovery(consul({ service: name, env })).build();
      await within(5000, 'the set over TLS', () => ports(secure).length === 1);
      assert.deepEqual(ports(secure), [upstreams[0]!.port]);
      // A token of its own (one the agent does not know) replaces the variable's: default deny shows nothing.
      const tokenFile = path.join(certs.dir, 'token');
      writeFileSync(tokenFile, `${MASTER}\n`);
      await using denied = client(name).discovery(consul({ service: name, env, token: 'not-a-known-token', backoff: { base: '50ms', cap: '200ms' } })).build();
      await within(5000, 'the unknown token is refused', () => denied.endpoints().lastError !== undefined);
      assert.deepEqual(ports(denied), []);
      // The token file is read when CONSUL_HTTP_TOKEN is absent.
      const { CONSUL_HTTP_TOKEN: _, ...withoutToken } = env;
      await using fromFile = client(name).discovery(consul({ service: name, env: { ...withoutToken, CONSUL_HTTP_TOKEN_FILE: tokenFile } })).build();
      await within(5000, 'the set with the token file', () => ports(fromFile).length === 1);
    });
  });
});
