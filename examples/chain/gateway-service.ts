// The edge: an Express gateway. Requests arrive without a deadline, so the
// gateway gives each one 300 ms; every hop behind it gets what is left.
import express from 'express';
import { SpanKind } from '@opentelemetry/api';
import { client, inboundRemainingMs, isMeshkitError } from '../../src/index.js'; // in your project: 'meshkit'
import { inbound, listen, type MeshkitServer } from '../../src/express/index.js'; // 'meshkit/express'
import { openTelemetry } from '../../src/otel/index.js'; // 'meshkit/otel'
import { discover } from './discovery.js';
import { activeTraceId, type Tracing } from './tracing.js';

/** The edge's deadline for requests that bring none. */
export const EDGE_DEADLINE = '300ms';

/**
 * Starts the gateway on 127.0.0.1:`port`; orders is found through Consul or
 * ORDERS_ADDR. On SIGTERM it stops accepting, drains, closes the orders
 * client, then calls `onShutdown`.
 */
export async function startGateway(port: number, tracing: Tracing, onShutdown: () => Promise<void>): Promise<MeshkitServer> {
  const orders = client('orders').discovery(discover('orders', 'ORDERS_ADDR')).telemetry(openTelemetry()).build();
  const app = express();
  app.use(inbound({ service: 'gateway', deadline: { default: EDGE_DEADLINE } }));
  app.get('/checkout/:sku', (req, res) => {
    // The edge starts the trace: its server span is the root every hop shares.
    void tracing.tracer.startActiveSpan(`GET /checkout/:sku`, { kind: SpanKind.SERVER }, async (span) => {
      const hop = { service: 'gateway', deadlineMs: Math.round(inboundRemainingMs()), traceId: activeTraceId() };
      try {
        const work = typeof req.query['work'] === 'string' ? req.query['work'] : '0';
        const answer = await orders.request({ path: `/orders/${encodeURIComponent(req.params.sku)}?work=${encodeURIComponent(work)}` });
        const body = (await answer.body.json()) as { hops?: unknown[] };
        res.status(answer.statusCode).json({ ...body, hops: [hop, ...(body.hops ?? [])] });
      } catch (error) {
        const deadline = isMeshkitError(error, 'ERR_DEADLINE_EXCEEDED');
        res.status(deadline ? 504 : 502).json({ error: deadline ? 'deadline exceeded' : String(error), hops: [hop] });
      } finally {
        span.end();
      }
    });
  });
  return listen(app, { port, host: '127.0.0.1', lifecycle: { clients: [orders], propagationDelay: '100ms', onShutdown } });
}
