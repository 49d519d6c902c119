import http from 'node:http';
import https from 'node:https';
import { invalidConfig } from '../core/errors.js';
import type { Authorizer } from '../security/authorizer.js';
import type { Identity } from '../security/identity.js';
import { denyRequest, readAuthorizer, readIdentity } from '../security/server-options.js';
import { admitRequest } from '../security/inbound-gate.js';
import { followIdentity, identityServerOptions } from '../security/server-tls.js';
import { loadSpanApi } from '../security/span-peer.js';
import { gateNonRequestEvents } from '../security/upgrade-gate.js';

/**
 * A request listener that runs `app` only for callers the authorizer admits
 * (with `req.meshkit` set); the others get 403 `{ error: 'forbidden', code: 'ERR_FORBIDDEN' }`.
 */
export function authorizingListener(app: http.RequestListener, authorizer: Authorizer | undefined): http.RequestListener {
  return (req, res) => {
    admitRequest(req.socket, authorizer, (info) => {
      req.meshkit = info;
      app(req, res);
    }, () => denyRequest(req, res));
  };
}

/**
 * The server `listen` starts: plain `http`, or with `identity` an `https`
 * server that requires client certificates from the identity's roots,
 * follows its rotations, and admits requests through `authorize`: the
 * `'request'` listener and also the `'upgrade'`, `'connect'`,
 * `'checkContinue'` and `'checkExpectation'` listeners the application adds
 * to the returned server (a refused upgrade gets 403 on its socket).
 */
export async function createServer(app: http.RequestListener, serverOptions: http.ServerOptions | undefined,
  identityValue: unknown, authorizeValue: unknown): Promise<http.Server> {
  const identity: Identity | undefined = readIdentity(identityValue, 'listen.identity');
  const authorizer = readAuthorizer(authorizeValue, 'listen.authorize');
  if (identity === undefined) {
    if (authorizer !== undefined) throw invalidConfig('listen.authorize', 'no authorizer without identity (only mTLS callers can be authorized)', authorizeValue);
    return http.createServer(serverOptions ?? {}, app);
  }
  await loadSpanApi();
  const server = https.createServer({ ...serverOptions, ...(await identityServerOptions(identity)) }, authorizingListener(app, authorizer));
  // Before any listener the application adds: an upgrade skips the request listener.
  const ungate = gateNonRequestEvents(server, authorizer);
  const unfollow = followIdentity(server, identity);
  server.once('close', () => {
    ungate();
    unfollow();
    void authorizer?.close?.();
  });
  return server;
}
