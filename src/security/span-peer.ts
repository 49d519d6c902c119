type OtelApi = typeof import('@opentelemetry/api');

/** `undefined` until the import settles; `null` without `@opentelemetry/api`. */
let api: OtelApi | null | undefined;
let loading: Promise<void> | undefined;

/** Starts importing the optional `@opentelemetry/api` (once per process); never rejects. */
export function loadSpanApi(): Promise<void> {
  loading ??= import('@opentelemetry/api').then((module) => {
    api = module;
  }, () => {
    api = null;
  });
  return loading;
}

/**
 * Sets `peer.service` on the active span (the server span an HTTP
 * instrumentation made for the request), when there is one and the API is
 * loaded; otherwise does nothing.
 */
export function markPeerOnSpan(service: string): void {
  if (api === undefined || api === null) return;
  api.trace.getActiveSpan()?.setAttribute('peer.service', service);
}
