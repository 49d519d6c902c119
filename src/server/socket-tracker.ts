import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Every socket an attached server accepted and that is still open, so a
 * forced drain can destroy the ones `closeAllConnections()` leaves alone:
 * connections handed to an `'upgrade'` (WebSocket) or `'connect'` listener,
 * and TLS connections still in their handshake. Sockets are taken from the
 * `'connection'` and `'secureConnection'` events, not from `'upgrade'`:
 * listening for `'upgrade'`/`'connect'` would change what Node does with
 * such requests, and a gate that wraps `emit` for them (mTLS authorization)
 * must still see them first.
 */
export class SocketTracker {
  readonly #open = new Set<Socket>();

  readonly #onSocket = (socket: Socket): void => {
    if (socket.destroyed) return;
    this.#open.add(socket);
    socket.once('close', () => this.#open.delete(socket));
  };

  /** Sockets still open on every attached server. */
  get open(): number {
    return this.#open.size;
  }

  /** Starts following `server`'s sockets. Attaching twice is a no-op. */
  attach(server: Server): void {
    if (server.listeners('connection').includes(this.#onSocket)) return;
    server.on('connection', this.#onSocket);
    // An https server: the TLS socket, which the application's upgrade listener holds, is what to destroy.
    server.on('secureConnection', this.#onSocket);
  }

  /** Destroys every socket still open. */
  destroyAll(): void {
    for (const socket of this.#open) socket.destroy();
    this.#open.clear();
  }
}
