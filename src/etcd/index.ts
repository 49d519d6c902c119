/**
 * etcd discovery and self-registration for meshkit: `import { etcd } from 'meshkit/etcd'`.
 * Needs the `etcd3` package (an optional peer dependency).
 * @packageDocumentation
 */
import type { Resolver } from '../discovery/resolver.js';
import { filterResolver } from '../discovery/endpoint-filter.js';
import { sharedResolver } from '../discovery/shared-watch.js';
import type { Registrar } from '../registration/registrar.js';
import { resolveEtcdOptions, type EtcdOptions } from './options.js';
import { etcdRegistrar } from './registrar.js';
import { etcdWatchSource } from './watch.js';

export { parseEtcdValue, encodeInstance, type EtcdEndpointValue, type RejectedEtcdEntry } from './entry.js';
export { defaultPrefix, type EtcdAuth, type EtcdBackoffOptions, type EtcdCredentials, type EtcdOptions } from './options.js';

/** What `etcd(...)` returns: a resolver for `client(...).discovery(...)` and a registrar for `register(...)`. */
export interface EtcdProvider extends Resolver, Registrar {}

/**
 * etcd as a registry. As a {@link Resolver}: reads every key under
 * `prefix` (one JSON endpoint per key), then watches it, pushing the whole
 * set after each change; clients with equal hosts, prefix and credentials
 * share one watch. While etcd is unreachable the last good set stays in use
 * (clients report it stale) and meshkit re-syncs with full-jitter backoff;
 * bad values (not JSON, port 0, an unspecified address such as `0.0.0.0`, ...)
 * are left out one by one (`discoveryRejected`), and a prefix whose every
 * value is bad keeps the last good set (a `RejectedAnswerError`). As a
 * {@link Registrar}: `register(provider, instance)` writes the instance under
 * a lease meshkit keeps alive and revokes on `deregister()`.
 *
 * Options are validated at once (`ERR_INVALID_CONFIG`); see {@link EtcdOptions} for defaults.
 */
export function etcd(options: EtcdOptions): EtcdProvider {
  const settings = resolveEtcdOptions(options);
  const shared = sharedResolver(etcdWatchSource(settings));
  const resolver = settings.endpointFilter === undefined ? shared : filterResolver(shared, settings.endpointFilter, 'etcd.endpointFilter');
  const registrar = etcdRegistrar(settings);
  return Object.freeze({
    source: resolver.source,
    subscribe: resolver.subscribe,
    ...(resolver.refresh === undefined ? {} : { refresh: resolver.refresh }),
    kind: registrar.kind,
    register: registrar.register,
  });
}
