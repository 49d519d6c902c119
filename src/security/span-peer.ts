import { loadedTraceApi, loadTraceApi } from '../server/trace-context.js';

/**
 * Starts importing the optional `@opentelemetry/api` (once per process, shared
 * with the inbound trace context); never rejects.
 */
export function loadSpanApi(): Promise<void> {
  return loadTraceApi();
}

/**
 * Sets `peer.service` on the active span (the server span an HTTP
 * instrumentation made for the request), when there is one and the API is
 * loaded; otherwise does nothing.
 */
export function markPeerOnSpan(service: string): void {
  loadedTraceApi()?.trace.getActiveSpan()?.setAttribute('peer.service', service);
}
