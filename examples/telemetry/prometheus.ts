// meshkit metrics in Prometheus: the OpenTelemetry metrics SDK with its
// Prometheus exporter, serving /metrics on 127.0.0.1 for a Prometheus to scrape.
//
//   npm run compile && node .build/examples/telemetry/prometheus.js
//   # port: OTEL_EXPORTER_PROMETHEUS_PORT (default 9464)
//
// It starts two "orders" instances on loopback (one request in five gets a
// 503, so retries show), a meshkit client with openTelemetry() telemetry, and
// calls it four times a second until Ctrl-C. Point Prometheus at it with the
// scrape config it prints (docs/telemetry/prometheus-and-jaeger.md), then query
//   sum by (meshkit_service, http_response_status_code) (rate(http_client_request_duration_seconds_count[1m]))
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { client } from '../../src/index.js'; // in your project: from 'meshkit'
import { METRIC, openTelemetry } from '../../src/otel/index.js'; // in your project: from 'meshkit/otel'
import { startCallLoop } from './call-loop.js';
import { startOrdersFleet } from './orders-fleet.js';
import { isMain, stopOnSignal } from './standalone.js';

/** Options of {@link start}. */
export interface PrometheusExampleOptions {
  /** Port of the /metrics endpoint on 127.0.0.1; 0 picks a free one. Default `OTEL_EXPORTER_PROMETHEUS_PORT`, else 9464 (the exporter's registered port). */
  readonly metricsPort?: number;
  /** Pause between calls, ms. Default 250. */
  readonly intervalMs?: number;
  /** Where progress lines go. Default `console.log`. */
  readonly log?: (line: string) => void;
}

/** The running example. */
export interface PrometheusExample {
  /** The service the client calls (the `meshkit_service` label). */
  readonly service: string;
  /** `http://127.0.0.1:<port>/metrics`. */
  readonly metricsUrl: string;
  /** `127.0.0.1:<port>`: the scrape target. */
  readonly target: string;
  /** Calls completed so far. */
  calls(): number;
  /** Stops calling, closes the client, the SDK, the /metrics server and the upstreams. */
  stop(): Promise<void>;
}

/**
 * meshkit's instruments measured in seconds (unit `s`). Prometheus names carry
 * their unit (OpenTelemetry's Prometheus compatibility spec: unit `s` ->
 * suffix `_seconds`); this exporter does not add it, so a view per instrument
 * does: http.client.request.duration -> http_client_request_duration_seconds.
 */
const SECONDS_INSTRUMENTS: readonly string[] = [METRIC.requestDuration, METRIC.callDuration, METRIC.discoveryAge];

/** The default /metrics port: `OTEL_EXPORTER_PROMETHEUS_PORT` (the exporter's own variable), else 9464. */
function defaultPort(): number {
  const fromEnv = process.env['OTEL_EXPORTER_PROMETHEUS_PORT'];
  if (fromEnv === undefined || fromEnv === '') return 9464;
  const port = Number(fromEnv);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`OTEL_EXPORTER_PROMETHEUS_PORT=${fromEnv} is not a port`);
  return port;
}

/** Starts the example; resolves once /metrics is listening and the first call is under way. */
export async function start(options: PrometheusExampleOptions = {}): Promise<PrometheusExample> {
  const log = options.log ?? console.log;
  const service = 'orders';

  // The reader Prometheus pulls from. preventServerStart: we serve its handler
  // ourselves so /metrics binds to loopback and port 0 works (the exporter's
  // own server treats 0 as "use the default 9464").
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const meterProvider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'meshkit-example' }),
    readers: [exporter],
    views: SECONDS_INSTRUMENTS.map((name) => ({ instrumentName: name, name: `${name}_seconds` })),
  });

  const metricsServer = createServer((req, res) => {
    if (req.method === 'GET' && req.url?.split('?')[0] === '/metrics') {
      exporter.getMetricsRequestHandler(req, res);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('try GET /metrics\n');
  });
  await new Promise<void>((resolve, reject) => {
    metricsServer.once('error', reject).listen(options.metricsPort ?? defaultPort(), '127.0.0.1', () => {
      metricsServer.off('error', reject);
      resolve();
    });
  });
  const { port } = metricsServer.address() as AddressInfo;

  const fleet = await startOrdersFleet();
  const orders = client(service)
    .endpoints(fleet.endpoints)
    .timeout({ perTry: '300ms', total: '2s' })
    .retry({ attempts: 3 })
    .telemetry(openTelemetry({ meterProvider }))
    .build();

  const loop = startCallLoop(async (n) => {
    const res = await orders.request({ path: `/v1/orders/${n}` });
    await res.body.dump();
    if (n % 20 === 0) log(`${n} calls to ${service}; last answered ${res.statusCode}`);
  }, options.intervalMs ?? 250, (error) => log(`call failed: ${String(error)}`));

  const target = `127.0.0.1:${port}`;
  log(`calling ${service} at ${fleet.endpoints.join(', ')}`);
  log(`metrics at http://${target}/metrics`);
  log(`scrape it with: scrape_configs: [{ job_name: meshkit-example, scrape_interval: 5s, static_configs: [{ targets: ['${target}'] }] }]`);

  let stopped: Promise<void> | undefined;
  return {
    service,
    metricsUrl: `http://${target}/metrics`,
    target,
    calls: () => loop.calls(),
    stop() {
      stopped ??= (async () => {
        await loop.stop();
        await orders.close();
        await meterProvider.shutdown();
        metricsServer.closeAllConnections();
        await new Promise<void>((resolve) => metricsServer.close(() => resolve()));
        await fleet.close();
      })();
      return stopped;
    },
  };
}

if (isMain(import.meta.url)) {
  stopOnSignal(await start());
}
