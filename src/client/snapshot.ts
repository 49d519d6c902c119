import type { EndpointLoad } from '../balancing/balancer.js';
import type { EndpointStatus } from '../core/client-snapshot.js';
import type { EndpointsSnapshot } from '../attempts/endpoint-state.js';

// The snapshot's types are core's (observers receive a snapshot); the client builds it here.
export type { ClientSnapshot, EndpointStatus } from '../core/client-snapshot.js';

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
