import { UNDICI_BODY_TIMEOUT_MS } from '../attempts/timeout.js';

/**
 * How much later than the per-try timeout undici's headers timeout is set
 * when it shares the body's value. undici checks both on coarse timers that
 * tick every 499 ms and may fire up to one tick early, so this keeps its
 * headers timeout clear of the per-try timeout, which bounds the headers.
 */
export const HEADERS_TIMEOUT_MARGIN_MS = 600;

/** What meshkit hands undici per request: `bodyTimeout` (0 for none), and `headersTimeout` when it replaces undici's default (else null). */
export interface UndiciTimeouts {
  readonly bodyTimeout: number;
  readonly headersTimeout: number | null;
}

/**
 * undici's per-request timeouts for a client's `bodyTimeout` and `perTry`
 * (ms, `Infinity` for none).
 *
 * undici keeps one timer per connection and refreshes it while the headers
 * timeout and the body timeout are equal; when they differ it makes a new
 * timer at every switch, two per request (about 0.4-0.9 us of CPU each
 * request, measured). When a per-try timeout bounds the headers, undici's
 * headers timeout only needs to stay out of its way, so both phases get one
 * value: the body timeout, raised to at least `perTry` +
 * {@link HEADERS_TIMEOUT_MARGIN_MS} (within the coarseness of undici's timers
 * for the default `bodyTimeout = perTry`), or none at all when the body has
 * no bound. A body timeout below the per-try timeout is kept exact, at that
 * cost.
 */
export function undiciTimeouts(bodyTimeout: number = UNDICI_BODY_TIMEOUT_MS, perTry = Infinity): UndiciTimeouts {
  if (perTry !== Infinity && bodyTimeout >= perTry) {
    const shared = bodyTimeout === Infinity ? 0 : Math.ceil(Math.max(bodyTimeout, perTry + HEADERS_TIMEOUT_MARGIN_MS));
    return { bodyTimeout: shared, headersTimeout: shared };
  }
  return { bodyTimeout: bodyTimeout === Infinity ? 0 : Math.ceil(bodyTimeout), headersTimeout: null };
}
