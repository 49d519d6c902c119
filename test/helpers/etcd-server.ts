import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { findExecutable } from './find-executable.js';
import { join } from 'node:path';

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

/** A real etcd on free 127.0.0.1 ports with its own temp data dir. */
export interface EtcdServer {
  /** The client URL, `http://127.0.0.1:<port>`. */
  readonly url: string;
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

async function waitHealthy(url: string, process: () => ChildProcess | undefined, log: () => string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const child = process();
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`etcd exited before it was healthy:\n${log()}`);
    }
    try {
      const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
      const body = await response.text();
      if (response.ok && body.includes('"health":"true"')) return;
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

/** Starts etcd from `binary` on free loopback ports; resolves once `/health` answers true. */
export async function startEtcd(binary: string): Promise<EtcdServer> {
  const clientPort = await freePort();
  const peerPort = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'meshkit-etcd-'));
  const url = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const name = 'meshkit-test';
  const args = [
    `--name=${name}`, `--data-dir=${dataDir}`,
    `--listen-client-urls=${url}`, `--advertise-client-urls=${url}`,
    `--listen-peer-urls=${peer}`, `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=${name}=${peer}`, '--initial-cluster-state=new',
    '--log-level=warn', '--logger=zap',
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
      await waitHealthy(url, () => child, log);
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
  await launch();
  return {
    url,
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
    },
  };
}
