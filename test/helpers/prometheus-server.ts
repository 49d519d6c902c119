import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findExecutable } from './find-executable.js';

/** How to get Prometheus, for serverMissing() messages. */
export const PROMETHEUS_HOW_TO_GET = 'apt-get install prometheus, or set PROMETHEUS_BIN to a Prometheus 2.x binary';

/** The Prometheus binary: `PROMETHEUS_BIN`, else `prometheus` on PATH, else Debian's `/usr/bin/prometheus`; undefined when none is executable. */
export function findPrometheus(): string | undefined {
  return findExecutable('PROMETHEUS_BIN', 'prometheus', ['/usr/bin']);
}

/** What the test Prometheus scrapes. */
export interface PrometheusOptions {
  /** `host:port` targets of the one scrape job; loopback only. */
  readonly targets: readonly string[];
  /** The job label. Default `'meshkit-example'`. */
  readonly job?: string;
  /** Path scraped on each target. Default `'/metrics'`. */
  readonly metricsPath?: string;
  /** Scrape interval in seconds (also the scrape timeout). Default 1. */
  readonly scrapeIntervalSeconds?: number;
}

/** One sample of an instant query: its labels and value. */
export interface PromSample {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: number;
}

/** A real Prometheus on a free 127.0.0.1 port with its own temp config and TSDB. */
export interface PrometheusServer {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** The temp dir holding prometheus.yml and the TSDB (removed by close()). */
  readonly dir: string;
  /** The process, for tests that check it is gone after close(). */
  readonly process: ChildProcess;
  /** The last lines Prometheus logged (for failure messages). */
  log(): string;
  /** An instant query through `/api/v1/query` (vector results only). */
  query(promql: string): Promise<PromSample[]>;
  /** The scrape targets as `/api/v1/targets` reports them (health, lastError), for failure messages. */
  targets(): Promise<unknown>;
  /** SIGTERM (SIGKILL after 10 s), waits for the exit, removes the temp dir. Safe to call twice. */
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** The scrape config: one job, a short interval so a test sees samples within seconds. */
export function scrapeConfig(options: PrometheusOptions): string {
  const interval = options.scrapeIntervalSeconds ?? 1;
  for (const target of options.targets) {
    if (!/^(127\.0\.0\.1|\[::1\]|localhost):\d+$/.test(target)) throw new Error(`prometheus-server: target ${target} is not a loopback host:port`);
  }
  // JSON is valid YAML: no hand-written YAML quoting to get wrong.
  return JSON.stringify({
    global: { scrape_interval: `${interval}s`, scrape_timeout: `${interval}s`, evaluation_interval: `${interval}s` },
    scrape_configs: [{
      job_name: options.job ?? 'meshkit-example',
      metrics_path: options.metricsPath ?? '/metrics',
      static_configs: [{ targets: options.targets }],
    }],
  }, null, 2);
}

/** GET without keep-alive (agent: false), so no pooled socket outlives the server in leak checks. */
export function httpGet(url: string, timeoutMs = 5000): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const { status, text } = await httpGet(url);
  try {
    return { status, body: JSON.parse(text) as unknown };
  } catch {
    return { status, body: text };
  }
}

interface QueryAnswer {
  status?: string;
  error?: string;
  data?: { resultType?: string; result?: { metric?: Record<string, string>; value?: [number, string] }[] };
}

/**
 * Starts Prometheus from `binary` with a temp config scraping `options.targets`;
 * resolves once `/-/ready` answers 200. Retries on another port if the free
 * port it picked was taken in between (another test file may race for it).
 */
export async function startPrometheus(binary: string, options: PrometheusOptions): Promise<PrometheusServer> {
  const dir = mkdtempSync(join(tmpdir(), 'meshkit-prometheus-'));
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(configFile, scrapeConfig(options));
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    try {
      return await launch(binary, dir, configFile, port);
    } catch (error) {
      lastError = error;
      if (!String(error).includes('address already in use')) break;
    }
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastError;
}

async function launch(binary: string, dir: string, configFile: string, port: number): Promise<PrometheusServer> {
  const url = `http://127.0.0.1:${port}`;
  const args = [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    `--web.external-url=${url}/`,
    '--log.level=warn',
  ];
  let lines: string[] = [];
  const log = (): string => lines.slice(-40).join('\n');
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const collect = (chunk: Buffer): void => {
    lines.push(...chunk.toString().split('\n').filter(Boolean));
    if (lines.length > 400) lines = lines.slice(-200);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  child.on('error', (error) => lines.push(`spawn error: ${error.message}`));
  // If the test process dies without close() (a crash, a runner timeout), take Prometheus with it.
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited(child);
    clearTimeout(timer);
    process.off('exit', killOnExit);
  };

  // Readiness: TSDB opened, config loaded, web handler serving.
  const deadline = Date.now() + 30_000;
  let last = '';
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`prometheus exited before it was ready:\n${log()}`);
    try {
      const response = await httpGet(`${url}/-/ready`, 1000);
      last = `${response.status} ${response.text}`;
      if (response.status === 200) break;
    } catch (error) {
      last = String(error);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus at ${url} not ready after 30 s (${last}):\n${log()}`);
    }
    await sleep(100);
  }

  let closed = false;
  return {
    url,
    port,
    dir,
    process: child,
    log,
    async query(promql) {
      const { status, body } = await getJson(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
      const answer = body as QueryAnswer;
      if (status !== 200 || answer.status !== 'success') throw new Error(`query ${promql} failed: ${status} ${JSON.stringify(body)}`);
      if (answer.data?.resultType !== 'vector') throw new Error(`query ${promql}: expected a vector, got ${answer.data?.resultType}`);
      return (answer.data.result ?? []).map((r) => ({ metric: r.metric ?? {}, value: Number(r.value?.[1]) }));
    },
    async targets() {
      return (await getJson(`${url}/api/v1/targets`)).body;
    },
    async close() {
      if (closed) return;
      closed = true;
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
