import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { findExecutable } from './find-executable.js';
import { join } from 'node:path';
import type { CertificateAuthority, TlsMaterial } from './tls.js';

/** How to get etcd, for skip/fail messages. */
export const ETCD_HOW_TO_GET = "apt-get install etcd-server, or set ETCD_BIN to an etcd 3.x binary";

/** The etcd binary: `ETCD_BIN`, else `etcd` on PATH, else Debian's `/usr/bin/etcd`; undefined when none is executable. */
export function findEtcd(): string | undefined {
  return findExecutable('ETCD_BIN', 'etcd', ['/usr/bin']);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** TLS on etcd's client port. */
export interface EtcdTlsOptions {
  /** Issues the server's certificate (for 127.0.0.1 and localhost) and, with `clientCertAuth`, is the one CA etcd trusts for client certificates. */
  readonly ca: CertificateAuthority;
  /** Require a client certificate signed by `ca` (`--client-cert-auth --trusted-ca-file`). Default false. */
  readonly clientCertAuth?: boolean;
}

/** Options of {@link startEtcd}. */
export interface EtcdStartOptions {
  /** Serve clients over TLS only (`--cert-file/--key-file`). Default plain HTTP. */
  readonly tls?: EtcdTlsOptions;
}

/** What a client needs to reach a TLS etcd: PEM text, as written to the files etcdctl's variables name. */
export interface EtcdClientTls {
  /** The CA that signed the server's certificate. */
  readonly ca: string;
  /** A client certificate signed by that CA (usage clientAuth); the helper's own health probe uses it too. */
  readonly client: TlsMaterial;
}

/** A real etcd on free 127.0.0.1 ports with its own temp data dir. */
export interface EtcdServer {
  /** The client URL, `http://127.0.0.1:<port>` (`https://` with TLS). */
  readonly url: string;
  /** Set when etcd serves clients over TLS. */
  readonly tls: EtcdClientTls | undefined;
  readonly clientPort: number;
  readonly dataDir: string;
  /** The last lines etcd logged (for failure messages). */
  log(): string;
  /** SIGTERM, then SIGKILL after 5 s; keeps the data dir. */
  stop(): Promise<void>;
  /** SIGKILL at once (a crash); keeps the data dir. */
  kill(): Promise<void>;
  /** Starts again on the same ports and data dir; resolves once healthy. */
  restart(): Promise<void>;
  /** Stops and deletes the data dir. Safe to call twice. */
  close(): Promise<void>;
}

/** GET `<url>/health`: through fetch over HTTP, through node:https with the test CA (and client certificate) over TLS. */
async function health(url: string, tls: EtcdClientTls | undefined): Promise<{ ok: boolean; body: string }> {
  if (tls === undefined) {
    const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
    return { ok: response.ok, body: await response.text() };
  }
  return new Promise((resolve, reject) => {
    const request = https.get(`${url}/health`, { ca: tls.ca, cert: tls.client.cert, key: tls.client.key, agent: false, timeout: 1000 }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ ok: response.statusCode === 200, body }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error('health check timed out after 1000 ms')));
    request.on('error', reject);
  });
}

async function waitHealthy(url: string, tls: EtcdClientTls | undefined, process: () => ChildProcess | undefined, log: () => string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const child = process();
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`etcd exited before it was healthy:\n${log()}`);
    }
    try {
      const { ok, body } = await health(url, tls);
      if (ok && body.includes('"health":"true"')) return;
      last = body;
    } catch (error) {
      last = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`etcd at ${url} not healthy after ${timeoutMs} ms (${last}):\n${log()}`);
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Writes the server's certificate and key (and the trusted client CA) where etcd reads them; returns
 * etcd's TLS flags and what a client needs. The server certificate carries clientAuth too: with
 * `--client-cert-auth`, etcd's own gateway dials its gRPC port with that certificate.
 */
function tlsSetup(tls: EtcdTlsOptions, dir: string): { args: string[]; client: EtcdClientTls } {
  const server = tls.ca.issue({ commonName: 'meshkit test etcd', altNames: ['127.0.0.1', 'localhost'], usage: 'both' });
  const client = tls.ca.issue({ commonName: 'meshkit test etcd client', usage: 'client' });
  const file = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text, { mode: 0o600 });
    return path;
  };
  const args = [`--cert-file=${file('server.pem', server.cert)}`, `--key-file=${file('server-key.pem', server.key)}`];
  if (tls.clientCertAuth === true) args.push('--client-cert-auth', `--trusted-ca-file=${file('ca.pem', tls.ca.cert)}`);
  return { args, client: { ca: tls.ca.cert, client } };
}

/**
 * Starts etcd from `binary` on free loopback ports; resolves once `/health` answers true.
 * With `tls`, clients reach it at `https://127.0.0.1:<port>` only (peers stay on plain HTTP).
 */
export async function startEtcd(binary: string, options: EtcdStartOptions = {}): Promise<EtcdServer> {
  const clientPort = await freePort();
  const peerPort = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'meshkit-etcd-'));
  // Outside the data dir: etcd warns about files it does not know there.
  const tlsDir = options.tls === undefined ? undefined : mkdtempSync(join(tmpdir(), 'meshkit-etcd-tls-'));
  const tls = options.tls === undefined || tlsDir === undefined ? undefined : tlsSetup(options.tls, tlsDir);
  const url = `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const name = 'meshkit-test';
  const args = [
    `--name=${name}`, `--data-dir=${dataDir}`,
    `--listen-client-urls=${url}`, `--advertise-client-urls=${url}`,
    `--listen-peer-urls=${peer}`, `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=${name}=${peer}`, '--initial-cluster-state=new',
    '--log-level=warn', '--logger=zap',
    ...(tls?.args ?? []),
  ];
  let child: ChildProcess | undefined;
  let lines: string[] = [];
  let closed = false;
  const log = (): string => lines.slice(-30).join('\n');
  const launch = async (): Promise<void> => {
    // etcd reads ETCD_* variables as flags: pass only PATH so the caller's environment (ETCD_BIN, ...) cannot change or clash with them.
    const spawned = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env['PATH'] ?? '' } });
    child = spawned;
    const collect = (chunk: Buffer): void => {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      if (lines.length > 200) lines = lines.slice(-100);
    };
    spawned.stdout?.on('data', collect);
    spawned.stderr?.on('data', collect);
    spawned.on('error', (error) => lines.push(`spawn error: ${error.message}`));
    try {
      await waitHealthy(url, tls?.client, () => child, log);
    } catch (error) {
      spawned.kill('SIGKILL');
      await exited(spawned);
      throw error;
    }
  };
  const stop = async (signal: NodeJS.Signals): Promise<void> => {
    const running = child;
    child = undefined;
    if (running === undefined) return;
    running.kill(signal);
    const timer = setTimeout(() => running.kill('SIGKILL'), 5000);
    await exited(running);
    clearTimeout(timer);
  };
  try {
    await launch();
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    if (tlsDir !== undefined) rmSync(tlsDir, { recursive: true, force: true });
    throw error;
  }
  return {
    url,
    tls: tls?.client,
    clientPort,
    dataDir,
    log,
    stop: () => stop('SIGTERM'),
    kill: () => stop('SIGKILL'),
    async restart() {
      await stop('SIGTERM');
      await launch();
    },
    async close() {
      if (closed) return;
      closed = true;
      await stop('SIGTERM');
      rmSync(dataDir, { recursive: true, force: true });
      if (tlsDir !== undefined) rmSync(tlsDir, { recursive: true, force: true });
    },
  };
}
