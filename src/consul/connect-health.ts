import type Consul from 'consul';

/** A papi request stage (see registrar.ts). */
type Stage = (request: { err?: Error; res?: { body?: unknown } }, next: (stop: false, error?: Error, value?: unknown) => void) => void;
interface PapiGet {
  _get(request: Record<string, unknown>, ...stages: Stage[]): Promise<unknown>;
}

/** Resolves with `[response, body]`, as health.service does with `includeResponse`. */
const withResponse: Stage = (request, next) => (request.err === undefined ? next(false, undefined, [request.res, request.res?.body]) : next(false, request.err));

/**
 * `/v1/health/connect/<service>`: the Connect-capable instances of a
 * service only, Connect-native ones and sidecar proxies (listed with the
 * proxy's address and port, where mTLS is spoken). The `consul` package has
 * no method for it, so it goes through the package's own request pipeline
 * with the same query fields `health.service` sends.
 */
export function connectHealth(consul: Consul, query: Readonly<Record<string, unknown>>, service: string, token: string | undefined): Promise<unknown> {
  const { ctx, passing, service: _service, ...rest } = query;
  const request: Record<string, unknown> = {
    name: 'health.connect',
    path: '/health/connect/{service}',
    params: { service },
    query: { ...rest, ...(passing === true ? { passing: 'true' } : {}) },
    headers: token === undefined ? {} : { 'x-consul-token': token },
    ctx,
  };
  return (consul as unknown as PapiGet)._get(request, withResponse);
}
