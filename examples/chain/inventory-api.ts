// The inventory service's gRPC contract, written as protoc's grpc-js plugin
// would type it, with JSON on the wire so the example needs no codegen step.

/** What one service on the chain saw: the deadline it had left and the trace it was part of. */
export interface Hop {
  readonly service: string;
  /** Milliseconds left of the request's deadline when it arrived. */
  readonly deadlineMs: number;
  /** The W3C trace id the request carried; empty when none. */
  readonly traceId: string;
}

export interface StockRequest {
  readonly sku: string;
  /** How long the lookup takes, ms (to show what a deadline does). */
  readonly workMs: number;
}

export interface StockReply {
  readonly sku: string;
  readonly available: number;
  readonly hops: readonly Hop[];
}

/** Lookups the inventory service finished, and those it dropped because their deadline passed first. */
export interface InventoryStats {
  readonly completed: number;
  readonly abandoned: number;
}

const json = {
  serialize: (value: unknown): Buffer => Buffer.from(JSON.stringify(value)),
  deserialize: <T>(bytes: Buffer): T => JSON.parse(bytes.toString()) as T,
};

/** `inventory.Inventory`: GetStock (idempotent) and Stats. */
export const InventoryService = {
  getStock: {
    path: '/inventory.Inventory/GetStock',
    requestStream: false as const,
    responseStream: false as const,
    requestSerialize: json.serialize as (value: StockRequest) => Buffer,
    requestDeserialize: json.deserialize<StockRequest>,
    responseSerialize: json.serialize as (value: StockReply) => Buffer,
    responseDeserialize: json.deserialize<StockReply>,
  },
  stats: {
    path: '/inventory.Inventory/Stats',
    requestStream: false as const,
    responseStream: false as const,
    requestSerialize: json.serialize as (value: Record<string, never>) => Buffer,
    requestDeserialize: json.deserialize<Record<string, never>>,
    responseSerialize: json.serialize as (value: InventoryStats) => Buffer,
    responseDeserialize: json.deserialize<InventoryStats>,
  },
};
