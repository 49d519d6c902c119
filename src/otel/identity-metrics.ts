import { metrics, type MeterProvider, type ObservableResult } from '@opentelemetry/api';
import { systemClock, wallClockNow } from '../core/clock.js';
import { invalidConfig } from '../core/errors.js';
import { checkOptions } from '../core/options.js';
import { handshakesOf } from '../security/handshake-counters.js';
import type { Identity } from '../security/identity.js';
import { INSTRUMENTATION_SCOPE, INSTRUMENTATION_VERSION } from './observer.js';

/** Names of the identity metrics. */
export const IDENTITY_METRIC = Object.freeze({
  /** Seconds until the leaf in use expires (negative once past). */
  expiry: 'meshkit.identity.expiry',
  /** 1 while the last refresh failed and the last good identity is in use, else 0. */
  stale: 'meshkit.identity.stale',
  /** Client mTLS handshakes with this identity, by `meshkit.handshake.result` (`ok` or `failed`). */
  handshakes: 'meshkit.identity.handshakes',
});

/** Options of {@link identityMetrics}. */
export interface IdentityMetricsOptions {
  /** Where metrics go. Default the global provider (`metrics.getMeterProvider()`). */
  readonly meterProvider?: MeterProvider;
}

/**
 * Reports an identity as metrics, each with the attribute
 * `meshkit.identity.spiffe_id`: `meshkit.identity.expiry` (seconds left on
 * the leaf, by the wall time of the identity's `clock`), `meshkit.identity.stale` (0 or 1) and the counter
 * `meshkit.identity.handshakes` (client handshakes by result, summed over
 * every client using the identity). Returns the function that stops
 * reporting. Throws `ERR_INVALID_CONFIG` naming `identityMetrics.<option>`.
 */
export function identityMetrics(identity: Identity, options: IdentityMetricsOptions = {}): () => void {
  if (typeof identity !== 'object' || identity === null || typeof (identity as Partial<Identity>).status !== 'function') {
    throw invalidConfig('identityMetrics.identity', 'an Identity such as connectIdentity() or fileIdentity()', identity);
  }
  checkOptions(options, 'identityMetrics', ['meterProvider']);
  const provider = options.meterProvider ?? metrics.getMeterProvider();
  if (typeof provider?.getMeter !== 'function') throw invalidConfig('identityMetrics.meterProvider', 'a MeterProvider', provider);
  const meter = provider.getMeter(INSTRUMENTATION_SCOPE, INSTRUMENTATION_VERSION);
  const expiry = meter.createObservableGauge(IDENTITY_METRIC.expiry, { description: 'Time until the identity\'s leaf certificate expires.', unit: 's' });
  const stale = meter.createObservableGauge(IDENTITY_METRIC.stale, { description: 'Whether the identity could not be refreshed and the last good one is in use.' });
  const handshakes = meter.createObservableCounter(IDENTITY_METRIC.handshakes, { description: 'Client mTLS handshakes made with the identity.' });
  const attributes = (): Record<string, string> => ({ 'meshkit.identity.spiffe_id': identity.status().spiffeId ?? '' });
  const onExpiry = (result: ObservableResult): void => {
    const notAfter = identity.status().notAfter;
    if (notAfter !== undefined) result.observe((notAfter.getTime() - wallClockNow(identity.clock ?? systemClock)) / 1000, attributes());
  };
  const onStale = (result: ObservableResult): void => result.observe(identity.status().stale ? 1 : 0, attributes());
  const onHandshakes = (result: ObservableResult): void => {
    const counts = handshakesOf(identity);
    result.observe(counts.completed, { ...attributes(), 'meshkit.handshake.result': 'ok' });
    result.observe(counts.failed, { ...attributes(), 'meshkit.handshake.result': 'failed' });
  };
  expiry.addCallback(onExpiry);
  stale.addCallback(onStale);
  handshakes.addCallback(onHandshakes);
  return () => {
    expiry.removeCallback(onExpiry);
    stale.removeCallback(onStale);
    handshakes.removeCallback(onHandshakes);
  };
}
