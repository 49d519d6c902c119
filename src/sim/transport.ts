import type { AttemptContext } from '../core/attempt.js';
import type { AttemptSink } from '../core/call-transport.js';
import type { Endpoint } from '../core/endpoint.js';
import { UNDICI_BODY_TIMEOUT_MS } from '../attempts/timeout.js';
import type { HttpRequest, HttpResponse } from '../transports/http-types.js';
import type { HttpTransportFactory, HttpTransportSettings } from '../transports/undici.js';
import type { Transport } from '../transports/transport.js';
import { undiciTimeouts } from '../transports/undici-timeouts.js';
import type { SimBackend } from './backend.js';
import { connectionRefused } from './backend-errors.js';
import type { SimTimeouts } from './backend-exchange.js';

/** Where the simulated transport finds the backend behind an endpoint id. */
export interface SimBackendDirectory {
  backendAt(id: string): SimBackend | undefined;
}

/**
 * The promise form of an attempt, for callers of `send()`: forwards what the
 * backend reads of the attempt and settles a promise instead of calling back.
 */
class PromisedAttempt implements AttemptSink<HttpResponse> {
  readonly #attempt: AttemptContext;
  readonly deliver: (response: HttpResponse) => void;
  readonly fail: (error: unknown) => void;

  constructor(attempt: AttemptContext, resolve: (response: HttpResponse) => void, reject: (error: unknown) => void) {
    this.#attempt = attempt;
    this.deliver = resolve;
    this.fail = reject;
  }

  get call(): AttemptContext['call'] { return this.#attempt.call; }
  get number(): number { return this.#attempt.number; }
  get endpoint(): Endpoint { return this.#attempt.endpoint; }
  get deadline(): number { return this.#attempt.deadline; }
  get startedAt(): number { return this.#attempt.startedAt; }
  get signal(): AbortSignal { return this.#attempt.signal; }
  get outboundHeaders(): Readonly<Record<string, string>> | undefined { return this.#attempt.outboundHeaders; }
  bodyFailed(): void {}
}

/**
 * One client's simulated transport: each attempt goes to the backend behind
 * its endpoint id, in virtual time, with undici's headers and body timeouts
 * as the client configured them (the values meshkit's undici transport
 * gives undici). An endpoint with no backend refuses the connection, as an
 * address nobody listens on. The headers the undici transport would send
 * (`x-meshkit-deadline`, trace headers) are made only for a backend with a
 * handler, the one reader of them. Responses are undici-shaped
 * (`statusCode`, `headers`, `body`); their `headers` object is frozen and
 * may be shared between responses.
 */
export class SimTransport implements Transport<HttpRequest, HttpResponse> {
  readonly name = 'sim';
  readonly #directory: SimBackendDirectory;
  readonly #timeouts: SimTimeouts;
  readonly #perTry: number;

  constructor(directory: SimBackendDirectory, settings: HttpTransportSettings = {}) {
    this.#directory = directory;
    const bodyTimeout = settings.bodyTimeout ?? UNDICI_BODY_TIMEOUT_MS;
    this.#perTry = settings.perTry ?? Infinity;
    // The same values meshkit's undici transport hands undici (0 = none, null = undici's default).
    const undici = undiciTimeouts(bodyTimeout, this.#perTry);
    this.#timeouts = Object.freeze({
      headersMs: undici.headersTimeout === null ? UNDICI_BODY_TIMEOUT_MS : undici.headersTimeout === 0 ? Infinity : undici.headersTimeout,
      bodyMs: undici.bodyTimeout === 0 ? Infinity : undici.bodyTimeout,
    });
  }

  /** The callback form the executor prefers: no promise per attempt. */
  start(endpoint: Endpoint, request: HttpRequest, attempt: AttemptSink<HttpResponse>): void {
    const backend = this.#directory.backendAt(endpoint.id);
    if (backend === undefined) {
      const error = connectionRefused(endpoint.host, endpoint.port);
      queueMicrotask(() => attempt.fail(error));
      return;
    }
    backend.accept(attempt, request, this.#timeouts, this.#perTry);
  }

  send(endpoint: Endpoint, request: HttpRequest, attempt: AttemptContext): Promise<HttpResponse> {
    return new Promise((resolve, reject) => this.start(endpoint, request, new PromisedAttempt(attempt, resolve, reject)));
  }

  discard(response: HttpResponse): void {
    response.body.dump().catch(() => {});
  }

  /** Nothing to release: a simulated backend holds no connection per client. */
  endpointsChanged(): void {}

  async close(): Promise<void> {}

  async destroy(): Promise<void> {}
}

/**
 * The transport factory of a simulation (`sim.transport`): hand it to every
 * simulated client's builder (`.transport(sim.transport)`).
 */
export function simTransport(directory: SimBackendDirectory): HttpTransportFactory {
  return Object.freeze({ name: 'sim', create: (settings?: HttpTransportSettings) => new SimTransport(directory, settings) });
}
