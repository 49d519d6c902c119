import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/** An attribute value decoded from OTLP/JSON's AnyValue. */
export type OtlpValue = string | number | boolean | null | OtlpValue[] | { [key: string]: OtlpValue };

/** One span as the receiver decoded it, with its resource and scope flattened in. */
export interface ReceivedSpan {
  /** Hex, as OTLP/JSON encodes ids. */
  readonly traceId: string;
  readonly spanId: string;
  /** Undefined for a root span. */
  readonly parentSpanId: string | undefined;
  readonly name: string;
  /** OTLP's SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer (the API's value + 1). */
  readonly kind: number;
  readonly startTimeUnixNano: bigint;
  readonly endTimeUnixNano: bigint;
  readonly attributes: Readonly<Record<string, OtlpValue>>;
  readonly events: readonly { name: string; attributes: Readonly<Record<string, OtlpValue>> }[];
  /** OTLP's StatusCode: 0 unset, 1 ok, 2 error. */
  readonly status: { code: number; message: string | undefined };
  readonly resource: Readonly<Record<string, OtlpValue>>;
  readonly scope: { name: string; version: string | undefined };
}

/** One export request as it arrived. */
export interface ReceivedExport {
  readonly contentType: string;
  readonly contentEncoding: string | undefined;
  readonly userAgent: string | undefined;
  /** The parsed ExportTraceServiceRequest. */
  readonly body: unknown;
}

/** A loopback OTLP/HTTP trace receiver (JSON encoding), as Jaeger or a Collector would run on :4318. */
export interface OtlpReceiver {
  /** `http://127.0.0.1:<port>/v1/traces`: pass as the exporter's url. */
  readonly tracesUrl: string;
  readonly port: number;
  readonly exports: readonly ReceivedExport[];
  /** Requests it could not decode (wrong path, protobuf, bad JSON), with the reason: a test asserts this stays empty. */
  readonly rejected: readonly string[];
  /** Every span received so far, in arrival order. */
  spans(): ReceivedSpan[];
  /** Resolves with the spans once `condition(spans)` holds; rejects after `timeoutMs` (default 20 s). */
  waitFor(what: string, condition: (spans: ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>;
  close(): Promise<void>;
}

interface AnyValueJson {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string;
  doubleValue?: number | string;
  bytesValue?: string;
  arrayValue?: { values?: AnyValueJson[] };
  kvlistValue?: { values?: KeyValueJson[] };
}
interface KeyValueJson {
  key: string;
  value?: AnyValueJson;
}
interface SpanJson {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind?: number;
  startTimeUnixNano: string | number;
  endTimeUnixNano: string | number;
  attributes?: KeyValueJson[];
  events?: { name: string; attributes?: KeyValueJson[] }[];
  status?: { code?: number; message?: string };
}
interface TraceRequestJson {
  resourceSpans?: {
    resource?: { attributes?: KeyValueJson[] };
    scopeSpans?: { scope?: { name?: string; version?: string }; spans?: SpanJson[] }[];
  }[];
}

/** Decodes an OTLP/JSON AnyValue (int64 may arrive as a string, per the OTLP/JSON mapping). */
export function decodeValue(value: AnyValueJson | undefined): OtlpValue {
  if (value === undefined) return null;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return Number(value.doubleValue);
  if (value.bytesValue !== undefined) return value.bytesValue;
  if (value.arrayValue !== undefined) return (value.arrayValue.values ?? []).map(decodeValue);
  if (value.kvlistValue !== undefined) return decodeAttributes(value.kvlistValue.values);
  return null;
}

/** Decodes an OTLP/JSON attribute list into a plain object. */
export function decodeAttributes(list: readonly KeyValueJson[] | undefined): Record<string, OtlpValue> {
  const out: Record<string, OtlpValue> = {};
  for (const { key, value } of list ?? []) out[key] = decodeValue(value);
  return out;
}

/** Flattens an ExportTraceServiceRequest (OTLP/JSON) into spans. */
export function decodeTraceRequest(body: unknown): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const resourceSpans of (body as TraceRequestJson).resourceSpans ?? []) {
    const resource = decodeAttributes(resourceSpans.resource?.attributes);
    for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
      const scope = { name: scopeSpans.scope?.name ?? '', version: scopeSpans.scope?.version };
      for (const span of scopeSpans.spans ?? []) {
        out.push({
          traceId: span.traceId,
          spanId: span.spanId,
          // OTLP/JSON: an absent or empty parentSpanId means a root span.
          parentSpanId: span.parentSpanId === undefined || span.parentSpanId === '' ? undefined : span.parentSpanId,
          name: span.name,
          kind: span.kind ?? 0,
          startTimeUnixNano: BigInt(span.startTimeUnixNano),
          endTimeUnixNano: BigInt(span.endTimeUnixNano),
          attributes: decodeAttributes(span.attributes),
          events: (span.events ?? []).map((e) => ({ name: e.name, attributes: decodeAttributes(e.attributes) })),
          status: { code: span.status?.code ?? 0, message: span.status?.message },
          resource,
          scope,
        });
      }
    }
  }
  return out;
}

/** Starts the receiver on 127.0.0.1, port 0. It answers 200 `{}` (full success) to each decodable export. */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const exports: ReceivedExport[] = [];
  const rejected: string[] = [];
  const received: ReceivedSpan[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const refuse = (status: number, reason: string): void => {
        rejected.push(`${req.method} ${req.url}: ${reason}`);
        res.writeHead(status, { 'content-type': 'text/plain' }).end(reason);
      };
      if (req.method !== 'POST' || req.url !== '/v1/traces') return refuse(404, 'only POST /v1/traces');
      const contentType = req.headers['content-type'] ?? '';
      const contentEncoding = req.headers['content-encoding'];
      // This receiver speaks OTLP/JSON only: JS's OTLPTraceExporter (exporter-trace-otlp-http) sends it.
      if (!contentType.startsWith('application/json')) return refuse(415, `unsupported content-type ${contentType}`);
      let body: unknown;
      try {
        const raw = Buffer.concat(chunks);
        body = JSON.parse((contentEncoding === 'gzip' ? gunzipSync(raw) : raw).toString('utf8'));
        received.push(...decodeTraceRequest(body));
      } catch (error) {
        return refuse(400, `undecodable body: ${String(error)}`);
      }
      exports.push({ contentType, contentEncoding, userAgent: req.headers['user-agent'], body });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    tracesUrl: `http://127.0.0.1:${port}/v1/traces`,
    port,
    exports,
    rejected,
    spans: () => [...received],
    async waitFor(what, condition, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!condition([...received])) {
        if (Date.now() > deadline) {
          throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; got ${received.length} spans: ${received.map((s) => s.name).join(', ')}; rejected: ${rejected.join('; ')}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return [...received];
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
