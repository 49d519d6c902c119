import { Pool, type Dispatcher } from 'undici';
import type { AttemptSink } from '../core/call-transport.js';
import type { AttemptContext } from '../core/attempt.js';
import type { Endpoint } from '../core/endpoint.js';
import { invalidConfig } from '../core/errors.js';
import { parsePositiveDuration, type Duration } from '../core/duration.js';
import { readString } from '../core/options.js';
import type { Identity } from '../security/identity.js';
import { identityConnector, IDENTITY_TLS_KEYS } from '../security/client-connector.js';
import { handshakesOf, type HandshakeCounters } from '../security/handshake-counters.js';
import { resolveConnection, type HttpConnection, type TransportTlsOptions } from './connection.js';
import { redactTlsValue, redactValues } from './tls-secrets.js';
import { checkSecretOptions } from '../discovery/secret-options.js';
import { UNDICI_BODY_TIMEOUT_MS } from '../attempts/timeout.js';
import { requestWatchingBody, type AbortSource } from './body-watch.js';
import { guardedBody } from './request-body.js';
import { undiciTimeouts, type UndiciTimeouts } from './undici-timeouts.js';
import { onlyDeadlineHeader, withAttemptHeaders } from './deadline-header.js';
import type { HttpRequest, HttpResponse } from './http-types.js';
import type { Transport } from './transport.js';

/** Options for {@link undiciTransport}. */
export interface UndiciTransportOptions {
  /** `http` or `https`. Default `http`. */
  readonly protocol?: 'http' | 'https';
  /** Maximum connections per endpoint. Default 128. */
  readonly connections?: number;
  /** Requests pipelined per connection. Default 1 (no pipelining). */
  readonly pipelining?: number;
  /** How long an idle keep-alive connection stays open; a duration > 0 (undici refuses 0). Default `'4s'` (undici's default). */
  readonly keepAliveTimeout?: Duration;
  /**
   * Time allowed to establish a connection; a duration > 0 (to undici 0 would
   * mean no connect timeout at all). Default `'10s'` (per-try timeouts usually fire first).
   */
  readonly connectTimeout?: Duration;
  /**
   * TLS options for `https` (`ca`, `cert`, `key`, `servername`,
   * `rejectUnauthorized`, ...), checked by `readTlsOptions`; only with
   * `protocol: 'https'`. `rejectUnauthorized: false` emits one process
   * warning (`MESHKIT_TLS_UNVERIFIED`). An `ERR_INVALID_CONFIG` about them
   * shows `key`, `passphrase`, `pfx` and `session` as `'<redacted>'`, and
   * hides the value of a mistyped key. Default none (Node's CAs, full verification).
   */
  readonly tls?: TransportTlsOptions;
  /**
   * Mutual TLS with a service identity (`connectIdentity`, `fileIdentity`):
   * each new connection presents the identity's current leaf, trusts only its
   * roots and requires the server's certificate to carry the SPIFFE ID of
   * `peerService` (else `ERR_PEER_IDENTITY`). Implies `protocol: 'https'`;
   * `tls` may then only add settings such as `minVersion`. Default none.
   */
  readonly identity?: Identity;
  /** The service called, whose SPIFFE ID the server must present; required with `identity` (`.identity()` on the builder sets it). */
  readonly peerService?: string;
}

interface ResolvedOptions {
  readonly protocol: 'http' | 'https';
  readonly connections: number;
  readonly pipelining: number;
  readonly keepAliveTimeout: number;
  readonly connectTimeout: number;
  readonly tls: TransportTlsOptions | undefined;
  readonly identity?: { readonly identity: Identity; readonly peerService: string } | undefined;
}

function positiveInteger(value: unknown, option: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw invalidConfig(option, 'an integer >= 1', value);
  return value;
}

const TRANSPORT_KEYS: readonly string[] = ['protocol', 'connections', 'pipelining', 'keepAliveTimeout', 'connectTimeout', 'tls', 'identity', 'peerService'];

function resolveIdentity(options: UndiciTransportOptions): ResolvedOptions['identity'] {
  const identity = options.identity as unknown;
  const peerService = readString(options.peerService, 'transport.peerService');
  if (identity === undefined) {
    if (peerService !== undefined) throw invalidConfig('transport.peerService', 'no peerService without identity', peerService);
    return undefined;
  }
  const ok = typeof identity === 'object' && identity !== null && ['current', 'subscribe', 'status'].every((m) => typeof (identity as Record<string, unknown>)[m] === 'function');
  // A key and certificate given here by mistake are not shown.
  if (!ok) throw invalidConfig('transport.identity', 'an Identity such as connectIdentity() or fileIdentity()', redactValues(identity));
  if (peerService === undefined) throw invalidConfig('transport.peerService', 'the name of the service called (its SPIFFE ID is checked)', undefined);
  if (options.protocol === 'http') throw invalidConfig('transport.protocol', "'https' (or none) with identity: mutual TLS is never plain HTTP", options.protocol);
  for (const key of IDENTITY_TLS_KEYS) {
    const value = typeof options.tls === 'object' && options.tls !== null ? (options.tls as Record<string, unknown>)[key] : undefined;
    if (value !== undefined) {
      // A private key or passphrase is named, never shown: errors end up in logs.
      throw invalidConfig(`transport.tls.${key}`, 'not set beside identity (the identity owns certificates, roots and peer checks)', redactTlsValue(key, value));
    }
  }
  return Object.freeze({ identity: identity as Identity, peerService });
}

function resolveOptions(options: UndiciTransportOptions): ResolvedOptions {
  // A mistyped key (`tsl`) may hold a private key: it is named, its value hidden.
  checkSecretOptions(options, 'transport', TRANSPORT_KEYS);
  const identity = resolveIdentity(options);
  const { protocol, tls } = resolveConnection(identity === undefined ? options.protocol : 'https', options.tls, 'transport');
  return {
    identity,
    protocol,
    connections: positiveInteger(options.connections ?? 128, 'transport.connections'),
    pipelining: positiveInteger(options.pipelining ?? 1, 'transport.pipelining'),
    // Both > 0: undici refuses a keepAliveTimeout of 0 only when the first call opens a pool, and reads connectTimeout 0 as none.
    keepAliveTimeout: parsePositiveDuration(options.keepAliveTimeout ?? 4000, 'transport.keepAliveTimeout'),
    connectTimeout: parsePositiveDuration(options.connectTimeout ?? 10_000, 'transport.connectTimeout'),
    tls,
  };
}

/** The EventEmitter-signal protocol undici accepts; meshkit's attempts implement it (no AbortController per request). */
type EmitterSignal = AttemptContext & AbortSource;

/**
 * undici's callback for {@link UndiciTransport.start}: `opaque` is the
 * attempt, hidden again from the caller. On an error undici passes only `{ opaque }`.
 */
function onResponse(error: Error | null, data: Dispatcher.ResponseData<unknown>): void {
  const attempt = data.opaque as AttemptSink<HttpResponse>;
  data.opaque = null; // what the promise API returns when no opaque was given
  if (error !== null && error !== undefined) attempt.fail(error);
  else attempt.deliver(data as HttpResponse);
}

/** A transport on undici: one keep-alive `Pool` per endpoint, opened on first use. */
export class UndiciTransport implements Transport<HttpRequest, HttpResponse> {
  readonly name = 'undici';
  readonly #options: ResolvedOptions;
  /** The client's body timeout in ms, as configured (for errors). */
  readonly #bodyTimeoutMs: number;
  /** What undici gets per request for it. */
  readonly #timeouts: UndiciTimeouts;
  readonly #pools = new Map<string, Pool>();
  /** Pools of endpoints that left the set, finishing their requests in flight. */
  readonly #retiring = new Set<Pool>();
  /** Pools that close() is letting finish, so that destroy() can still reach them. */
  readonly #closing = new Set<Pool>();
  /** Built once: every pool's connections go through it, so an identity rotation reaches them all. */
  readonly #connect: NonNullable<Pool.Options['connect']>;

  constructor(options: ResolvedOptions, settings: HttpTransportSettings = {}) {
    this.#options = options;
    this.#bodyTimeoutMs = settings.bodyTimeout ?? UNDICI_BODY_TIMEOUT_MS;
    this.#timeouts = undiciTimeouts(this.#bodyTimeoutMs, settings.perTry);
    const mtls = options.identity;
    this.#connect = mtls === undefined
      ? { timeout: options.connectTimeout, ...options.tls }
      : identityConnector(mtls.identity, mtls.peerService, options.connectTimeout, options.tls, handshakesOf(mtls.identity) as HandshakeCounters);
    // A rotation retires every pool: calls in flight finish on their connections, the next ones handshake with the new material.
    this.#unfollow = mtls?.identity.subscribe((event) => {
      if (event.type === 'updated') this.#retire([...this.#pools.keys()]);
    });
  }

  /** Stops following the identity's rotations (undefined without one). */
  readonly #unfollow: (() => void) | undefined;

  #retire(ids: readonly string[]): void {
    for (const id of ids) {
      const pool = this.#pools.get(id);
      if (pool === undefined) continue;
      this.#pools.delete(id);
      this.#retiring.add(pool);
      pool.close().catch(() => {}).finally(() => this.#retiring.delete(pool));
    }
  }

  send(endpoint: Endpoint, request: HttpRequest, attempt: AttemptContext): Promise<HttpResponse> {
    // Attempts speak the EventEmitter abort protocol, so no AbortController is made per request.
    return this.#pool(endpoint).request(this.#requestOptions(request, attempt, null, attempt as EmitterSignal as unknown as AbortSignal));
  }

  /**
   * The callback form the executor prefers: undici's callback API with the
   * attempt as `opaque`, so one shared callback serves every request (no
   * promise, no closure per attempt).
   */
  start(endpoint: Endpoint, request: HttpRequest, attempt: AttemptSink<HttpResponse>): void {
    // A body that fails upstream after the headers is reported to the attempt (see body-watch.ts).
    requestWatchingBody(this.#pool(endpoint), this.#requestOptions(request, attempt, attempt), onResponse, this.#bodyTimeoutMs, attempt as unknown as EmitterSignal);
  }

  #pool(endpoint: Endpoint): Pool {
    return this.#pools.get(endpoint.id) ?? this.#open(endpoint);
  }

  /** `signal` only for undici's own abort wiring (send()); start()'s handler wires the attempt's abort itself. */
  #requestOptions<T>(request: HttpRequest, attempt: AttemptContext, opaque: T, signal?: AbortSignal): Dispatcher.RequestOptions<T> {
    return {
      opaque,
      signal,
      path: request.path,
      method: (request.method ?? 'GET') as 'GET',
      // The next hop learns what is left of the deadline and the trace; calls without either pay nothing.
      headers: request.headers == null && attempt.outboundHeaders === undefined && attempt.deadline !== Infinity
        ? onlyDeadlineHeader(attempt.deadline - attempt.startedAt)
        : withAttemptHeaders(request.headers, attempt.outboundHeaders, attempt.deadline - attempt.startedAt),
      // An iterable body is wrapped so that its throw is the caller's failure; a stream's is told when it fails (body-watch.ts).
      body: (request.body == null ? null : guardedBody(request.body, attempt)) as string | null,
      // A body stalled longer than this fails: undici's own timer, refreshed as bytes arrive (see undici-timeouts.ts).
      bodyTimeout: this.#timeouts.bodyTimeout,
      headersTimeout: this.#timeouts.headersTimeout,
    };
  }

  discard(response: HttpResponse): void {
    response.body.dump().catch(() => {});
  }

  endpointsChanged(endpoints: readonly Endpoint[]): void {
    if (this.#pools.size === 0) return;
    const current = new Set(endpoints.map((endpoint) => endpoint.id));
    // Requests still in flight to a departed endpoint finish; then its sockets close.
    this.#retire([...this.#pools.keys()].filter((id) => !current.has(id)));
  }

  async close(): Promise<void> {
    await Promise.all(this.#takeAll().map((pool) => {
      this.#closing.add(pool);
      return pool.close().finally(() => this.#closing.delete(pool));
    }));
  }

  /** Destroys every pool, those close() is waiting for included; requests and bodies still open fail with `reason`. */
  async destroy(reason?: Error): Promise<void> {
    const pools = [...this.#takeAll(), ...this.#closing];
    this.#closing.clear();
    await Promise.all(pools.map((pool) => pool.destroy(reason ?? null)));
  }

  #takeAll(): Pool[] {
    this.#unfollow?.();
    const pools = [...this.#pools.values(), ...this.#retiring];
    this.#pools.clear();
    this.#retiring.clear();
    return pools;
  }

  /** Number of endpoints with an open pool (for status and tests). */
  get openPools(): number {
    return this.#pools.size;
  }

  #open(endpoint: Endpoint): Pool {
    const options = this.#options;
    const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
    const pool = new Pool(`${options.protocol}://${host}:${endpoint.port}`, {
      connections: options.connections,
      pipelining: options.pipelining,
      keepAliveTimeout: options.keepAliveTimeout,
      connect: this.#connect,
    });
    this.#pools.set(endpoint.id, pool);
    return pool;
  }
}

/** What a client tells the transport it creates. */
export interface HttpTransportSettings {
  /** The client's body stall bound in ms (`timeout.bodyTimeout`); `Infinity` for none. Default 300 s (undici's). */
  readonly bodyTimeout?: number;
  /** The client's per-try timeout in ms (`timeout.perTry`), which bounds the headers; `Infinity` for none. Default none. */
  readonly perTry?: number;
}

/** The factory the builder takes: each client gets its own transport (and pools). */
export interface HttpTransportFactory {
  readonly name: string;
  /**
   * The scheme and TLS settings the transport connects with, for adapters
   * and health checks that open their own connections (`meshkit/got`,
   * `.healthCheck()`). Optional for your own factories; without it they
   * speak plain `http`.
   */
  readonly connection?: HttpConnection;
  create(settings?: HttpTransportSettings): Transport<HttpRequest, HttpResponse>;
}

/**
 * The default transport: undici, a keep-alive Pool per endpoint. Options are
 * validated here and throw `ERR_INVALID_CONFIG` naming `transport.<option>`.
 */
export function undiciTransport(options: UndiciTransportOptions = {}): HttpTransportFactory {
  const resolved = resolveOptions(options);
  const connection: HttpConnection = Object.freeze({ protocol: resolved.protocol, tls: resolved.tls, ...(resolved.identity === undefined ? {} : { identity: resolved.identity }) });
  return Object.freeze({ name: 'undici', connection, create: (settings?: HttpTransportSettings) => new UndiciTransport(resolved, settings) });
}
