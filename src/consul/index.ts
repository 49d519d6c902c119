/**
 * Consul discovery and self-registration for meshkit (`meshkit/consul`).
 * Needs the `consul` package (an optional peer dependency).
 * @packageDocumentation
 */
import type { Resolver, ResolverListener } from '../discovery/resolver.js';
import { filterResolver } from '../discovery/endpoint-filter.js';
import { sharedResolver } from '../discovery/shared-watch.js';
import type { HealthCheck, Registrar, Registration, ServiceInstance } from '../registration/registrar.js';
import { resolveConsulOptions, type ConsulOptions } from './options.js';
import { DEFAULT_CONSUL_CHECK, registerInConsul } from './registrar.js';
import { ConsulWatchSource } from './watch.js';

export type { ConsulBackoffOptions, ConsulOptions, ConsulTlsOptions } from './options.js';
export { DEFAULT_CONSUL_CHECK } from './registrar.js';
export { healthEntryToEndpoint, nextIndex, parseHealthAnswer, ConsulAnswerError, type ParsedHealth } from './parse.js';
export type { RejectedEntry } from '../discovery/shared-watch.js';
export { connectIdentity, type ConnectIdentityOptions } from './connect-identity.js';
export { connectAuthorizer, type ConnectAuthorizerOptions } from './connect-authorizer.js';

/** A Consul provider: a {@link Resolver} for `client(...).discovery(...)` and a {@link Registrar} for `register(...)`. */
export interface ConsulProvider extends Resolver, Registrar {
  readonly kind: 'consul';
  /** The watch identity: providers with equal options share one watch. */
  readonly key: string;
}

/**
 * Consul discovery and registration against one agent.
 *
 * As a resolver it watches `/v1/health/service/<service>` with blocking
 * queries; every client built from providers with equal options shares one
 * watch (a different token or TLS material is a different watch). Invalid
 * instances (port 0, an unspecified address such as `0.0.0.0`, ...) are
 * rejected one by one; an answer with no valid instance keeps the last good
 * set and reports a `RejectedAnswerError`. As a registrar,
 * `register(instance, check?)` puts an instance in the agent (default check
 * {@link DEFAULT_CONSUL_CHECK}: TTL 10 s kept passing by meshkit,
 * deregistered 1 min after turning critical).
 *
 * Options are validated at once (`ERR_INVALID_CONFIG` naming the option);
 * defaults are listed on {@link ConsulOptions}.
 */
export function consul(options: ConsulOptions): ConsulProvider {
  const resolved = resolveConsulOptions(options);
  const shared = sharedResolver(new ConsulWatchSource(resolved));
  const resolver = resolved.endpointFilter === undefined ? shared : filterResolver(shared, resolved.endpointFilter, 'consul.endpointFilter');
  return Object.freeze({
    kind: 'consul' as const,
    key: resolved.key,
    source: resolver.source,
    subscribe: (listener: ResolverListener) => resolver.subscribe(listener),
    refresh: () => resolver.refresh?.(),
    register: (instance: ServiceInstance, check?: HealthCheck): Promise<Registration> =>
      registerInConsul(resolved, instance, check ?? DEFAULT_CONSUL_CHECK),
  });
}
