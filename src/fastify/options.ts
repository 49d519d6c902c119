import type { InboundContext } from '../core/inbound-context.js';
import type { Registration } from '../registration/registrar.js';
import type { HealthRoutesOptions } from '../server/health-routes.js';
import type { InboundStats } from '../server/inbound-stats.js';
import type { InboundOptions } from '../server/inbound-scope.js';
import type { ServerLifecycle } from '../server/lifecycle.js';
import type { ServerLifecycleOptions } from '../server/lifecycle-options.js';
import type { LoadShedder, LoadShedderOptions } from '../server/load-shedder.js';
import type { SelfRegistration } from '../server/self-registration.js';
import type { Authorizer } from '../security/authorizer.js';
import type { Identity } from '../security/identity.js';

/** Options of the `meshkit/fastify` plugin. */
export interface MeshkitFastifyOptions extends InboundOptions {
  /** Inbound load shedding for the routes of this scope: options, a shared `LoadShedder`, or `false`. Default `false`. */
  readonly shedding?: LoadShedderOptions | LoadShedder | false;
  /** Liveness and readiness routes, or `false`. Default `/health/live` and `/health/ready` (first registration only). */
  readonly health?: HealthRoutesOptions | false;
  /** The lifecycle to drive, or options for a new one (first registration only). Default a new `ServerLifecycle`. */
  readonly lifecycle?: ServerLifecycle | ServerLifecycleOptions;
  /** Register in Consul/etcd once listening (first registration only); shutdown deregisters first. Default none. */
  readonly register?: SelfRegistration;
  /**
   * Mutual TLS as this identity: create Fastify with
   * `https: await identityServerOptions(identity)` and pass the identity here
   * so rotations reach the server; `request.raw.meshkit.peer` names the caller. Default none.
   */
  readonly identity?: Identity;
  /** Who may call (with `identity`): an Authorizer such as `connectAuthorizer()`, or `false`. Refused callers get 403 `ERR_FORBIDDEN`. Default none (every verified peer). */
  readonly authorize?: Authorizer | false;
}

/** What the plugin decorates the Fastify instance with, as `fastify.meshkit`. */
export interface MeshkitFastify {
  readonly lifecycle: ServerLifecycle;
  /** The shedder of the scope that first registered the plugin, if it sheds (`shedder.snapshot()` for status). */
  readonly shedder: LoadShedder | undefined;
  /** Deadline headers ignored as malformed, cut to `deadline.max` or already spent, counted over every registration (`inbound.snapshot()`). */
  readonly inbound: InboundStats;
  /**
   * Settles once the `register` option's registration is done (after
   * `listen()` resolves: Fastify runs onListen hooks after it). Resolves to
   * undefined without `register`, and rejects when registering failed.
   */
  registered(): Promise<Registration | undefined>;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** meshkit's lifecycle and shedder (`meshkit/fastify`). */
    meshkit: MeshkitFastify;
  }
  interface FastifyRequest {
    /** The request's inbound context (deadline, service); null on routes the plugin does not cover (health) or before onRequest. */
    meshkitInbound: InboundContext | null;
  }
}
