// The middle hop: a Fastify orders service. The meshkit plugin reads the
// caller's deadline and trace context; the gRPC call to inventory inherits
// both (what is left of the deadline becomes the gRPC deadline).
import Fastify, { type FastifyInstance } from 'fastify';
import { client, inboundRemainingMs, isMeshkitError } from '../../src/index.js'; // in your project: 'meshkit'
import { meshkit } from '../../src/fastify/index.js'; // 'meshkit/fastify'
import { grpcClient } from '../../src/grpc/index.js'; // 'meshkit/grpc'
import { openTelemetry } from '../../src/otel/index.js'; // 'meshkit/otel'
import { discover, selfRegistration } from './discovery.js';
import { InventoryService } from './inventory-api.js';
import { activeTraceId } from './tracing.js';

/**
 * Starts the orders service on 127.0.0.1:`port`; inventory is found through
 * Consul or INVENTORY_ADDR. On SIGTERM the plugin deregisters, drains, closes
 * the inventory client, then calls `onShutdown`.
 */
export async function startOrders(port: number, onShutdown: () => Promise<void>): Promise<FastifyInstance> {
  const inventoryMesh = client('inventory')
    .discovery(discover('inventory', 'INVENTORY_ADDR'))
    .timeout({ perTry: '1s', total: '2s' })
    .telemetry(openTelemetry())
    .build();
  const inventory = grpcClient(inventoryMesh, InventoryService, { idempotentMethods: ['getStock'] });

  const app = Fastify();
  const register = selfRegistration('orders');
  await app.register(meshkit, {
    service: 'orders',
    lifecycle: { clients: [inventoryMesh], propagationDelay: '100ms', onShutdown },
    ...(register === undefined ? {} : { register }),
  });
  app.get<{ Params: { sku: string }; Querystring: { work?: string } }>('/orders/:sku', async (request, reply) => {
    const hop = { service: 'orders', deadlineMs: Math.round(inboundRemainingMs()), traceId: activeTraceId() };
    try {
      const stock = await inventory.getStock({ sku: request.params.sku, workMs: Number(request.query.work ?? 0) });
      return { sku: stock.sku, available: stock.available, hops: [hop, ...stock.hops] };
    } catch (error) {
      const deadline = isMeshkitError(error, 'ERR_DEADLINE_EXCEEDED');
      return reply.code(deadline ? 504 : 502).send({ error: deadline ? 'deadline exceeded' : String(error), hops: [hop] });
    }
  });
  await app.listen({ port, host: '127.0.0.1' });
  await app.meshkit.registered();
  return app;
}
