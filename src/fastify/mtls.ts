import type { Server as TlsServer } from 'node:tls';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { invalidConfig } from '../core/errors.js';
import { FORBIDDEN_BODY } from '../security/authorizer.js';
import { admitRequest } from '../security/inbound-gate.js';
import { readAuthorizer, readIdentity } from '../security/server-options.js';
import { followIdentity } from '../security/server-tls.js';
import { loadSpanApi } from '../security/span-peer.js';
import { gateNonRequestEvents } from '../security/upgrade-gate.js';
import type { MeshkitFastifyOptions } from './options.js';

/**
 * With `identity`: follows its rotations on the Fastify server (which must
 * have been created with `https: await identityServerOptions(identity)`) and
 * admits each request through `authorize` before anything else runs; a
 * refused caller gets 403 `{ error: 'forbidden', code: 'ERR_FORBIDDEN' }`.
 * The server's `'upgrade'`, `'connect'`, `'checkContinue'` and
 * `'checkExpectation'` events, which bypass Fastify's hooks, pass the same
 * gate (a refused upgrade gets 403 on its socket). The caller's identity is
 * `request.raw.meshkit`.
 */
export async function setUpMutualTls(fastify: FastifyInstance, options: MeshkitFastifyOptions): Promise<void> {
  const identity = readIdentity(options.identity, 'meshkit.identity');
  const authorizer = readAuthorizer(options.authorize, 'meshkit.authorize');
  if (identity === undefined) {
    if (authorizer !== undefined) throw invalidConfig('meshkit.authorize', 'no authorizer without identity (only mTLS callers can be authorized)', options.authorize);
    return;
  }
  const server = fastify.server as unknown as Partial<TlsServer>;
  if (typeof server.setSecureContext !== 'function') {
    throw invalidConfig('meshkit.identity', 'a Fastify instance created with `https: await identityServerOptions(identity)`', '(a plain HTTP server)');
  }
  await loadSpanApi();
  const unfollow = followIdentity(fastify.server as unknown as TlsServer, identity);
  // Events the server emits instead of 'request' (a WebSocket upgrade) never reach the onRequest hook.
  const ungate = gateNonRequestEvents(fastify.server, authorizer);
  fastify.addHook('onClose', async () => {
    ungate();
    unfollow();
    await authorizer?.close?.();
  });
  fastify.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
    admitRequest(request.raw.socket, authorizer, (info) => {
      request.raw.meshkit = info;
      done();
    }, () => {
      void reply.code(403).send(FORBIDDEN_BODY);
    });
  });
}
