import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { consul, type ConsulTlsOptions } from '../../src/consul/index.js';
import { client, isMeshkitError, roundRobin, type Client } from '../../src/index.js';
import { createConsulCerts, useConsul, type ConsulCerts } from '../helpers/consul-server.js';
import { startUpstreams, type Upstream } from '../helpers/upstream.js';
import { testAgent, uniqueName, within, type TestAgent } from './support.js';

const MASTER = 'meshkit-test-master-token';

/** An ACL policy and a token holding it, made through the agent's HTTP API with the master token. */
async function aclToken(address: string, name: string, rules: string): Promise<string> {
  const put = async (path: string, body: unknown): Promise<Record<string, unknown>> => {
    const res = await fetch(`${address}${path}`, { method: 'PUT', headers: { 'x-consul-token': MASTER }, body: JSON.stringify(body) });
    const text = await res.text();
    if (!res.ok) throw new Error(`${path}: ${res.status} ${text}`);
    return JSON.parse(text) as Record<string, unknown>;
  };
  await put('/v1/acl/policy', { Name: name, Rules: rules });
  return (await put('/v1/acl/token', { Policies: [{ Name: name }] }))['SecretID'] as string;
}

const ports = (c: Client): number[] => c.endpoints().endpoints.map((e) => e.port).sort();

describe('consul() against an agent with ACLs (default deny) and TLS on its HTTP API', () => {
  let certs: ConsulCerts | undefined;
  const registry = useConsul(async () => {
    certs = await createConsulCerts();
    return {
      token: MASTER,
      hcl: [
        'primary_datacenter = "dc1"',
        `acl {\n enabled = true\n default_policy = "deny"\n enable_token_persistence = false\n tokens {\n master = "${MASTER}"\n agent = "${MASTER}"\n }\n}`,
      ],
      // Clients of the HTTPS port must present a certificate signed by the CA.
      https: { certs, verifyIncoming: true },
    };
  });
  let agent: TestAgent;
  let upstreams: Upstream[] = [];
  before(async () => {
    if (registry.server !== undefined) agent = testAgent(registry.server.address, MASTER);
    upstreams = await startUpstreams([{}, {}]);
  });
  after(async () => {
    agent?.close();
    await Promise.all(upstreams.map((u) => u.close()));
    certs?.remove();
  });

  it('sends the ACL token on every watch and registration request', async (t) => {
    const server = registry.need(t);
    if (server === undefined) return;
    const [a, b] = upstreams as [Upstream, Upstream];
    const name = uniqueName('acl');
    await agent.register(name, 'a', a.port);
    const readToken = await aclToken(server.address, `${name}-read`, 'service_prefix "" { policy = "read" }\nnode_prefix "" { policy = "read" }');
    const writeToken = await aclToken(server.address, `${name}-write`, `service "${name}" { policy = "write" }\nnode_prefix "" { policy = "read" }`);
    const address = server.address;

    // Read token: the instance is visible, and calls reach it.
    await using reader = client(name).balancer(roundRobin()).discovery(consul({ service: name, address, token: readToken })).build();
    await within(5000, 'the read token sees the instance', () => ports(reader).length === 1);
    const res = await reader.request({ path: '/' });
    assert.equal(res.statusCode, 200);
    await res.body.dump();
    assert.equal(a.requests.length > 0, true);

    // No token: the anonymous token may read nothing, and Consul filters the answer to nothing.
    await using anonymous = client(name).balancer(roundRobin()).discovery(consul({ service: name, address })).build();
    await within(5000, 'the anonymous answer', () => anonymous.endpoints().ageMs !== undefined);
    assert.deepEqual(ports(anonymous), []);

    // A token Consul does not know: every poll is refused (403), reported as an error, never thrown.
    await using unknown = client(name).balancer(roundRobin()).discovery(consul({ service: name, address, token: 'not-a-token', backoff: { base: '50ms', cap: '200ms' } })).build();
    await within(5000, 'the refusal is reported', () => unknown.endpoints().lastError !== undefined);
    assert.match(unknown.endpoints().lastError?.message ?? '', /ACL not found|403/i);
    assert.deepEqual(ports(unknown), []);

    // Registration: a read token may not write; the write token registers, keeps its TTL check
    // passing (the keep-alive carries the token too) and deregisters.
    await assert.rejects(consul({ service: name, address, token: readToken }).register({ service: name, id: 'b', address: '127.0.0.1', port: b.port }),
      (error: Error) => /Permission denied|403/i.test(error.message));
    assert.deepEqual(await agent.ids(name), ['a']);
    const registration = await consul({ service: name, address, token: writeToken })
      .register({ service: name, id: 'b', address: '127.0.0.1', port: b.port }, { ttl: '1s' });
    try {
      await within(1000, 'b reaches the reader', () => ports(reader).includes(b.port));
      await new Promise((resolve) => setTimeout(resolve, 2500));
      const passing = (await agent.api.health.service({ service: name, passing: true })) as { Service: { ID: string } }[];
      assert.deepEqual(passing.map((e) => e.Service.ID).sort(), ['a', 'b'], 'the TTL check stayed passing past two TTLs');
    } finally {
      await registration.deregister();
    }
    assert.deepEqual(await agent.ids(name), ['a']);
    await within(1000, 'b leaves the reader', () => !ports(reader).includes(b.port));
  });

  it('talks HTTPS to the agent: verifies it against the CA and presents a client certificate', async (t) => {
    const server = registry.need(t);
    if (server === undefined || certs === undefined || server.httpsAddress === undefined) return;
    const [a, b] = upstreams as [Upstream, Upstream];
    const name = uniqueName('tls');
    await agent.register(name, 'a', a.port);
    const https = server.httpsAddress;
    const tls: ConsulTlsOptions = {
      ca: readFileSync(certs.caFile),
      cert: readFileSync(certs.clientCertFile),
      key: readFileSync(certs.clientKeyFile),
    };
    const fast = { base: '50ms', cap: '200ms' } as const;

    await using secure = client(name).balancer(roundRobin()).discovery(consul({ service: name, address: https, token: MASTER, tls })).build();
    await within(5000, 'the set over TLS', () => ports(secure).length === 1);
    const res = await secure.request({ path: '/' });
    assert.equal(res.statusCode, 200);
    await res.body.dump();

    // Without the CA the agent's certificate is not trusted; without a client certificate the agent refuses us.
    await using untrusted = client(name).balancer(roundRobin())
      .discovery(consul({ service: name, address: https, token: MASTER, backoff: fast })).build();
    await using anonymousTls = client(name).balancer(roundRobin())
      .discovery(consul({ service: name, address: https, token: MASTER, tls: { ca: tls.ca as Buffer }, backoff: fast })).build();
    await within(5000, 'both fail', () => untrusted.endpoints().lastError !== undefined && anonymousTls.endpoints().lastError !== undefined);
    assert.match(untrusted.endpoints().lastError?.message ?? '', /certificate/i);
    assert.match(anonymousTls.endpoints().lastError?.message ?? '', /certificate|alert|socket hang up|ECONNRESET/i);
    t.diagnostic(`no CA: ${untrusted.endpoints().lastError?.message}; no client certificate: ${anonymousTls.endpoints().lastError?.message}`);
    assert.deepEqual([ports(untrusted), ports(anonymousTls)], [[], []]);

    // Registration over the same TLS settings.
    const registration = await consul({ service: name, address: https, token: MASTER, tls })
      .register({ service: name, id: 'b', address: '127.0.0.1', port: b.port }, { ttl: '1s' });
    try {
      await within(1000, 'b reaches the client', () => ports(secure).includes(b.port));
      assert.deepEqual(await agent.ids(name), ['a', 'b']);
    } finally {
      await registration.deregister();
    }
    assert.deepEqual(await agent.ids(name), ['a']);
    await assert.rejects(consul({ service: name, address: https, token: MASTER }).register({ service: name, id: 'c', address: '127.0.0.1', port: b.port }),
      (error: Error) => !isMeshkitError(error) && /certificate/i.test(error.message));
  });
});
