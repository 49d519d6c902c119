import type { AddressInfo } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type { Registration } from '../registration/registrar.js';
import { healthAnswer, resolveHealthRoutes } from '../server/health-routes.js';
import { InboundStats } from '../server/inbound-stats.js';
import { inboundContextOf, resolveInboundOptions, runInbound } from '../server/inbound-scope.js';
import { ServerLifecycle } from '../server/lifecycle.js';
import { LoadShedder } from '../server/load-shedder.js';
import { DEADLINE_EXCEEDED_BODY, overloadedBody } from '../server/responses.js';
import { instanceAt } from '../server/self-registration.js';
import { loadTraceApi } from '../server/trace-context.js';
import type { MeshkitFastify, MeshkitFastifyOptions } from './options.js';
import { setUpMutualTls } from './mtls.js';

const KNOWN = ['service', 'deadline', 'clock', 'shedding', 'health', 'lifecycle', 'register', 'identity', 'authorize'];

async function meshkitPlugin(fastify: FastifyInstance, options: MeshkitFastifyOptions): Promise<void> {
  // Checks every key (the adapter's own too) and reads service and deadline.
  const settings = resolveInboundOptions(options, 'meshkit', KNOWN);
  const shedding = options.shedding ?? false;
  const shedder = shedding === false ? undefined : shedding instanceof LoadShedder ? shedding : new LoadShedder(shedding, 'meshkit.shedding');
  await loadTraceApi();
  // Before the inbound hooks: a refused caller costs no deadline parsing or shedder slot.
  await setUpMutualTls(fastify, options);

  // With skip-override the plugin runs in the scope that registered it. A second
  // registration below the first (another scope's shedding or deadline settings)
  // only adds its request hooks: one process has one lifecycle.
  const first = !fastify.hasDecorator('meshkit');
  const exempt = new Set<string>();
  if (first) {
    setUpLifecycle(fastify, options, shedder, exempt);
    fastify.decorateRequest('meshkitInbound', null);
  }
  // One set of counters per process, whichever registration counts.
  const stats = fastify.meshkit.inbound;

  fastify.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
    if (request.routeOptions.url !== undefined && exempt.has(request.routeOptions.url)) return done();
    const context = inboundContextOf(request.headers, settings, settings.clock.now(), stats);
    if (context === undefined) {
      void reply.code(504).send(DEADLINE_EXCEEDED_BODY);
      return;
    }
    if (shedder !== undefined && !shedder.tryAdmit(reply.raw, context.deadline)) {
      if (shedder.retryAfterSeconds !== undefined) void reply.header('retry-after', String(shedder.retryAfterSeconds));
      void reply.code(503).send(overloadedBody(shedder.limit));
      return;
    }
    request.meshkitInbound = context;
    // The rest of the hook chain runs inside the context; for routes without a
    // body that reaches the handler synchronously from here.
    runInbound(context, request.headers, done);
  });
  // Body parsing continues from the request stream's events, outside the
  // context entered above: enter it again right before the handler.
  fastify.addHook('preHandler', (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) => {
    const context = request.meshkitInbound;
    if (context === null) return done();
    runInbound(context, request.headers, done);
  });
}

function setUpLifecycle(fastify: FastifyInstance, options: MeshkitFastifyOptions, shedder: LoadShedder | undefined, exempt: Set<string>): void {
  const lifecycle = options.lifecycle instanceof ServerLifecycle ? options.lifecycle : new ServerLifecycle(options.lifecycle);
  const self = options.register;
  const health = options.health === false ? undefined : resolveHealthRoutes(options.health, 'meshkit.health');
  let registration: Promise<Registration | undefined> = Promise.resolve(undefined);
  const decoration: MeshkitFastify = Object.freeze({ lifecycle, shedder, inbound: new InboundStats(), registered: () => registration });
  fastify.decorate('meshkit', decoration);

  if (health !== undefined) {
    for (const [kind, path] of [['liveness', health.liveness], ['readiness', health.readiness]] as const) {
      if (path === undefined) continue;
      exempt.add(path);
      fastify.get(path, async (_request, reply) => {
        const answer = healthAnswer(lifecycle, kind);
        return reply.code(answer.status).header('cache-control', 'no-store').send(answer.body);
      });
    }
  }

  // Attached when the plugin tree is ready, before listening; kept in onReady so that a close() racing
  // listen() settles as before (Fastify's ready() timing depends on onReady hooks).
  fastify.addHook('onReady', async () => {
    lifecycle.attach(fastify.server);
  });
  // Ready once listening, not on onReady: a listen that then fails (port in use) must leave readiness false.
  fastify.addHook('onListen', async () => {
    lifecycle.markReady();
    // Shutdown began while starting: the lifecycle (attach) closes the server; register nothing, handle no signal.
    if (!lifecycle.ready) return;
    if (self !== undefined) {
      registration = lifecycle.register(self.registrar, instanceAt(self, fastify.server.address() as AddressInfo, 'meshkit.register'),
        self.check === undefined ? {} : { check: self.check });
      registration.catch((error: unknown) => fastify.log.error({ err: error }, 'meshkit: self-registration failed'));
      await registration.catch(() => undefined);
    }
    if (lifecycle.settings.signals.length > 0 && lifecycle.ready) {
      // Leave the registry while still serving (propagationDelay), then let Fastify close.
      lifecycle.installSignalHandlers(async () => {
        await lifecycle.leave();
        await fastify.close();
      });
    }
  });
  // fastify.close(): Fastify already answers new requests 503 + Connection: close
  // here, so no propagation delay; deregistering still comes before listening stops.
  fastify.addHook('preClose', async () => {
    await lifecycle.drain();
  });
  fastify.addHook('onClose', async () => {
    await lifecycle.close();
  });
}

/**
 * The `meshkit/fastify` plugin for Fastify 5. Per request (onRequest hook),
 * in the scope it is registered in and its children:
 * - reads the deadline from `x-meshkit-deadline` (or `grpc-timeout`) and answers
 *   504 without running the handler when it has passed;
 * - with `shedding`, admits the request under the adaptive limit or answers
 *   503 with `Retry-After` before any work (parsing included) starts;
 * - runs the rest of the request inside meshkit's inbound context (entered in
 *   onRequest and again in preHandler, after body parsing) and, when
 *   `@opentelemetry/api` is installed, the caller's W3C trace context: every
 *   meshkit call the handler makes inherits the remaining deadline and the trace.
 *
 * The first registration also decorates `fastify.meshkit` (lifecycle,
 * shedder), adds the health routes, and ties the lifecycle to Fastify's:
 * ready on `onListen` (once listening, so a failed listen leaves readiness
 * false; not when shutdown began while starting), then self-registration (`register`) and the
 * signal handlers (SIGTERM: readiness false, deregister, keep serving for
 * `propagationDelay`, then `fastify.close()`); `preClose` deregisters and
 * drains within `drainTimeout`; `onClose` closes the lifecycle's clients.
 *
 * It is marked with `Symbol.for('skip-override')` (what fastify-plugin sets),
 * so it needs no fastify-plugin at run time. Throws `ERR_INVALID_CONFIG` naming
 * `meshkit.<option>`, unknown keys included.
 */
export const meshkit = Object.assign(meshkitPlugin, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'meshkit',
  [Symbol.for('plugin-meta')]: { name: 'meshkit', fastify: '5.x' },
});
