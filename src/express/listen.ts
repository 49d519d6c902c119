import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { invalidConfig, MeshkitError } from '../core/errors.js';
import { checkOptions, isOptionsObject, readNumber, readString } from '../core/options.js';
import type { Registration } from '../registration/registrar.js';
import { ServerLifecycle } from '../server/lifecycle.js';
import type { ServerLifecycleOptions } from '../server/lifecycle-options.js';
import { instanceAt, type SelfRegistration } from '../server/self-registration.js';
import type { Authorizer } from '../security/authorizer.js';
import type { Identity } from '../security/identity.js';
import { createServer } from './mtls.js';

/** Options of {@link listen}. */
export interface ListenOptions {
  /** Port to listen on. Default 0 (any free port). */
  readonly port?: number;
  /** Host to bind. Default `'127.0.0.1'`; use `'0.0.0.0'` or `'::'` for every interface (then set `register.instance.address`). */
  readonly host?: string;
  /** The lifecycle to drive, or options for a new one. Default a new `ServerLifecycle` with its defaults. */
  readonly lifecycle?: ServerLifecycle | ServerLifecycleOptions;
  /** Register in Consul/etcd once listening; shutdown deregisters first. Default none. */
  readonly register?: SelfRegistration;
  /** Options for `http.createServer`. Default none. */
  readonly server?: http.ServerOptions;
  /**
   * Listen with mutual TLS as this identity (`connectIdentity`,
   * `fileIdentity`): HTTPS only, a client certificate from the identity's
   * roots required, rotations followed; `req.meshkit.peer` names the caller.
   * Default none (plain HTTP).
   */
  readonly identity?: Identity;
  /** Who may call (with `identity`): an Authorizer such as `connectAuthorizer()`, or `false`. Refused callers get 403 `ERR_FORBIDDEN`. Default none (every verified peer). */
  readonly authorize?: Authorizer | false;
}

const KNOWN = ['port', 'host', 'lifecycle', 'register', 'server', 'identity', 'authorize'];

/** A started server. */
export interface MeshkitServer {
  readonly server: http.Server;
  readonly port: number;
  /** `host:port` (IPv6 hosts in brackets). */
  readonly address: string;
  readonly lifecycle: ServerLifecycle;
  /** The registration, when `register` was given. */
  readonly registration: Registration | undefined;
  /** Runs the lifecycle's shutdown sequence (deregister, stop accepting, drain, close clients). */
  close(): Promise<void>;
}

/**
 * Starts `app` (an Express app or any request listener) on an
 * `http.Server` and wires its life: the lifecycle tracks requests and turns
 * ready once listening; with `register`, the instance is registered after
 * listening (so the registry never lists a port that refuses connections);
 * the lifecycle's signals (default SIGTERM, SIGINT) run its shutdown sequence:
 * readiness false, deregister, keep serving for `propagationDelay`, stop
 * accepting, drain within `drainTimeout`, close clients, then re-raise the
 * signal (or `onShutdown`). If registering fails, the server is closed,
 * readiness turns false (a given lifecycle is drained, one made here closed)
 * and the error is thrown. A port or host that cannot be bound is
 * `ERR_INVALID_CONFIG` naming `listen.port` or `listen.host`, the bind error
 * (`EADDRINUSE`, ...) as its `cause`. If the lifecycle's shutdown has begun
 * (before or while starting), the server is closed, nothing is registered,
 * no signal handler is installed, and `listen` rejects with
 * `ERR_CLIENT_CLOSED`. Bad options are `ERR_INVALID_CONFIG` naming
 * `listen.<option>` (`lifecycle.<option>` and `register.<option>` for those).
 */
export async function listen(app: http.RequestListener, options: ListenOptions = {}): Promise<MeshkitServer> {
  if (typeof app !== 'function') throw invalidConfig('app', 'an Express app or a request listener', app);
  checkOptions(options, 'listen', KNOWN);
  const host = readString(options.host, 'listen.host', '127.0.0.1');
  const port = readNumber(options.port, 'listen.port', 0, { min: 0, max: 65535, integer: true });
  if (options.server !== undefined && !isOptionsObject(options.server)) throw invalidConfig('listen.server', 'http.createServer options', options.server);
  const given = options.lifecycle instanceof ServerLifecycle;
  const lifecycle = options.lifecycle instanceof ServerLifecycle ? options.lifecycle : new ServerLifecycle(options.lifecycle);
  const self = options.register;
  if (self !== undefined) instanceAt(self, { address: host, port: 1 }); // validate before binding
  checkStillStarting(lifecycle);
  const server = await createServer(app, options.server, options.identity, options.authorize);
  lifecycle.attach(server);
  let registration: Registration | undefined;
  let bound: number;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.removeListener('error', reject);
        resolve();
      });
    }).catch((error: unknown) => {
      throw listenError(error, port, host);
    });
    // close() may have run while we were starting: the server must not outlive it.
    checkStillStarting(lifecycle);
    bound = (server.address() as AddressInfo).port;
    if (self !== undefined) {
      registration = await lifecycle.register(self.registrar, instanceAt(self, { address: host, port: bound }),
        self.check === undefined ? {} : { check: self.check });
      checkStillStarting(lifecycle);
    }
  } catch (error) {
    await failedStart(server, lifecycle, given);
    throw error;
  }
  if (lifecycle.settings.signals.length > 0) lifecycle.installSignalHandlers();
  return Object.freeze({
    server,
    port: bound,
    address: host.includes(':') ? `[${host}]:${bound}` : `${host}:${bound}`,
    lifecycle,
    registration,
    close: () => lifecycle.close(),
  });
}

/** `ERR_CLIENT_CLOSED` when the lifecycle's shutdown has begun: a server started now would never be drained. */
function checkStillStarting(lifecycle: ServerLifecycle): void {
  if (lifecycle.state === 'starting' || lifecycle.state === 'ready') return;
  throw new MeshkitError('ERR_CLIENT_CLOSED', `listen(): the lifecycle is ${lifecycle.state}; the server was not started`, { state: lifecycle.state });
}

/** The bind failure (EADDRINUSE, EACCES, ...) as `ERR_INVALID_CONFIG` naming the option; the original, with its `code`, is the cause. */
function listenError(error: unknown, port: number, host: string): MeshkitError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const onHost = code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN';
  return onHost
    ? invalidConfig('listen.host', `a local address to bind (${String(code)})`, host, { cause: error })
    : invalidConfig('listen.port', `a port free to bind on ${host} (${String(code)})`, port, { cause: error });
}

/**
 * A start that failed leaves nothing behind and readiness false: the server
 * is closed; a lifecycle `listen` made is closed; a given one that is ready
 * with this server listening (registration failed) is drained, so readiness
 * turns false (its clients are the caller's to close).
 */
async function failedStart(server: http.Server, lifecycle: ServerLifecycle, given: boolean): Promise<void> {
  if (!given) await lifecycle.close();
  else if (server.listening && lifecycle.ready) await lifecycle.drain();
  if (server.listening) {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }
}
