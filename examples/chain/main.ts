// The chain: an Express gateway -> a Fastify orders service -> a gRPC
// inventory service, each its own process, each governed by meshkit.
//   npm run chain                 starts the three, shows two requests, stops
//   npm run chain -- --serve      keeps them running until Ctrl-C
// With CONSUL_HTTP_ADDR set, the services register in Consul and find each
// other there; otherwise each is given the next one's address. With
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT set (Jaeger: http://127.0.0.1:4318/v1/traces),
// every process exports its spans there: one trace per request across all hops.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { client, DEADLINE_HEADER } from '../../src/index.js';
import { grpcClient } from '../../src/grpc/index.js';
import { consulAddress } from './discovery.js';
import { InventoryService, type InventoryStats } from './inventory-api.js';

const SERVICE_SCRIPT = fileURLToPath(new URL('./service.js', import.meta.url));

/** One running service process. */
interface Running {
  readonly name: string;
  readonly port: number;
  readonly process: ChildProcess;
}

/** The running chain. */
export interface Chain {
  /** `http://127.0.0.1:<port>`: the gateway. */
  readonly gatewayUrl: string;
  readonly ports: Readonly<Record<'gateway' | 'orders' | 'inventory', number>>;
  /** What the inventory service finished and dropped so far. */
  inventoryStats(): Promise<InventoryStats>;
  /** SIGTERM to each service, edge first; resolves when all have exited (spans flushed). */
  stop(): Promise<void>;
}

/** Starts one service process and waits for its "listening" line. */
async function startService(name: string, env: NodeJS.ProcessEnv): Promise<Running> {
  const child = spawn(process.execPath, [SERVICE_SCRIPT, name], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const exited = once(child, 'exit').then(([code]) => { throw new Error(`${name} exited with ${String(code)} before it was ready`); });
  const ready = (async () => {
    for await (const line of lines) {
      const parsed = JSON.parse(line) as { service?: string; port?: number };
      if (parsed.service === name && typeof parsed.port === 'number') return parsed.port;
    }
    throw new Error(`${name} closed its output before it was ready`);
  })();
  const port = await Promise.race([ready, exited]);
  exited.catch(() => {}); // a later exit is stop()'s business
  return { name, port, process: child };
}

async function stopService(service: Running): Promise<void> {
  if (service.process.exitCode !== null || service.process.signalCode !== null) return;
  const exited = once(service.process, 'exit');
  service.process.kill('SIGTERM');
  const timer = setTimeout(() => service.process.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/**
 * Waits until a request crosses the whole chain: each client's first call
 * waits for discovery's first answer (a Consul query), which must not eat an
 * edge deadline of 300 ms. The warm-up brings its own, longer deadline.
 */
async function warmUp(gatewayUrl: string): Promise<void> {
  const giveUpAt = Date.now() + 20_000;
  for (;;) {
    try {
      const res = await fetch(`${gatewayUrl}/checkout/warm-up?work=0`, { headers: { [DEADLINE_HEADER]: '5000' } });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not accepting yet
    }
    if (Date.now() > giveUpAt) throw new Error('the chain did not answer within 20 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Starts inventory, then orders, then the gateway (each finds the next through Consul or its address). */
export async function startChain(env: NodeJS.ProcessEnv = {}): Promise<Chain> {
  const started: Running[] = [];
  try {
    const inventory = await startService('inventory', env);
    started.push(inventory);
    const orders = await startService('orders', { ...env, INVENTORY_ADDR: `127.0.0.1:${inventory.port}` });
    started.push(orders);
    const gateway = await startService('gateway', { ...env, ORDERS_ADDR: `127.0.0.1:${orders.port}` });
    started.push(gateway);
    await warmUp(`http://127.0.0.1:${gateway.port}`);
    const statsMesh = client('inventory-stats').endpoints([`127.0.0.1:${inventory.port}`]).timeout({ total: '2s' }).build();
    const stats = grpcClient(statsMesh, InventoryService);
    return {
      gatewayUrl: `http://127.0.0.1:${gateway.port}`,
      ports: { gateway: gateway.port, orders: orders.port, inventory: inventory.port },
      inventoryStats: () => stats.stats({}),
      async stop() {
        await statsMesh.close();
        for (const service of [...started].reverse()) await stopService(service);
      },
    };
  } catch (error) {
    for (const service of started.reverse()) await stopService(service);
    throw error;
  }
}

async function main(): Promise<void> {
  const chain = await startChain();
  console.log(`gateway ${chain.gatewayUrl} -> orders :${chain.ports.orders} -> inventory (gRPC) :${chain.ports.inventory}`);
  console.log(consulAddress() === undefined ? 'discovery: static addresses (set CONSUL_HTTP_ADDR to use Consul)' : `discovery: Consul at ${consulAddress() ?? ''}`);
  for (const work of [50, 500]) {
    const started = performance.now();
    const res = await fetch(`${chain.gatewayUrl}/checkout/sku-42?work=${work}`);
    const body = (await res.json()) as { hops?: { service: string; deadlineMs: number; traceId: string }[] };
    const hops = (body.hops ?? []).map((h) => `${h.service} had ${h.deadlineMs} ms`).join(', ');
    console.log(`inventory work ${work} ms: ${res.status} in ${(performance.now() - started).toFixed(0)} ms; ${hops}; trace ${body.hops?.[0]?.traceId ?? '-'}`);
  }
  await new Promise((resolve) => setTimeout(resolve, 600)); // let the slow lookup reach its deadline
  const stats = await chain.inventoryStats();
  console.log(`inventory finished ${stats.completed} lookup(s) and dropped ${stats.abandoned} whose deadline had passed`);
  if (process.argv.includes('--serve')) {
    console.log(`serving; try: curl ${chain.gatewayUrl}/checkout/sku-1?work=20   (Ctrl-C to stop)`);
    await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  }
  await chain.stop();
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
