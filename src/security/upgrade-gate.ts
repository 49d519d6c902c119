import type { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { FORBIDDEN_BODY, type Authorizer } from './authorizer.js';
import { admitRequest } from './inbound-gate.js';
import { denyRequest } from './server-options.js';

/** Events that hand the application a raw socket (`req, socket, head`) instead of a `'request'`. */
const SOCKET_EVENTS: ReadonlySet<string> = new Set(['upgrade', 'connect']);
/** Events Node emits instead of `'request'` when they have listeners (`req, res`). */
const REQUEST_EVENTS: ReadonlySet<string> = new Set(['checkContinue', 'checkExpectation']);

const FORBIDDEN_TEXT = JSON.stringify(FORBIDDEN_BODY);
/** The 403 a refused upgrade gets on its raw socket: the same body as a refused request. */
const FORBIDDEN_RESPONSE = 'HTTP/1.1 403 Forbidden\r\ncontent-type: application/json; charset=utf-8\r\n'
  + `content-length: ${Buffer.byteLength(FORBIDDEN_TEXT)}\r\nconnection: close\r\n\r\n${FORBIDDEN_TEXT}`;

/**
 * Admits the requests an HTTP server hands over without a `'request'` event
 * through the same gate as requests (`admitRequest`): `'upgrade'`
 * (WebSocket), `'connect'` (CONNECT), `'checkContinue'` and
 * `'checkExpectation'` reach the server's listeners only for callers the
 * authorizer admits (with `req.meshkit` set), whichever listeners the
 * application adds and in whatever order. A refused upgrade or CONNECT gets
 * `403 { error: 'forbidden', code: 'ERR_FORBIDDEN' }` on its socket, which is
 * then closed; a refused `checkContinue`/`checkExpectation` gets the 403
 * response. The gate wraps the server's `emit`, so it holds back the event
 * itself (an asynchronous decision included) and leaves Node's choice of
 * event (which depends on what listeners exist) as it was. Returns the
 * function that removes the gate.
 */
export function gateNonRequestEvents(server: EventEmitter, authorizer: Authorizer | undefined): () => void {
  const emit = server.emit;
  const gated = function (this: EventEmitter, event: string | symbol, ...args: unknown[]): boolean {
    if (typeof event === 'string' && SOCKET_EVENTS.has(event)) {
      gateSocket(args[0] as IncomingMessage, args[1] as Duplex, authorizer, () => emit.call(this, event, ...args));
      return this.listenerCount(event) > 0;
    }
    if (typeof event === 'string' && REQUEST_EVENTS.has(event)) {
      const [req, res] = args as [IncomingMessage, ServerResponse];
      admitRequest(req.socket, authorizer, (info) => {
        req.meshkit = info;
        emit.call(this, event, ...args);
      }, () => denyRequest(req, res));
      return this.listenerCount(event) > 0;
    }
    return emit.call(this, event, ...args);
  };
  server.emit = gated;
  return () => {
    if (server.emit === gated) server.emit = emit;
  };
}

/** Runs `forward` for an admitted upgrade; answers a refused one 403 on the raw socket and closes it. */
function gateSocket(req: IncomingMessage, socket: Duplex, authorizer: Authorizer | undefined, forward: () => void): void {
  // Node has taken its own error listener off an upgraded socket: a reset while the authorizer decides must not throw.
  const onError = (): void => {
    socket.destroy();
  };
  socket.on('error', onError);
  admitRequest(req.socket, authorizer, (info) => {
    socket.removeListener('error', onError);
    if (socket.destroyed) return;
    req.meshkit = info;
    forward();
  }, () => {
    if (socket.destroyed) return;
    socket.end(FORBIDDEN_RESPONSE, () => socket.destroy());
  });
}
