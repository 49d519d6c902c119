import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import http from 'node:http';
import { createServer } from 'node:net';
import { after, before, type TestContext } from 'node:test';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { serverMissing } from './require-server.js';

/** The Consul release shipped beside the repository (Consul is not in Debian 12). */
export const CONSUL_DEB = 'consul_1.8.7+dfsg1-2+b3_amd64.deb';

/** Metadata of the test agent's node, for node-meta filter tests. */
export const CONSUL_NODE_META = Object.freeze({ key: 'rack', value: 'r1' });

/** How to get Consul, for serverMissing() messages. */
export const CONSUL_HOW_TO_GET = `set CONSUL_BIN, put consul on PATH, or provide the vendored ${CONSUL_DEB} where .ci/services/consul.sh reads it (needs dpkg-deb)`;

function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json')) || !existsSync(path.join(dir, 'src'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('consul-server: repository root not found');
    dir = parent;
  }
  return dir;
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds a consul binary: `CONSUL_BIN`, then `consul` on PATH, then the vendor
 * .deb extracted with `dpkg-deb -x` into `<tmpdir>/meshkit-consul` (once;
 * concurrent test files race safely through an atomic rename).
 */
export async function findConsulBinary(): Promise<string> {
  const fromEnv = process.env['CONSUL_BIN'];
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!executable(fromEnv)) throw new Error(`CONSUL_BIN=${fromEnv} is not an executable file`);
    return fromEnv;
  }
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    if (dir !== '' && executable(path.join(dir, 'consul'))) return path.join(dir, 'consul');
  }
  const deb = path.join(repoRoot(), '..', 'shared', 'vendor', CONSUL_DEB);
  const cache = path.join(os.tmpdir(), 'meshkit-consul', CONSUL_DEB.replace(/\.deb$/, ''));
  const bin = path.join(cache, 'usr', 'bin', 'consul');
  if (executable(bin)) return bin;
  if (!existsSync(deb)) throw new Error(`no consul binary and no ${deb}`);
  mkdirSync(path.dirname(cache), { recursive: true });
  const staging = mkdtempSync(`${cache}.tmp-`);
  try {
    await promisify(execFile)('dpkg-deb', ['-x', deb, staging]);
    try {
      renameSync(staging, cache);
    } catch (error) {
      if (!executable(bin)) throw error; // another test file won the race
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  if (!executable(bin)) throw new Error(`${deb} did not contain usr/bin/consul`);
  return bin;
}

/** A port free for both TCP and UDP on 127.0.0.1 (Consul's DNS and Serf ports use both). */
async function freePort(taken: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const tcp = createServer();
    await new Promise<void>((resolve, reject) => tcp.once('error', reject).listen(0, '127.0.0.1', resolve));
    const port = (tcp.address() as { port: number }).port;
    const udp = createSocket('udp4');
    const udpFree = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false));
      udp.bind(port, '127.0.0.1', () => resolve(true));
    });
    await new Promise<void>((resolve) => tcp.close(() => resolve()));
    if (udpFree) await new Promise<void>((resolve) => udp.close(() => resolve()));
    if (udpFree && !taken.has(port)) {
      taken.add(port);
      return port;
    }
  }
  throw new Error('consul-server: no free loopback port');
}

function getJson(url: string, token?: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const headers = token === undefined ? {} : { 'x-consul-token': token };
    const req = http.get(url, { agent: false, timeout: 2000, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON: keep the text
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** TLS material made by `consul tls ca create` / `consul tls cert create` (PEM files). */
export interface ConsulCerts {
  readonly dir: string;
  /** The CA that signed both certificates. */
  readonly caFile: string;
  /** The agent's certificate (SANs: server.<dc>.consul, localhost, 127.0.0.1) and key. */
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  /** A client certificate and key signed by the same CA (for `verify_incoming_https`). */
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
  /** Removes the directory. */
  remove(): void;
}

/** Creates a CA, a server and a client certificate with the consul binary itself (no openssl needed). */
export async function createConsulCerts(datacenter = 'dc1'): Promise<ConsulCerts> {
  const bin = await findConsulBinary();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meshkit-consul-tls-'));
  const run = (args: string[]): Promise<unknown> => promisify(execFile)(bin, args, { cwd: dir });
  await run(['tls', 'ca', 'create']);
  await run(['tls', 'cert', 'create', '-server', '-dc', datacenter]);
  await run(['tls', 'cert', 'create', '-client', '-dc', datacenter]);
  const file = (name: string): string => path.join(dir, name);
  return {
    dir,
    caFile: file('consul-agent-ca.pem'),
    serverCertFile: file(`${datacenter}-server-consul-0.pem`),
    serverKeyFile: file(`${datacenter}-server-consul-0-key.pem`),
    clientCertFile: file(`${datacenter}-client-consul-0.pem`),
    clientKeyFile: file(`${datacenter}-client-consul-0-key.pem`),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Options of {@link startConsul}; the defaults give a plain dev agent `meshkit-test` in `dc1`. */
export interface ConsulStartOptions {
  /** Default `'dc1'`. */
  readonly datacenter?: string;
  /** Node name. Default `'meshkit-test'`. */
  readonly node?: string;
  /** Extra HCL snippets (`-hcl`), e.g. an `acl { ... }` block. Default none. */
  readonly hcl?: readonly string[];
  /** Token the readiness probe sends (the ACL master token when ACLs default to deny). Default none. */
  readonly token?: string;
  /** Also serve the HTTP API over TLS on a free port, with these files. Default none. */
  readonly https?: { readonly certs: ConsulCerts; readonly verifyIncoming?: boolean };
}

/** A `consul agent -dev` on loopback ports, started by a test suite. */
export interface ConsulServer {
  /** `http://127.0.0.1:<httpPort>`: pass as the `address` option. */
  readonly address: string;
  /** `https://127.0.0.1:<port>` when started with `https`. */
  readonly httpsAddress: string | undefined;
  readonly httpPort: number;
  /** The Serf WAN port, for `-join-wan` from another datacenter's agent. */
  readonly serfWanPort: number;
  readonly datacenter: string;
  readonly node: string;
  readonly bin: string;
  /** The agent's output so far (for failure messages). */
  logs(): string;
  /** SIGKILL: the agent is gone at once, with its in-memory state (dev mode keeps nothing). */
  kill(): Promise<void>;
  /**
   * Starts the agent again on the same ports (after `kill`), with an empty
   * data dir (a registry that lost its state: every instance must register
   * again), waiting until it has a leader.
   */
  restart(): Promise<void>;
  /** SIGTERM, then SIGKILL after 5 s; removes the data dir. Idempotent. */
  stop(): Promise<void>;
}

/** Starts `consul agent -dev` bound to 127.0.0.1 on free ports, and waits until it has a leader and answers. */
export async function startConsul(options: ConsulStartOptions = {}): Promise<ConsulServer> {
  const bin = await findConsulBinary();
  const datacenter = options.datacenter ?? 'dc1';
  const node = options.node ?? 'meshkit-test';
  const taken = new Set<number>();
  const [httpPort, dnsPort, serfLan, serfWan, serverPort] = [
    await freePort(taken), await freePort(taken), await freePort(taken), await freePort(taken), await freePort(taken),
  ] as [number, number, number, number, number];
  const httpsPort = options.https === undefined ? undefined : await freePort(taken);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'meshkit-consul-data-'));
  const address = `http://127.0.0.1:${httpPort}`;
  const tlsHcl = options.https === undefined ? [] : [
    `ports { https = ${httpsPort} }`,
    `cert_file = ${JSON.stringify(options.https.certs.serverCertFile)}`,
    `key_file = ${JSON.stringify(options.https.certs.serverKeyFile)}`,
    `ca_file = ${JSON.stringify(options.https.certs.caFile)}`,
    `verify_incoming_https = ${options.https.verifyIncoming === true}`,
  ];
  let output = '';
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const args = [
    'agent', '-dev', '-datacenter', datacenter, '-node', node, '-bind', '127.0.0.1', '-client', '127.0.0.1', '-advertise', '127.0.0.1',
    '-http-port', String(httpPort), '-dns-port', String(dnsPort), '-serf-lan-port', String(serfLan),
    '-serf-wan-port', String(serfWan), '-server-port', String(serverPort), '-grpc-port', '-1',
    '-data-dir', dataDir, '-hcl', 'disable_update_check = true', '-node-meta', `${CONSUL_NODE_META.key}:${CONSUL_NODE_META.value}`,
    ...[...tlsHcl, ...(options.hcl ?? [])].flatMap((hcl) => ['-hcl', hcl]),
  ];

  const launch = async (): Promise<void> => {
    const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    const append = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-20_000);
    };
    proc.stdout?.on('data', append);
    proc.stderr?.on('data', append);
    exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`consul exited while starting:\n${output}`);
      try {
        const leader = await getJson(`${address}/v1/status/leader`, options.token);
        const self = await getJson(`${address}/v1/catalog/node/${node}`, options.token);
        // Leader elected and the node synced into the catalog: registrations and health reads now work.
        if (leader.status === 200 && typeof leader.body === 'string' && leader.body !== '' && self.status === 200 && self.body !== null) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`consul did not get ready within 20 s:\n${output}`);
      }
      await sleep(50);
    }
  };

  const terminate = async (signal: NodeJS.Signals): Promise<void> => {
    const proc = child;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };

  await launch();
  let stopped = false;
  return {
    address, httpPort, bin, datacenter, node,
    httpsAddress: httpsPort === undefined ? undefined : `https://127.0.0.1:${httpsPort}`,
    serfWanPort: serfWan,
    logs: () => output,
    kill: () => terminate('SIGKILL'),
    async restart(): Promise<void> {
      await terminate('SIGKILL');
      // The agent persists local services and check states in its data dir; start clean instead.
      rmSync(dataDir, { recursive: true, force: true });
      mkdirSync(dataDir, { recursive: true });
      await launch();
    },
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      await terminate('SIGTERM');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Joins `from` to `to` over the WAN (two datacenters, as `consul join -wan`)
 * and waits until `from` lists both datacenters and can answer a query for `to`'s.
 */
export async function joinWan(from: ConsulServer, to: ConsulServer): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const req = http.request(`${from.address}/v1/agent/join/127.0.0.1:${to.serfWanPort}?wan=1`, { method: 'PUT', agent: false, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`WAN join answered ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error('WAN join timed out')));
    req.on('error', reject);
    req.end();
  });
  const deadline = Date.now() + 20_000;
  for (;;) {
    const dcs = await getJson(`${from.address}/v1/catalog/datacenters`).catch(() => undefined);
    const remote = await getJson(`${from.address}/v1/catalog/nodes?dc=${to.datacenter}`).catch(() => undefined);
    if (Array.isArray(dcs?.body) && dcs.body.includes(to.datacenter) && remote?.status === 200) return;
    if (Date.now() > deadline) throw new Error(`${from.datacenter} did not see ${to.datacenter} over the WAN within 20 s`);
    await sleep(100);
  }
}

/** One Consul agent for a test suite, or why it could not start. */
export interface ConsulFixture {
  /** The running agent; undefined before `before` ran or when it could not start. */
  readonly server: ConsulServer | undefined;
  /**
   * The agent for test `t`; when it could not start, calls `serverMissing`
   * (throws in CI, skips locally) and returns undefined: return at once then.
   */
  need(t: TestContext): ConsulServer | undefined;
}

/**
 * Registers a `before` hook that starts a Consul agent (recording the error
 * instead of throwing, so `need(t)` can report it per test) and an `after`
 * hook that stops it, in the suite being defined. Call it first in the
 * `describe` body: `node:test` runs hooks in the order they were registered,
 * so the suite's own `before` hooks can use `server`.
 */
export function useConsul(options: ConsulStartOptions | (() => Promise<ConsulStartOptions>) = {}): ConsulFixture {
  let server: ConsulServer | undefined;
  let startError: unknown;
  before(async () => {
    try {
      server = await startConsul(typeof options === 'function' ? await options() : options);
    } catch (error) {
      startError = error;
    }
  });
  after(async () => {
    await server?.stop();
  });
  return {
    get server() {
      return server;
    },
    need(t) {
      if (server === undefined) serverMissing(t, 'Consul', CONSUL_HOW_TO_GET, startError);
      return server;
    },
  };
}
