// The Inventory Thrift service called through meshkit with client.call((endpoint, attempt) => ...):
// meshkit picks the endpoint, times the attempt, retries elsewhere and feeds outlier detection;
// this file owns the Thrift connections (one per endpoint, opened on first use, closed when the
// endpoint leaves the set or the meshkit client closes).
import thrift from 'thrift';
import type { Connection } from 'thrift';
import { classifyError, Outcomes, subscribe, type AttemptContext, type CallOptions, type Client, type Endpoint, type Outcome } from '../../src/index.js'; // in your project: from 'meshkit'
import { InventoryClient, OutOfCatalog, type StockLevel } from './inventory.js';

interface Open {
  readonly connection: Connection;
  readonly client: InventoryClient;
}

/** One Thrift connection per endpoint of a meshkit client. */
export class ThriftConnections {
  readonly #meshkit: Client;
  readonly #open = new Map<string, Promise<Open>>();
  readonly #unsubscribe: () => void;

  constructor(meshkit: Client) {
    this.#meshkit = meshkit;
    this.#unsubscribe = subscribe('endpoints', (message) => {
      if (message.service !== meshkit.name) return;
      const current = new Set(meshkit.endpoints().endpoints.map((endpoint) => endpoint.id));
      for (const id of this.#open.keys()) if (!current.has(id)) this.#drop(id, true);
    });
    meshkit.onClose(() => this.close());
  }

  /** The connection to `endpoint`, connecting now if needed; rejects with the socket error (ECONNREFUSED...). */
  get(endpoint: Endpoint): Promise<Open> {
    let open = this.#open.get(endpoint.id);
    if (open === undefined) {
      open = this.#connect(endpoint);
      this.#open.set(endpoint.id, open);
    }
    return open;
  }

  get size(): number {
    return this.#open.size;
  }

  close(): void {
    this.#unsubscribe();
    for (const id of [...this.#open.keys()]) this.#drop(id, true);
  }

  #connect(endpoint: Endpoint): Promise<Open> {
    const connection = thrift.createConnection(endpoint.host, endpoint.port, {
      transport: thrift.TBufferedTransport,
      protocol: thrift.TBinaryProtocol,
    });
    const client = thrift.createClient(InventoryClient, connection);
    return new Promise<Open>((resolve, reject) => {
      // Always listened to: thrift's Connection throws an 'error' nobody listens for.
      connection.on('error', (error: Error) => {
        this.#forget(endpoint.id);
        reject(error);
      });
      connection.once('close', () => this.#forget(endpoint.id));
      connection.once('connect', () => resolve({ connection, client }));
    });
  }

  #forget(id: string): void {
    this.#open.delete(id);
  }

  #drop(id: string, end: boolean): void {
    const open = this.#open.get(id);
    this.#open.delete(id);
    if (end) open?.then(({ connection }) => connection.end(), () => {});
  }
}

/** Sends one getStock attempt on the endpoint's connection; settles on the reply, a dead connection or the attempt's abort. */
async function getStockAttempt(connections: ThriftConnections, sku: string, endpoint: Endpoint, attempt: AttemptContext): Promise<StockLevel> {
  const { connection, client } = await connections.get(endpoint);
  const signal = attempt.signal;
  if (signal.aborted) throw signal.reason;
  // Plain Thrift has no headers: the remaining deadline travels as an argument (0 = none).
  const remaining = attempt.deadline === Infinity ? 0 : Math.max(1, Math.floor(attempt.deadline - attempt.startedAt));
  return new Promise<StockLevel>((resolve, reject) => {
    let seqid = 0;
    const cleanup = (): void => {
      signal.removeEventListener('abort', onAbort);
      connection.off('close', onClose);
    };
    const onAbort = (): void => {
      delete client._reqs[seqid]; // a late reply finds no caller and is dropped
      cleanup();
      reject(signal.reason);
    };
    const onClose = (): void => {
      delete client._reqs[seqid];
      cleanup();
      reject(Object.assign(new Error(`thrift connection to ${endpoint.id} closed`), { code: 'ECONNRESET' }));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    connection.once('close', onClose);
    client.getStock(sku, remaining, (id) => {
      seqid = id;
    }).then(
      (level) => {
        cleanup();
        resolve(level);
      },
      (error: unknown) => {
        cleanup();
        reject(error);
      },
    );
  });
}

/**
 * A declared Thrift exception is the service's answer, not a failure: it
 * counts for the endpoint (no breaker or ejection learns from it), is never
 * retried, and reaches the caller as is. Anything else is classified as
 * meshkit does by default (connection errors, resets, timeouts).
 */
function classifyInventoryError(error: unknown): Outcome {
  return error instanceof OutOfCatalog ? Outcomes.success : classifyError(error);
}

/**
 * The governed Inventory: `getStock` is idempotent (a read), so meshkit
 * retries it on another endpoint after a refused connection, a dropped
 * connection or a per-try timeout; `OutOfCatalog` is the service's answer and
 * reaches the caller as is.
 */
export function governedInventory(meshkit: Client, connections = new ThriftConnections(meshkit)) {
  return {
    connections,
    getStock: (sku: string, options: CallOptions = {}): Promise<StockLevel> =>
      meshkit.call((endpoint, attempt) => getStockAttempt(connections, sku, endpoint, attempt), {
        idempotent: true, classifyError: classifyInventoryError, ...options,
      }),
  };
}
