// A small Inventory server on 127.0.0.1 (used by the example and its test).
import type { AddressInfo } from 'node:net';
import thrift from 'thrift';
import { InventoryProcessor, OutOfCatalog, type InventoryHandler, type StockLevel } from './inventory.js';

export interface InventoryServer {
  readonly port: number;
  readonly address: string;
  /** Deadlines (ms) callers sent, in order. */
  readonly deadlines: number[];
  /** Delay before answering, ms. Default 0. */
  delayMs: number;
  close(): Promise<void>;
}

const CATALOG: Readonly<Record<string, number>> = { 'sku-1': 12, 'sku-2': 0 };

export async function startInventoryServer(): Promise<InventoryServer> {
  const timers = new Set<NodeJS.Timeout>();
  const state: InventoryServer = {
    port: 0,
    address: '',
    deadlines: [],
    delayMs: 0,
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
    },
  };
  const handler: InventoryHandler = {
    getStock(sku: string, deadlineMs: number): Promise<StockLevel> {
      state.deadlines.push(deadlineMs);
      return new Promise((resolve, reject) => {
        const answer = (): void => {
          const available = CATALOG[sku];
          if (available === undefined) reject(new OutOfCatalog(sku));
          else resolve({ sku, available, servedBy: state.address });
        };
        if (state.delayMs === 0) answer();
        else {
          const timer = setTimeout(() => {
            timers.delete(timer);
            answer();
          }, state.delayMs);
          timers.add(timer);
        }
      });
    },
  };
  const server = thrift.createServer(InventoryProcessor, handler, {
    transport: thrift.TBufferedTransport,
    protocol: thrift.TBinaryProtocol,
  });
  // thrift's server is a net.Server: track sockets so close() ends them.
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (socket: import('node:net').Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  (server as unknown as { closeAllConnections: () => void }).closeAllConnections = () => {
    for (const socket of sockets) socket.destroy();
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  Object.assign(state, { port, address: `127.0.0.1:${port}` });
  return state;
}
