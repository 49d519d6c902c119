import http, { type ClientRequest, type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Agents, Options, RequestFunction } from 'got';
import type { Client } from '../client/client.js';
import { crossOriginRedirect } from '../client/fetch-facade.js';
import type { AttemptContext } from '../core/attempt.js';
import type { Endpoint } from '../core/endpoint.js';
import { invalidArgument, isMeshkitError } from '../core/errors.js';
import { isIdempotentRequest } from '../core/idempotency.js';
import type { Outcome } from '../core/outcome.js';
import type { IdentityMaterial } from '../security/identity.js';
import { identityTlsOptions, noUsableIdentity, usableMaterial } from '../security/client-connector.js';
import type { ConnectionIdentity, HttpConnection } from '../transports/connection.js';
import { withAttemptHeaders } from '../transports/deadline-header.js';
import type { HttpHeaders } from '../transports/http-types.js';
import { isReplayable, writeBody, type GotBody } from './body.js';
import type { BodyCut, BodyGuards } from './body-guard.js';

/** What one got request needs from the adapter to govern its attempts. */
export interface GovernedRequestSettings {
  readonly client: Client;
  /** got's request function before the adapter replaced it (the user's own, or undefined for http/https). */
  readonly send: RequestFunction | undefined;
  /** got's options of this request: the body is read from here, after got serialised it. */
  readonly options: Options;
  /** Classifies a response status like `client.request` does. */
  readonly classifyStatus: (status: number) => Outcome;
  /** An explicit idempotency decision (`context.meshkit.idempotent`); undefined to decide from method and headers. */
  readonly idempotent: boolean | undefined;
  /** got's `timeout.request`, which becomes the call's total timeout; undefined when not set. */
  readonly timeoutMs: number | undefined;
  /** The caller's abort signal (got's `signal` option). */
  readonly signal: AbortSignal | undefined;
  /** Routing key for hash-based balancers. */
  readonly key: string | undefined;
  /** Named subset to send to. */
  readonly subset: string | undefined;
  /**
   * The scheme and TLS options of the client's transport, used by every
   * attempt whatever the scheme of got's URL. Default (a transport that does
   * not describe itself): got's URL and `https` options decide.
   */
  readonly connection?: HttpConnection | undefined;
  /**
   * Bounds the final response's body by the call's deadline, the caller's
   * signal and the per-try timeout (stalls), recording why a body was cut
   * in `cut`. Default: the body is not bounded once its head has arrived.
   */
  readonly bodies?: { readonly guards: BodyGuards; readonly cut: BodyCut } | undefined;
}

/** Methods that carry a body: in stream mode without a `body` option, got would forward the caller's writes, which meshkit never sends. */
const WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

/** Methods whose body got drops on a 303 (or 301/302 with method rewriting): a redirect that becomes a GET sends none. */
const BODYLESS = new Set(['GET', 'HEAD']);

function isClientRequest(value: unknown): value is ClientRequest {
  return typeof value === 'object' && value !== null && typeof (value as ClientRequest).end === 'function'
    && typeof (value as ClientRequest).once === 'function' && typeof (value as ClientRequest).setHeader === 'function';
}

/** The endpoint's URL for this attempt: got's URL with the transport's scheme and the host and port of the endpoint meshkit picked. */
function endpointUrl(url: URL, endpoint: Endpoint, connection: HttpConnection | undefined): URL {
  const target = new URL(url);
  if (connection !== undefined) target.protocol = `${connection.protocol}:`;
  target.hostname = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  target.port = String(endpoint.port);
  return target;
}

/**
 * got users read `RequestError.code` (`ECONNREFUSED`, a TLS code): an
 * upstream failure reaches got as Node raised it, for got to wrap as usual;
 * meshkit's own errors (deadline, abort, no endpoints) reach it as they are.
 */
function nativeError(error: unknown): never {
  throw isMeshkitError(error, 'ERR_UPSTREAM') && error.cause !== undefined ? error.cause : error;
}

/** TLS options per identity version and peer, so that attempts on one version share one object (and one agent pool). */
const tlsByMaterial = new WeakMap<IdentityMaterial, { readonly peerService: string; readonly tls: ReturnType<typeof identityTlsOptions> }>();

/**
 * The mutual TLS options of one attempt: the identity's current leaf, its
 * roots only and the peer's SPIFFE ID check. Throws `ERR_PEER_IDENTITY`
 * (blame local) when no leaf may be presented (none loaded, or expired).
 */
function mutualTls(mtls: ConnectionIdentity): ReturnType<typeof identityTlsOptions> {
  const material = usableMaterial(mtls.identity);
  if (material === undefined) throw noUsableIdentity(mtls.identity, mtls.identity.current());
  const cached = tlsByMaterial.get(material);
  if (cached !== undefined && cached.peerService === mtls.peerService) return cached.tls;
  const tls = identityTlsOptions(material, mtls.peerService);
  tlsByMaterial.set(material, { peerService: mtls.peerService, tls });
  return tls;
}

/** Sends one attempt and resolves with the response head (the body is left for got to read). */
function attemptOnce(
  settings: GovernedRequestSettings,
  url: URL,
  native: Parameters<RequestFunction>[1],
  body: GotBody,
  endpoint: Endpoint,
  attempt: AttemptContext,
): Promise<IncomingMessage> {
  const signal = attempt.signal;
  if (signal.aborted) return Promise.reject(signal.reason);
  const connection = settings.connection;
  let identityTls: ReturnType<typeof identityTlsOptions> | undefined;
  try {
    identityTls = connection?.identity === undefined ? undefined : mutualTls(connection.identity);
  } catch (error) {
    return Promise.reject(error);
  }
  const target = endpointUrl(url, endpoint, connection);
  const headers = withAttemptHeaders(native.headers as HttpHeaders | undefined, attempt.outboundHeaders, attempt.deadline - attempt.startedAt);
  const attemptOptions = connection === undefined
    ? { ...native, headers: headers as Record<string, string>, signal }
    : {
      ...native,
      // The transport's TLS options win over got's `https` options, which fill in what the transport leaves unset.
      ...connection.tls,
      // An identity owns certificates, roots and the peer check (the transport allows no `tls` keys that clash).
      ...identityTls,
      // got chose its agent by the scheme of its own URL; the transport's scheme decides here.
      agent: (settings.options.agent as Agents)[connection.protocol],
      headers: headers as Record<string, string>,
      signal,
    } as typeof native;
  return (async () => {
    let made: unknown = settings.send?.(target, attemptOptions);
    if (made instanceof Promise) made = await made;
    if (made === undefined) made = (target.protocol === 'https:' ? https.request : http.request)(target, attemptOptions);
    if (!isClientRequest(made)) return made as IncomingMessage; // a custom request function answered by itself
    const request = made;
    return new Promise<IncomingMessage>((resolve, reject) => {
      request.once('response', resolve);
      // `on`, not `once`: a body cut short later destroys the socket, which errors the request again.
      request.on('error', reject);
      writeBody(request, body);
    });
  })();
}

/**
 * got's `request` option for one got request: each call of it (the request,
 * and each redirect) is one governed meshkit call whose attempts go to the
 * endpoints meshkit picks. The response head is classified like
 * `client.request` (a 503 is a retryable failure); the final response goes
 * back to got, which reads the body, runs its hooks and throws its
 * `HTTPError` as usual.
 */
export function governedRequest(settings: GovernedRequestSettings): RequestFunction {
  const { client, options } = settings;
  // The origin of the request as asked: redirects are followed within it only (its host names the service).
  let origin: string | undefined;
  return (url, native) => {
    origin ??= url.origin;
    if (url.origin !== origin) {
      // Sent to the service's endpoints, it would answer in another origin's name: refused, as client.fetch does.
      return Promise.reject(crossOriginRedirect(client.name, url.origin, { service: client.name, location: url.href }));
    }
    const method = (native.method ?? 'GET').toUpperCase();
    if (options.isStream && options.body === undefined && WITH_BODY.has(method)) {
      // The request is sent at once: what the caller writes into the stream afterwards would be lost.
      return Promise.reject(invalidArgument('body', `the request body as got's \`body\`, \`json\` or \`form\` option (writing into a ${method} stream is not supported)`, undefined));
    }
    const body = BODYLESS.has(method) && !BODYLESS.has(options.method.toUpperCase()) ? undefined : (options.body as GotBody);
    const replayable = isReplayable(body);
    // A stream is sent by meshkit, once; got must not pipe it a second time into its (unused) request.
    if (!replayable) options.body = Buffer.alloc(0);
    const idempotent = isIdempotentRequest(method, native.headers, settings.idempotent);
    let deadline = Infinity;
    const response = client.call<IncomingMessage>((endpoint, attempt) => {
      deadline = attempt.deadline;
      return attemptOnce(settings, url, native, body, endpoint, attempt);
    }, {
      idempotent,
      replayable,
      signal: settings.signal,
      timeout: settings.timeoutMs,
      key: settings.key,
      subset: settings.subset,
      classify: (response) => settings.classifyStatus(response.statusCode ?? 0),
      discard: (discarded) => {
        discarded.resume();
      },
    }).catch(nativeError);
    const bodies = settings.bodies;
    if (bodies === undefined) return response;
    return response.then((head) => {
      bodies.guards.watch(head, deadline, settings.signal, bodies.cut);
      return head;
    });
  };
}
