/**
 * The anchor for the telemetry rows: raw undici (the baseline row's Pool) with
 * OpenTelemetry's own `@opentelemetry/instrumentation-undici`, on the same SDK
 * setup as meshkit's `sdk` rows (`startSdk`: BatchSpanProcessor, dropping
 * exporter, aggregating reader). The instrumentation listens on undici's
 * diagnostics channels, which every undici in the process publishes to
 * (meshkit's transport included), so it is enabled only while this row runs
 * (`activate` / `deactivate`, called by the matrix around each of the row's
 * runs) and no other row is instrumented twice or pays for its subscribers.
 */
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { Pool } from 'undici';
import type { HttpClientUnderTest } from './http-clients.js';
import { startSdk } from './telemetry.js';

export const UNDICI_OTEL_ID = 'undici-pool-otel-instrumentation';

/** Raw undici with OpenTelemetry's undici instrumentation on the SDK; enabled only between `activate()` and `deactivate()`. */
export function undiciWithInstrumentation(origin: string, connections: number): HttpClientUnderTest {
  const sdk = startSdk();
  // Constructed enabled (constructed with `enabled: false`, it ignores every request even after enable()),
  // then switched off at once: it listens only between activate() and deactivate().
  const instrumentation = new UndiciInstrumentation();
  instrumentation.disable();
  instrumentation.setTracerProvider(sdk.tracerProvider);
  instrumentation.setMeterProvider(sdk.meterProvider);
  const pool = new Pool(origin, { connections });
  let active = false;
  let tracedSends = 0;
  return {
    id: UNDICI_OTEL_ID,
    description: `undici Pool (connections ${connections}) + @opentelemetry/instrumentation-undici on the SDK (BatchSpanProcessor, dropping exporter; metrics aggregated)`,
    async send() {
      if (active) tracedSends++;
      const { statusCode, body } = await pool.request({ path: '/', method: 'GET' });
      await body.text();
      if (statusCode !== 200) throw new Error(`unexpected status ${statusCode}`);
    },
    activate() {
      if (active) return;
      active = true;
      instrumentation.enable();
    },
    deactivate() {
      if (!active) return;
      active = false;
      instrumentation.disable();
    },
    async close() {
      if (active) instrumentation.disable();
      active = false;
      await pool.close();
      await sdk.tracerProvider.forceFlush();
      // The row is only an anchor if the instrumentation really traced its requests.
      if (tracedSends > 0 && sdk.exporter.exported === 0) console.error(`[bench] ${UNDICI_OTEL_ID}: the instrumentation exported no span`);
      await sdk.shutdown();
    },
  };
}
