import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { promises as dnsPromises } from 'node:dns';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { findExecutable } from './find-executable.js';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** How to install what these tests need, for skip/fail messages. */
export const DNS_SERVER_HOW_TO_GET = 'apt-get install bind9 bind9-dnsutils, or set NAMED_BIN and NSUPDATE_BIN';

/** `named` and `nsupdate`, from NAMED_BIN / NSUPDATE_BIN, PATH, or /usr/sbin and /usr/bin. Undefined if either is missing. */
export function findBind(): { named: string; nsupdate: string } | undefined {
  const named = findExecutable('NAMED_BIN', 'named', ['/usr/sbin', '/usr/bin', '/sbin']);
  const nsupdate = findExecutable('NSUPDATE_BIN', 'nsupdate', ['/usr/sbin', '/usr/bin', '/sbin']);
  return named === undefined || nsupdate === undefined ? undefined : { named, nsupdate };
}

/** A real authoritative DNS server (bind9's named) on 127.0.0.1, for one zone, changed with nsupdate. */
export interface DnsServer {
  readonly port: number;
  /** `'127.0.0.1:<port>'`, for the `servers` option. */
  readonly address: string;
  /** The zone, without the final dot (`meshkit.test`). */
  readonly zone: string;
  /** Runs nsupdate with these `update` lines (`'add x.meshkit.test. 1 A 127.0.0.2'`, `'delete x.meshkit.test. A'`). */
  update(...lines: string[]): Promise<void>;
  /** Queries received so far (named's query log), optionally only for one name and type. */
  queries(name?: string, type?: string): number;
  /** named's output so far (start-up messages and the query log). */
  log(): string;
  /** Kills named with SIGKILL (a crash); `start()` brings it back on the same port with the same data. */
  kill(): Promise<void>;
  start(): Promise<void>;
  /** Stops named (SIGTERM, then SIGKILL after 5 s) and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

/** A port free for both UDP and TCP on 127.0.0.1 right now. */
async function freePort(): Promise<number> {
  for (;;) {
    const udp = createSocket('udp4');
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
    const port = (udp.address() as AddressInfo).port;
    const tcp = createServer();
    const ok = await new Promise<boolean>((resolve) => {
      tcp.once('error', () => resolve(false));
      tcp.listen(port, '127.0.0.1', () => resolve(true));
    });
    await new Promise<void>((resolve) => udp.close(() => resolve()));
    if (ok) await new Promise<void>((resolve) => tcp.close(() => resolve()));
    if (ok) return port;
  }
}

/** True once named on `port` answers the zone's SOA query (within 10 s). */
async function answers(port: number, zone: string): Promise<boolean> {
  const resolver = new dnsPromises.Resolver({ timeout: 500, tries: 1 });
  resolver.setServers([`127.0.0.1:${port}`]);
  const until = performance.now() + 10_000;
  while (performance.now() < until) {
    try {
      await resolver.resolveSoa(zone);
      return true;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  return false;
}

function config(dir: string, port: number, zone: string): string {
  return `options {
  directory "${dir}";
  pid-file "${dir}/named.pid";
  session-keyfile "${dir}/session.key";
  managed-keys-directory "${dir}";
  listen-on port ${port} { 127.0.0.1; };
  listen-on-v6 { none; };
  recursion no;
  dnssec-validation no;
  notify no;
  querylog yes;
  automatic-interface-scan no;
};
controls { };
zone "${zone}." {
  type primary;
  file "${dir}/zone.db";
  allow-update { 127.0.0.1; };
};
`;
}

function zoneFile(zone: string, records: readonly string[]): string {
  return [
    '$TTL 1',
    `@ IN SOA ns.${zone}. admin.${zone}. ( 1 60 60 600 1 )`,
    `@ IN NS ns.${zone}.`,
    'ns IN A 127.0.0.1',
    ...records,
    '',
  ].join('\n');
}

/**
 * Starts named for `zone` (default `meshkit.test`) with `records` (zone-file
 * lines relative to the zone, e.g. `'a1 1 IN A 127.0.0.2'`; default TTL 1 s)
 * on a free 127.0.0.1 port, in a temporary directory. Resolves when named
 * answers; returns undefined when bind9 is not installed (see {@link findBind}).
 */
export async function startDnsServer(records: readonly string[], zone = 'meshkit.test'): Promise<DnsServer | undefined> {
  const bind = findBind();
  if (bind === undefined) return undefined;
  const dir = await mkdtemp(join(tmpdir(), 'meshkit-named-'));
  await writeFile(join(dir, 'zone.db'), zoneFile(zone, records));
  let port = 0;
  let child: ChildProcess | undefined;
  let log = '';
  let stopped = false;

  const waitExit = (proc: ChildProcess): Promise<void> =>
    proc.exitCode !== null || proc.signalCode !== null ? Promise.resolve() : new Promise((resolve) => proc.once('exit', () => resolve()));

  const launch = async (): Promise<boolean> => {
    await writeFile(join(dir, 'named.conf'), config(dir, port, zone));
    // -g: foreground, log to stderr (our query log); -n 1: one worker, these machines have 2 cores.
    // As root, named would switch to the 'bind' user, which cannot read our temp dir: stay root.
    const user = process.getuid?.() === 0 ? ['-u', 'root'] : [];
    const proc = spawn(bind.named, ['-g', '-n', '1', ...user, '-c', join(dir, 'named.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    let started = '';
    const onData = (chunk: Buffer): void => {
      log += chunk.toString();
      started += chunk.toString();
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    const running = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 10_000);
      const check = (): void => {
        if (/\brunning\b/.test(started)) {
          clearTimeout(timer);
          resolve(true);
        }
      };
      proc.stderr?.on('data', check);
      proc.once('exit', () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    // "running" can be logged before the UDP listener takes queries (an early query gets ECONNREFUSED): ask until it answers.
    const ready = running && (await answers(port, zone));
    if (!ready) {
      proc.kill('SIGKILL');
      await waitExit(proc);
    }
    return ready;
  };

  const server: DnsServer = {
    get port() { return port; },
    get address() { return `127.0.0.1:${port}`; },
    zone,
    async update(...lines: string[]) {
      const script = [`server 127.0.0.1 ${port}`, `zone ${zone}.`, ...lines.map((line) => `update ${line}`), 'send', ''].join('\n');
      await new Promise<void>((resolve, reject) => {
        const proc = execFile(bind.nsupdate, ['-t', '5'], (error, _stdout, stderr) =>
          error === null ? resolve() : reject(new Error(`nsupdate failed: ${stderr || error.message}`)));
        proc.stdin?.end(script);
      });
    },
    queries(name?: string, type?: string) {
      let count = 0;
      for (const match of log.matchAll(/query: (\S+) IN (\S+) /g)) {
        if ((name === undefined || match[1]?.toLowerCase() === name.toLowerCase()) && (type === undefined || match[2] === type)) count++;
      }
      return count;
    },
    log: () => log,
    async kill() {
      if (child === undefined) return;
      const proc = child;
      child = undefined;
      proc.kill('SIGKILL');
      await waitExit(proc);
    },
    async start() {
      if (child !== undefined || stopped) return;
      if (!(await launch())) throw new Error(`named did not restart on port ${port}:\n${log.slice(-2000)}`);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      const proc = child;
      child = undefined;
      if (proc !== undefined) {
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
        await waitExit(proc);
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };

  // Another process may take the port between freePort() and named's bind: try a few ports.
  for (let attempt = 0; attempt < 3; attempt++) {
    port = await freePort();
    if (await launch()) return server;
  }
  await rm(dir, { recursive: true, force: true });
  throw new Error(`named did not start:\n${log.slice(-2000)}`);
}
