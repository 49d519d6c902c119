// One process of the chain: `node .build/examples/chain/service.js <gateway|orders|inventory>`.
// Env: PORT (default 0: a free port), INVENTORY_ADDR / ORDERS_ADDR (static
// discovery) or CONSUL_HTTP_ADDR (Consul), OTEL_EXPORTER_OTLP_TRACES_ENDPOINT.
// Prints one JSON line `{"service":...,"port":...}` once it accepts requests;
// on SIGTERM it shuts down gracefully, flushes its spans and exits.
import { startGateway } from './gateway-service.js';
import { startInventory } from './inventory-service.js';
import { registerSelf } from './discovery.js';
import { startOrders } from './orders-service.js';
import { startTracing } from './tracing.js';

const SERVICES = ['gateway', 'orders', 'inventory'] as const;
type ServiceName = (typeof SERVICES)[number];

async function main(): Promise<void> {
  const name = process.argv[2] as ServiceName;
  if (!SERVICES.includes(name)) {
    console.error(`usage: service.js <${SERVICES.join('|')}>`);
    process.exitCode = 2;
    return;
  }
  const port = Number(process.env['PORT'] ?? 0);
  const tracing = startTracing(name);
  const flushAndExit = async (): Promise<void> => {
    await tracing.shutdown();
    process.exit(0);
  };
  let bound: number;
  if (name === 'inventory') {
    const server = await startInventory(port, tracing.tracer);
    bound = server.port;
    const stop = async (): Promise<void> => {
      await server.close();
      await flushAndExit();
    };
    // With Consul, register() takes SIGTERM: it deregisters first, then stops the server.
    const registration = await registerSelf('inventory', bound, stop);
    if (registration === undefined) process.once('SIGTERM', () => void stop());
  } else if (name === 'orders') {
    const app = await startOrders(port, flushAndExit);
    const address = app.server.address();
    bound = typeof address === 'object' && address !== null ? address.port : port;
  } else {
    bound = (await startGateway(port, tracing, flushAndExit)).port;
  }
  console.log(JSON.stringify({ service: name, port: bound }));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
