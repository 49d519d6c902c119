/**
 * Attribute names and value rules from the OpenTelemetry HTTP client
 * semantic conventions (stable since v1.23; checked against v1.26+), and
 * meshkit's own attributes. Written out here because `meshkit/otel` may
 * import only `@opentelemetry/api`.
 */
import { isMeshkitError } from '../core/errors.js';

export const ATTR = Object.freeze({
  method: 'http.request.method',
  methodOriginal: 'http.request.method_original',
  resendCount: 'http.request.resend_count',
  statusCode: 'http.response.status_code',
  urlFull: 'url.full',
  urlTemplate: 'url.template',
  serverAddress: 'server.address',
  serverPort: 'server.port',
  errorType: 'error.type',
  service: 'meshkit.service',
  attempt: 'meshkit.attempt',
  attempts: 'meshkit.attempts',
  hedge: 'meshkit.hedge',
  hedges: 'meshkit.hedges',
  endpointId: 'meshkit.endpoint.id',
  cancelled: 'meshkit.cancelled',
  outcome: 'meshkit.outcome',
  attemptKind: 'meshkit.attempt.kind',
  policy: 'meshkit.policy',
  breakerState: 'meshkit.breaker.state',
  retryBudgetExhausted: 'meshkit.retry_budget.exhausted',
});

/** Methods the conventions call "known"; others are reported as `_OTHER` with the original kept. Case-sensitive. */
const KNOWN_METHODS: ReadonlySet<string> = new Set(['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'TRACE']);

/** `http.request.method` for `method`: itself when known, else `_OTHER`. */
export function semconvMethod(method: string): string {
  return KNOWN_METHODS.has(method) ? method : '_OTHER';
}

/** The HTTP span name: `{method} {url.template}` when the template is known, `{method}` otherwise, `HTTP` for unknown methods. */
export function httpSpanName(method: string, template: string | undefined): string {
  const name = KNOWN_METHODS.has(method) ? method : 'HTTP';
  return template === undefined ? name : `${name} ${template}`;
}

/**
 * `error.type` for an error: its `code` when it has a short string one
 * (`ERR_TIMEOUT`, `ECONNREFUSED`, `UND_ERR_SOCKET`; for `ERR_UPSTREAM`, its
 * cause's), else its class name,
 * else `_OTHER` (the conventions' fallback). Low cardinality by construction.
 */
export function errorType(error: unknown): string {
  // An upstream failure's most specific type is its cause's (`ECONNREFUSED`, `UND_ERR_SOCKET`).
  if (isMeshkitError(error, 'ERR_UPSTREAM') && error.cause !== undefined) return errorType(error.cause);
  if (error !== null && typeof error === 'object') {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '' && code.length <= 64) return code;
    const name = (error as { constructor?: { name?: unknown } }).constructor?.name;
    if (typeof name === 'string' && name !== '' && name !== 'Object') return name;
  }
  return '_OTHER';
}

/** The status code of an HTTP-like response, or 0. */
export function statusOf(response: unknown): number {
  if (response === null || typeof response !== 'object') return 0;
  const status = (response as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' ? status : 0;
}
