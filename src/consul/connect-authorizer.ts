import { LRUCache } from 'lru-cache';
import { parsePositiveDuration, type Duration } from '../core/duration.js';
import { checkOptions, readChoice, readNumber } from '../core/options.js';
import type { AuthorizationDecision, Authorizer } from '../security/authorizer.js';
import type { Peer } from '../security/peer.js';
import { ConnectHttp } from './connect-http.js';
import { resolveConsulOptions, type ConsulOptions } from './options.js';

/** Options of {@link connectAuthorizer}. */
export interface ConnectAuthorizerOptions extends Pick<ConsulOptions, 'address' | 'datacenter' | 'token' | 'tls' | 'clock'> {
  /** This service: the intention's destination. Required. */
  readonly service: string;
  /**
   * How long a decision is reused before Consul is asked again: the bound on
   * how late an intention change takes effect. Default `'2s'`.
   */
  readonly cacheTtl?: Duration;
  /** Distinct callers (certificates) whose decisions are cached. Default 10000. */
  readonly maxEntries?: number;
  /**
   * What to decide when the agent cannot answer: `'deny'` (fail closed) or
   * `'allow'` (fail open: availability over authorization). Default `'deny'`.
   */
  readonly onError?: 'deny' | 'allow';
  /** How long one authorize request may take. Default `'2s'`. */
  readonly timeout?: Duration;
}

const KNOWN = ['service', 'address', 'datacenter', 'token', 'tls', 'clock', 'cacheTtl', 'maxEntries', 'onError', 'timeout'];

/** A failed lookup is remembered this long at most, so an agent outage is not hammered once per request. */
const ERROR_TTL_MS = 1000;

/**
 * An {@link Authorizer} backed by Consul intentions: asks the local agent's
 * `/v1/agent/connect/authorize` whether the caller's certificate (SPIFFE ID
 * and serial) may call `service`, and caches each decision in an LRU cache
 * for `cacheTtl` (default 2 s) so that the request path costs a map lookup;
 * concurrent requests of one uncached caller share one lookup. When the agent
 * cannot answer, `onError` decides (default `'deny'`: fail closed), and that
 * decision is kept at most 1 s. Throws `ERR_INVALID_CONFIG` naming
 * `connectAuthorizer.<option>`.
 */
export function connectAuthorizer(options: ConnectAuthorizerOptions): Authorizer {
  const raw = checkOptions(options, 'connectAuthorizer', KNOWN);
  const ttlMs = parsePositiveDuration(raw['cacheTtl'] ?? '2s', 'connectAuthorizer.cacheTtl');
  const timeoutMs = parsePositiveDuration(raw['timeout'] ?? '2s', 'connectAuthorizer.timeout');
  const maxEntries = readNumber(raw['maxEntries'], 'connectAuthorizer.maxEntries', 10_000, { min: 1, integer: true });
  const onError = readChoice(raw['onError'], 'connectAuthorizer.onError', ['deny', 'allow'] as const, 'deny');
  const consulOptions = Object.fromEntries(Object.entries(raw).filter(([key]) => ['service', 'address', 'datacenter', 'token', 'tls', 'clock'].includes(key)));
  const resolved = resolveConsulOptions(consulOptions as unknown as ConsulOptions);
  const clock = resolved.clock;
  const http = new ConnectHttp(resolved);
  const cache = new LRUCache<string, AuthorizationDecision>({ max: maxEntries, ttl: ttlMs, ttlAutopurge: false, perf: { now: () => clock.now() } });
  const pending = new Map<string, Promise<AuthorizationDecision>>();

  const lookup = async (peer: Peer, key: string): Promise<AuthorizationDecision> => {
    try {
      const answer = await http.request('POST', '/v1/agent/connect/authorize', {}, timeoutMs, {
        Target: resolved.service, ClientCertURI: peer.spiffeId, ClientCertSerial: peer.serialNumber,
      });
      const body = answer.body as { Authorized?: unknown; Reason?: unknown } | null;
      if (answer.status !== 200 || typeof body !== 'object' || body === null || typeof body.Authorized !== 'boolean') {
        throw new Error(`the agent answered ${answer.status}: ${JSON.stringify(answer.body).slice(0, 200)}`);
      }
      const decision = Object.freeze({ allowed: body.Authorized, reason: typeof body.Reason === 'string' ? body.Reason : '' });
      cache.set(key, decision);
      return decision;
    } catch (error) {
      const decision = Object.freeze({ allowed: onError === 'allow', reason: `connectAuthorizer: Consul could not decide (${(error as Error).message}); onError is '${onError}'` });
      cache.set(key, decision, { ttl: Math.min(ttlMs, ERROR_TTL_MS) });
      return decision;
    } finally {
      pending.delete(key);
    }
  };

  return Object.freeze({
    authorize(peer: Peer): AuthorizationDecision | Promise<AuthorizationDecision> {
      const key = `${peer.spiffeId}#${peer.serialNumber}`;
      const cached = cache.get(key);
      if (cached !== undefined) return cached;
      let inFlight = pending.get(key);
      if (inFlight === undefined) {
        inFlight = lookup(peer, key);
        pending.set(key, inFlight);
      }
      return inFlight;
    },
    close(): void {
      http.close();
      cache.clear();
    },
  });
}
