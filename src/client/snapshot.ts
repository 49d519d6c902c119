import type { EndpointLoad } from '../balancing/balancer.js';
import type { ClientIdentityStatus, EndpointStatus } from '../core/client-snapshot.js';
import type { HttpConnection } from '../transports/connection.js';
import type { EndpointsSnapshot } from '../attempts/endpoint-state.js';

// The snapshot's types are core's (observers receive a snapshot); the client builds it here.
export type { ClientIdentityStatus, ClientSnapshot, EndpointStatus } from '../core/client-snapshot.js';

/**
 * The snapshot's `identity` field: the identity's own status (read when a
 * snapshot is taken, never per call) with the expiry as JSON; an empty
 * object without an identity, so that the field is absent.
 */
export function identityField(connection: HttpConnection | undefined, now: number): { identity?: ClientIdentityStatus } {
  const mtls = connection?.identity;
  if (mtls === undefined) return {};
  const status = mtls.identity.status();
  return {
    identity: {
      kind: status.kind,
      spiffeId: status.spiffeId,
      peerService: mtls.peerService,
      notAfter: status.notAfter?.toISOString(),
      expiresInMs: status.notAfter === undefined ? undefined : status.notAfter.getTime() - now,
      stale: status.stale,
      lastError: status.lastError,
      version: status.version,
    },
  };
}

/** Joins discovery, health and balancer views into one row per endpoint. */
export function endpointStatuses(view: EndpointsSnapshot): EndpointStatus[] {
  const health = new Map(view.health.map((h) => [h.id, h]));
  const loads = new Map<string, EndpointLoad>(view.load.map((l) => [l.id, l]));
  const available = new Set(view.available.map((e) => e.id));
  return view.endpoints.map((endpoint) => {
    const h = health.get(endpoint.id);
    const load = loads.get(endpoint.id);
    return {
      id: endpoint.id,
      host: endpoint.host,
      port: endpoint.port,
      zone: endpoint.zone,
      weight: endpoint.weight,
      available: available.has(endpoint.id),
      inFlight: load?.inFlight,
      latencyMs: load?.latencyMs,
      load: load?.load,
      ejected: h?.ejected ?? false,
      ejectionReason: h?.reason,
      ejectedForMs: h?.ejectedForMs,
      ejections: h?.ejections ?? 0,
      circuit: h?.circuit,
      slowStartFactor: h?.slowStartFactor,
    };
  });
}
