import { Etcd3 } from 'etcd3';
import type { TestContext } from 'node:test';
import { serverMissing } from '../helpers/require-server.js';
import { ETCD_HOW_TO_GET, findEtcd, startEtcd, type EtcdServer, type EtcdStartOptions } from '../helpers/etcd-server.js';

/**
 * One real etcd per test file. `before` starts it (or records why it could
 * not), `need(t)` hands it to a test or fails/skips per serverMissing, and
 * `after` stops it and every etcd3 client a test opened through `kv()`
 * (over TLS with the helper's client certificate when `options.tls` is set).
 */
export function etcdFixture(options: EtcdStartOptions = {}): {
  before(): Promise<void>;
  after(): Promise<void>;
  need(t: TestContext): EtcdServer | undefined;
  kv(): Etcd3;
} {
  let server: EtcdServer | undefined;
  let missing: unknown;
  const clients: Etcd3[] = [];
  return {
    async before() {
      const binary = findEtcd();
      if (binary === undefined) {
        missing = new Error('no etcd binary found (ETCD_BIN, PATH, /usr/bin/etcd)');
        return;
      }
      try {
        server = await startEtcd(binary, options);
      } catch (error) {
        missing = error;
      }
    },
    async after() {
      for (const c of clients.splice(0)) c.close();
      await server?.close();
    },
    need(t) {
      if (server === undefined) serverMissing(t, 'etcd', ETCD_HOW_TO_GET, missing);
      return server;
    },
    kv() {
      if (server === undefined) throw new Error('etcd is not running');
      const tls = server.tls;
      const c = new Etcd3({
        hosts: server.url,
        ...(tls === undefined ? {} : {
          credentials: { rootCertificate: Buffer.from(tls.ca), certChain: Buffer.from(tls.client.cert), privateKey: Buffer.from(tls.client.key) },
        }),
      });
      clients.push(c);
      return c;
    },
  };
}

/** Polls `condition` every 5 ms; resolves with the elapsed ms, rejects after `timeoutMs`. */
export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<number> {
  const start = performance.now();
  while (!(await condition())) {
    if (performance.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return performance.now() - start;
}

let counter = 0;
/** A service name unique in this process, so suites and tests do not share watches or keys. */
export function uniqueService(base: string): string {
  counter++;
  return `${base}-${process.pid}-${counter}`;
}

/** The JSON value of an endpoint, as an operator would write it. */
export function value(port: number, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ host: '127.0.0.1', port, ...extra });
}
