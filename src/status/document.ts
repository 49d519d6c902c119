import type { ClientSnapshot, EndpointStatus } from '../client/snapshot.js';
import { clientKeys, type LatencyHistory, type LatencySample } from './history.js';
import type { StatusHandlerSettings } from './options.js';

/** One client in a {@link StatusDocument}: its snapshot, bounded, with each endpoint's recent latency. */
export interface StatusClient extends ClientSnapshot {
  /** The service name, with `#2`, `#3`... for later clients of the same name. */
  readonly key: string;
  /** Endpoints left out of `endpoints` by `maxEndpoints`. */
  readonly omittedEndpoints: number;
  /** Recent latency samples per endpoint id, oldest first (see `sampleInterval`, `historySize`). */
  readonly history: Readonly<Record<string, readonly LatencySample[]>>;
}

/** What `GET <base>/snapshot.json` returns. */
export interface StatusDocument {
  /** Wall-clock time of the document (ISO 8601). */
  readonly takenAt: string;
  /** How often the page polls, ms. */
  readonly refreshMs: number;
  /** How often the handler samples latency, ms; null when it samples on request only. */
  readonly sampleIntervalMs: number | null;
  /** Samples kept per endpoint. */
  readonly historySize: number;
  readonly clients: readonly StatusClient[];
  /** Clients left out by `maxClients`. */
  readonly omittedClients: number;
}

/**
 * At most `max` endpoints, keeping the original order: those out of rotation
 * (ejected, not available, ramping up) first, since they are what an operator
 * looks for, then the others in order.
 */
export function limitEndpoints(endpoints: readonly EndpointStatus[], max: number): readonly EndpointStatus[] {
  if (endpoints.length <= max) return endpoints;
  const keep = new Set<EndpointStatus>();
  for (const e of endpoints) if (keep.size < max && (e.ejected || !e.available || e.slowStartFactor !== undefined)) keep.add(e);
  for (const e of endpoints) if (keep.size < max) keep.add(e);
  return endpoints.filter((e) => keep.has(e));
}

/** The snapshots to show: bounded in clients and endpoints per client. */
export function boundedSnapshots(snapshots: readonly ClientSnapshot[], settings: StatusHandlerSettings): ClientSnapshot[] {
  return snapshots.slice(0, settings.maxClients).map((s) => {
    const endpoints = limitEndpoints(s.endpoints, settings.maxEndpoints);
    return endpoints === s.endpoints ? s : { ...s, endpoints };
  });
}

/** Joins bounded snapshots with their history into the document the page polls. */
export function statusDocument(
  all: readonly ClientSnapshot[],
  shown: readonly ClientSnapshot[],
  keys: readonly string[],
  history: LatencyHistory,
  settings: StatusHandlerSettings,
  now: number,
): StatusDocument {
  const clients = shown.map((snapshot, i): StatusClient => {
    const key = keys[i] as string;
    const full = all[i] as ClientSnapshot;
    return {
      ...snapshot,
      key,
      omittedEndpoints: full.endpoints.length - snapshot.endpoints.length,
      history: Object.fromEntries(snapshot.endpoints.map((e) => [e.id, history.samples(key, e.id)])),
    };
  });
  return {
    takenAt: new Date(now).toISOString(),
    refreshMs: settings.refreshMs,
    sampleIntervalMs: settings.sampleIntervalMs ?? null,
    historySize: history.size,
    clients,
    omittedClients: all.length - shown.length,
  };
}

export { clientKeys };
