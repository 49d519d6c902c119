// The last hop: a gRPC inventory service (plain grpc-js). It honours the
// gRPC deadline meshkit sent: a lookup still running when the deadline
// passes is dropped, so no work runs for a caller that has given up.
import { Server, ServerCredentials, type Metadata, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import { InventoryService, type InventoryStats, type StockReply, type StockRequest } from './inventory-api.js';

/** Reads W3C trace context out of gRPC metadata. */
const metadataGetter = {
  keys: (carrier: Metadata): string[] => Object.keys(carrier.getMap()),
  get: (carrier: Metadata, key: string): string | undefined => {
    const value = carrier.get(key)[0];
    return value === undefined ? undefined : String(value);
  },
};

/** The running inventory service. */
export interface InventoryServer {
  readonly port: number;
  close(): Promise<void>;
}

/** Starts the inventory service on 127.0.0.1:`port` (0 = a free port). */
export async function startInventory(port: number, tracer: Tracer): Promise<InventoryServer> {
  const stats = { completed: 0, abandoned: 0 };
  const server = new Server();
  server.addService(InventoryService, {
    getStock(call: ServerUnaryCall<StockRequest, StockReply>, callback: sendUnaryData<StockReply>) {
      const deadline = call.getDeadline();
      const deadlineMs = deadline instanceof Date ? deadline.getTime() - Date.now() : Number(deadline) === Infinity ? Infinity : Number(deadline) - Date.now();
      const parent = propagation.extract(ROOT_CONTEXT, call.metadata, metadataGetter);
      const span = tracer.startSpan('inventory.Inventory/GetStock', { kind: SpanKind.SERVER, attributes: { 'rpc.system': 'grpc' } }, parent);
      const hop = { service: 'inventory', deadlineMs: Math.round(deadlineMs), traceId: span.spanContext().traceId };
      // The lookup "works" for workMs; grpc-js cancels the call when its deadline passes or the caller goes away.
      const work = setTimeout(() => {
        call.off('cancelled', onCancelled);
        stats.completed++;
        span.end();
        callback(null, { sku: call.request.sku, available: 7, hops: [hop] });
      }, call.request.workMs);
      const onCancelled = (): void => {
        clearTimeout(work);
        stats.abandoned++;
        span.setStatus({ code: SpanStatusCode.ERROR, message: 'cancelled: the deadline passed' });
        span.end();
      };
      call.once('cancelled', onCancelled);
    },
    stats(_call: ServerUnaryCall<Record<string, never>, InventoryStats>, callback: sendUnaryData<InventoryStats>) {
      callback(null, { ...stats });
    },
  });
  const bound = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (error, actual) => (error === null ? resolve(actual) : reject(error)));
  });
  return {
    port: bound,
    close: () => new Promise<void>((resolve) => {
      server.tryShutdown(() => resolve());
      setTimeout(() => { server.forceShutdown(); resolve(); }, 2000).unref();
    }),
  };
}
