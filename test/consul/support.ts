import http from 'node:http';
import Consul from 'consul';

/** The test's own view of the agent (through the `consul` package, as an operator would). */
export interface TestAgent {
  readonly api: Consul;
  /** Registers `name` at 127.0.0.1:port with a TTL check (passing unless told otherwise). */
  register(name: string, id: string, port: number, extra?: { tags?: string[]; meta?: Record<string, string>; status?: 'passing' | 'critical' }): Promise<void>;
  deregister(id: string): Promise<void>;
  /** Turns the TTL check of service `id` critical. */
  fail(id: string): Promise<void>;
  pass(id: string): Promise<void>;
  /** Service ids the local agent has for `name`. */
  ids(name: string): Promise<string[]>;
  close(): void;
}

/** The test's own client of the agent at `address` (plain HTTP), sending `token` when ACLs are on. */
export function testAgent(address: string, token?: string): TestAgent {
  const url = new URL(address);
  const agent = new http.Agent({ keepAlive: true });
  const api = new Consul({ host: url.hostname, port: Number(url.port), agent, ...(token === undefined ? {} : { defaults: { token } }) });
  return {
    api,
    async register(name, id, port, extra = {}) {
      await api.agent.service.register({
        name, id, address: '127.0.0.1', port,
        ...(extra.tags === undefined ? {} : { tags: extra.tags }),
        ...(extra.meta === undefined ? {} : { meta: extra.meta }),
        check: { ttl: '1h', status: extra.status ?? 'passing' } as never,
      });
    },
    async deregister(id) {
      await api.agent.service.deregister({ id });
    },
    async fail(id) {
      await api.agent.check.fail({ id: `service:${id}` });
    },
    async pass(id) {
      await api.agent.check.pass({ id: `service:${id}` });
    },
    async ids(name) {
      const services = (await api.agent.service.list()) as Record<string, { Service: string; ID: string }>;
      return Object.values(services).filter((s) => s.Service === name).map((s) => s.ID).sort();
    },
    close() {
      agent.destroy();
    },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every 10 ms until it returns true; returns the ms it took, or throws after `limitMs`. */
export async function within(limitMs: number, what: string, check: () => boolean | Promise<boolean>): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await check()) return performance.now() - started;
    if (performance.now() - started > limitMs) throw new Error(`${what}: not true within ${limitMs} ms`);
    await sleep(10);
  }
}

/** Unique service names per test, so shared watches from other tests never interfere. */
let counter = 0;
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}`;
}
