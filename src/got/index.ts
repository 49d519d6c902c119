/**
 * `meshkit/got`: a got instance whose requests go through a meshkit client.
 * @packageDocumentation
 */
import http from 'node:http';
import https from 'node:https';
import { got as defaultGot, type Got, type Options } from 'got';
import { settledWithin } from '../client/bounded-wait.js';
import type { Client } from '../client/client.js';
import { invalidConfig, MeshkitError } from '../core/errors.js';
import { checkOptions } from '../core/options.js';
import { HttpStatusClassifier } from '../transports/http-classifier.js';
import { reportBodyCut } from './body-error.js';
import { BodyGuards, type BodyCut } from './body-guard.js';
import { readContext, type GotMeshkitContext } from './context.js';
import { governedRequest } from './governed-request.js';
import { releaseIdleSockets } from './idle-sockets.js';

/** Options of {@link meshkitGot}. */
export interface MeshkitGotOptions {
  /**
   * The got instance to extend: its defaults, hooks and handlers are kept.
   * Default: got's default export.
   */
  readonly got?: Got;
  /**
   * `prefixUrl` of the instance. The host of a request URL is never
   * contacted (the client's endpoints are), so it only names the service;
   * the scheme is always the transport's. Default `<scheme>://<service name>`
   * (for example `http://orders`, or `https://orders` on an https
   * transport), so `api.get('v1/orders/42')` works.
   */
  readonly prefixUrl?: string;
}

const CONTEXT_KEY = 'meshkit';
const IDLE_MS = 4000;

function defaultPrefix(name: string, scheme: string): string | undefined {
  try {
    return new URL(`${scheme}://${name}`).origin;
  } catch {
    return undefined;
  }
}

/**
 * Returns a got instance (`got.extend` with a handler) whose requests go
 * through `client`: discovery picks the endpoints, the balancer picks one
 * per attempt, and the client's policies, per-try timeout, deadline, retries
 * (with their budget), hedging, breakers and outlier detection apply. got's
 * own retry is off (`retry.limit` 0, forced per request) so meshkit's budgets
 * hold. got's hooks, `responseType`, `.json()` / `.text()` / `.buffer()`,
 * `HTTPError` and download streams (`api.stream(...)`) work as usual.
 * Redirects are followed within the request's origin only: one to another
 * origin fails with `ERR_REDIRECT`, nothing sent. A `POST`, `PUT` or `PATCH`
 * stream takes its body as got's `body` / `json` / `form` option only:
 * without one it fails with `ERR_INVALID_ARGUMENT`, nothing sent (writes
 * into the stream would never be forwarded).
 *
 * Each attempt sends the `x-meshkit-deadline` header (the call's remaining
 * time) and the trace headers telemetry adds; got's `signal` aborts the call;
 * got's `timeout.request` becomes the call's total timeout (the tighter of it
 * and the client's wins). The deadline and the signal also cover the body
 * read after the headers (`ERR_DEADLINE_EXCEEDED`, `ERR_ABORTED`), and a
 * body that receives nothing for the client's `timeout.perTry` fails with
 * `ERR_TIMEOUT`, noticed within twice that; each closes the socket. A 5xx
 * in the client's retryable statuses (default 502, 503, 504) is retried on
 * another endpoint when the request is idempotent, exactly as
 * `client.request` does.
 *
 * Per-request meshkit options go in got's context:
 * `api.post('v1/orders', { json, context: { meshkit: { idempotent: true } } })`;
 * an unknown key or a value of the wrong type fails the request with
 * `ERR_INVALID_ARGUMENT` naming `context.meshkit.<key>`, nothing sent.
 *
 * Connections: the scheme and TLS options of the client's transport
 * (`undiciTransport({ protocol: 'https', tls })`: CA, client certificate,
 * `servername`, `rejectUnauthorized`), whatever the scheme of got's URL
 * (a transport factory without `connection` leaves them to got's URL and
 * `https` options); with `.identity(id)` on the client, mutual TLS as
 * `client.request` does it (the current leaf, only the identity's roots,
 * the peer's SPIFFE ID checked, an expired leaf never presented:
 * `ERR_PEER_IDENTITY`); keep-alive agents per instance (unless the request sets got's `agent`);
 * idle sockets to an endpoint that left the set are closed, and the agents
 * are destroyed when the client closes (got bodies still being read are cut
 * then, failing with `ERR_CLIENT_CLOSED`).
 */
export function meshkitGot(client: Client, options: MeshkitGotOptions = {}): Got {
  if (client === null || typeof client !== 'object' || typeof client.call !== 'function') {
    throw invalidConfig('client', 'a meshkit Client', client);
  }
  checkOptions(options, 'options', ['got', 'prefixUrl']);
  const base = options.got ?? defaultGot;
  if (typeof base !== 'function' || typeof base.extend !== 'function') throw invalidConfig('options.got', 'a got instance', base);
  // A transport of your own that does not describe itself leaves the scheme and TLS to got's URL and options.
  const connection = client.config.transport.connection;
  const prefixUrl = options.prefixUrl ?? defaultPrefix(client.name, connection?.protocol ?? 'http');
  if (prefixUrl !== undefined && typeof prefixUrl !== 'string') throw invalidConfig('options.prefixUrl', 'a URL string', prefixUrl);

  const statuses = new HttpStatusClassifier(client.config.retry.statuses);
  const classifyStatus = (status: number) => statuses.classify(status);
  // Idle sockets close after 4 s, undici's keep-alive default, as the client.request pools do.
  // With an identity, TLS sessions are not resumed: a resumed session would skip the peer's SPIFFE check.
  const sessions = connection?.identity === undefined ? {} : { maxCachedSessions: 0 };
  const agent = { http: new http.Agent({ keepAlive: true, timeout: IDLE_MS }), https: new https.Agent({ keepAlive: true, timeout: IDLE_MS, ...sessions }) };
  // This client's changes only: another client of the same service name has endpoints of its own.
  const unsubscribe = client.onEndpointsChanged((message) => {
    if (message.removed.length === 0) return;
    releaseIdleSockets(agent.http, message.removed);
    releaseIdleSockets(agent.https, message.removed);
  });
  const guards = new BodyGuards(client.name, client.config.clock, client.config.timeouts.perTry);
  client.onClose(async (closing) => {
    unsubscribe();
    // Bodies still being read get what is left of close()'s bound, as the client's own do; the rest are cut
    // (their sockets go with the agents), saying why rather than ECONNRESET.
    await settledWithin(guards.clock, guards.idle(), closing.closeBy - guards.clock.now());
    guards.close(new MeshkitError('ERR_CLIENT_CLOSED', `${client.name}: the client closed while the response body was being read`, { service: client.name }));
    agent.http.destroy();
    agent.https.destroy();
  });

  return base.extend({
    ...(prefixUrl === undefined ? {} : { prefixUrl }),
    agent,
    retry: { limit: 0 },
    handlers: [
      (gotOptions, next) => {
        // Retries are meshkit's: got retrying on top would multiply attempts past the budget.
        gotOptions.retry = { ...gotOptions.retry, limit: 0 };
        let context: GotMeshkitContext;
        try {
          context = readContext(gotOptions.context, CONTEXT_KEY);
        } catch (error) {
          // Failed as the request, like any refusal before sending: got's RequestError with the MeshkitError as cause, nothing sent.
          gotOptions.request = () => Promise.reject(error);
          return next(gotOptions);
        }
        const timeoutMs = gotOptions.timeout.request;
        // Why meshkit cut this request's body short, if it does: first in line, so the user's hooks see it too.
        const cut: BodyCut = { reason: undefined };
        gotOptions.hooks.beforeError.unshift((error) => reportBodyCut(error, cut));
        gotOptions.request = governedRequest({
          client,
          send: gotOptions.request,
          options: gotOptions,
          classifyStatus,
          idempotent: context.idempotent,
          timeoutMs,
          signal: gotOptions.signal as AbortSignal | undefined,
          key: context.key,
          subset: context.subset,
          connection,
          bodies: { guards, cut },
        });
        return next(gotOptions);
      },
    ],
  });
}

export { governedRequest, type GovernedRequestSettings } from './governed-request.js';
export type { GotMeshkitContext } from './context.js';
