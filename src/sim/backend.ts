import type { IncomingHttpHeaders } from 'node:http';
import type { AttemptSink } from '../core/call-transport.js';
import type { TimerHandle } from '../core/clock.js';
import type { EndpointObject } from '../core/endpoint.js';
import { LinkedQueue } from '../core/linked-queue.js';
import type { HttpRequest, HttpResponse } from '../transports/http-types.js';
import { resolveBehaviour, type ResolvedBehaviour, type SimBehaviour, type SimHandlerResult } from './backend-behaviour.js';
import { BackendBuckets } from './backend-buckets.js';
import { connectionRefused, connectionReset } from './backend-errors.js';
import { Fate, SimExchange, Stage, type ExchangeHost, type SimTimeouts } from './backend-exchange.js';
import { runHandler } from './backend-handler.js';
import type { BackendBucket, BackendStatsSource } from './backend-stats.js';
import type { SimLoop } from './event-loop.js';
import type { RandomSource } from './random.js';

const NO_HEADERS: IncomingHttpHeaders = Object.freeze({});
const JSON_HEADERS: IncomingHttpHeaders = Object.freeze({ 'content-type': 'application/json' });

/** @internal What the simulation tells a backend it creates. */
export interface SimBackendSettings {
  readonly loop: SimLoop;
  readonly service: string;
  /** Position within its service (0-based). */
  readonly index: number;
  readonly host: string;
  readonly port: number;
  readonly zone: string | undefined;
  readonly weight: number;
  /** Its own random stream. */
  readonly random: RandomSource;
  readonly bucketMs: number;
  readonly behaviour: ResolvedBehaviour;
}

/** Totals over a backend's whole run (the sum of its buckets). */
export interface BackendTotals {
  readonly arrivals: number;
  readonly succeeded: number;
  readonly failed: number;
}

/**
 * One simulated instance of a service: a capacity model (`servers` working in
 * parallel, a FIFO queue in front of them) and failure modes, with a
 * behaviour that can change at any virtual time. It never sees a socket:
 * the simulated transport hands it each request with the attempt that sent
 * it. Like a real server it does not learn that a caller gave up (unless
 * `cancelOnAbort`), so abandoned requests keep its servers busy.
 */
export class SimBackend implements BackendStatsSource, ExchangeHost {
  readonly id: string;
  readonly service: string;
  readonly zone: string | undefined;
  /** Position within its service (0-based). */
  readonly index: number;
  /** The endpoint discovery announces for it. */
  readonly endpoint: EndpointObject;
  readonly #loop: SimLoop;
  readonly #random: RandomSource;
  readonly #buckets: BackendBuckets;
  #behaviour: ResolvedBehaviour;
  #up = true;
  #busy = 0;
  readonly #queue = new LinkedQueue<SimExchange>();
  readonly #serving = new LinkedQueue<SimExchange>();
  readonly #stalled = new LinkedQueue<SimExchange>();
  #arrivals = 0;
  #succeeded = 0;
  #failed = 0;

  /** @internal Made by `Simulation.service()`. */
  constructor(settings: SimBackendSettings) {
    this.#loop = settings.loop;
    this.service = settings.service;
    this.index = settings.index;
    this.zone = settings.zone;
    this.id = `${settings.host}:${settings.port}`;
    this.endpoint = Object.freeze({
      host: settings.host, port: settings.port, weight: settings.weight, ...(settings.zone === undefined ? {} : { zone: settings.zone }),
    });
    this.#random = settings.random;
    this.#buckets = new BackendBuckets(settings.bucketMs);
    this.#behaviour = settings.behaviour;
  }

  /** The behaviour in force. */
  get behaviour(): ResolvedBehaviour {
    return this.#behaviour;
  }

  /**
   * Changes the behaviour from now on (see {@link SimBehaviour}); only the
   * fields given change. Requests in service keep the service time they
   * drew; more servers start on the queue at once. Throws
   * `ERR_INVALID_CONFIG` naming `behaviour.<field>`.
   */
  set(behaviour: SimBehaviour): void {
    this.#behaviour = resolveBehaviour(behaviour, this.#behaviour, 'behaviour');
    this.#drain();
  }

  /** False while the process is down. */
  get isUp(): boolean {
    return this.#up;
  }

  /** The process is gone: requests it held reset, new connections are refused. */
  down(): void {
    if (!this.#up) return;
    this.#touch();
    this.#up = false;
    for (const list of [this.#queue, this.#serving, this.#stalled]) {
      while (list.head !== undefined) {
        const exchange = list.head;
        list.remove(exchange);
        exchange.cancelService();
        if (exchange.stage !== Stage.Stalled) this.#count(false);
        exchange.reset();
      }
    }
    this.#busy = 0;
  }

  /** The process is back (with the behaviour it had). */
  up(): void {
    this.#up = true;
  }

  /** Requests being served. */
  get inService(): number {
    return this.#busy;
  }

  /** Requests waiting for a server. */
  get queued(): number {
    return this.#queue.size;
  }

  /** Requests in service plus queued. */
  get inFlight(): number {
    return this.#busy + this.#queue.size;
  }

  buckets(): readonly BackendBucket[] {
    return this.#buckets.all();
  }

  /** Totals over the whole run. */
  totals(): BackendTotals {
    return { arrivals: this.#arrivals, succeeded: this.#succeeded, failed: this.#failed };
  }

  /**
   * @internal The simulated transport hands over a request. Settles the
   * attempt later (never synchronously): through the loop, or a microtask
   * for an answer that takes no time.
   */
  accept(attempt: AttemptSink<HttpResponse>, request: HttpRequest, timeouts: SimTimeouts, perTryMs: number): void {
    const b = this.#behaviour;
    if (!this.#up || b.refused) {
      this.#count(false);
      const error = connectionRefused(this.endpoint.host, this.endpoint.port);
      queueMicrotask(() => attempt.fail(error));
      return;
    }
    const exchange = new SimExchange(this, attempt, request, timeouts, this.#loop.now());
    exchange.fate = this.#drawFate(b);
    this.#arrive();
    if (exchange.fate === Fate.Blackhole) {
      // Lost on the way in: no server ever sees it; only the caller's timeout (or undici's) ends it.
      this.#count(false);
      exchange.armHeadersTimeout(perTryMs);
      return;
    }
    if (b.cancelOnAbort) exchange.listen();
    exchange.armHeadersTimeout(perTryMs);
    if (this.#busy < b.servers) this.#start(exchange);
    else if (this.#queue.size < b.queue) this.#queue.push(exchange);
    else {
      this.#count(false);
      queueMicrotask(() => exchange.respond(503, NO_HEADERS, undefined));
      return;
    }
    const bucket = this.#buckets.at(this.#loop.now(), this.inFlight);
    if (this.inFlight > bucket.maxInFlight) bucket.maxInFlight = this.inFlight;
  }

  #drawFate(b: ResolvedBehaviour): Fate {
    const failing = b.errorRate + b.resetRate + b.stallRate + b.blackholeRate;
    if (failing === 0) return Fate.Ok;
    let u = this.#random();
    if ((u -= b.errorRate) < 0) return Fate.Error;
    if ((u -= b.resetRate) < 0) return Fate.Reset;
    if ((u -= b.stallRate) < 0) return Fate.Stall;
    if ((u -= b.blackholeRate) < 0) return Fate.Blackhole;
    return Fate.Ok;
  }

  #start(exchange: SimExchange): void {
    const b = this.#behaviour;
    this.#busy++;
    exchange.stage = Stage.Serving;
    this.#serving.push(exchange);
    const now = this.#loop.now();
    if (exchange.fate === Fate.Ok && b.handler !== undefined) {
      exchange.pending = 2;
      runHandler(exchange, b.handler, this, this.#loop.clock);
    }
    exchange.scheduleServiceEnd(now + b.sample(this.#random));
  }

  /** Starts queued requests while servers are free. */
  #drain(): void {
    const queue = this.#queue;
    while (queue.head !== undefined && this.#busy < this.#behaviour.servers) {
      const next = queue.head;
      queue.remove(next);
      this.#start(next);
    }
  }

  #free(exchange: SimExchange): void {
    this.#serving.remove(exchange);
    this.#busy--;
    this.#drain();
  }

  /** @internal {@link ExchangeHost}: the request's service (and handler) is done. */
  served(exchange: SimExchange): void {
    this.#touch();
    this.#free(exchange);
    switch (exchange.fate) {
      case Fate.Error:
        this.#count(false);
        exchange.respond(this.#behaviour.errorStatus, NO_HEADERS, undefined);
        return;
      case Fate.Reset:
        this.#count(false);
        exchange.failWith(connectionReset());
        return;
      case Fate.Stall:
        this.#count(false);
        // Held until its body is done, so that going down can reset it.
        if (exchange.respondStalled()) this.#stalled.push(exchange);
        return;
      default:
        this.#answer(exchange, exchange.result);
    }
  }

  #answer(exchange: SimExchange, result: SimHandlerResult | undefined): void {
    if (result === undefined) {
      this.#count(true);
      exchange.respond(200, NO_HEADERS, undefined);
      return;
    }
    const status = result.status ?? 200;
    let headers: IncomingHttpHeaders = result.headers ?? NO_HEADERS;
    let bytes: Uint8Array | undefined;
    const body = result.body;
    if (typeof body === 'string') bytes = Buffer.from(body, 'utf8');
    else if (body instanceof Uint8Array) bytes = body;
    else if (body !== undefined && body !== null) {
      bytes = Buffer.from(JSON.stringify(body), 'utf8');
      if (result.headers === undefined) headers = JSON_HEADERS;
    }
    this.#count(status < 500);
    exchange.respond(status, headers, bytes);
  }

  /** @internal {@link ExchangeHost}: the caller gave up on a request the backend cancels on abort (or undici gave up on its headers). */
  abandoned(exchange: SimExchange): void {
    if (!this.#behaviour.cancelOnAbort || exchange.abandoned) return;
    this.#touch();
    exchange.abandoned = true;
    if (exchange.stage === Stage.Queued) this.#queue.remove(exchange);
    else if (exchange.stage === Stage.Serving) {
      exchange.cancelService();
      this.#free(exchange);
    }
    exchange.stage = Stage.Done;
  }

  /** @internal {@link ExchangeHost}: a stalled body is done. */
  released(exchange: SimExchange): void {
    this.#stalled.remove(exchange);
  }

  /** @internal {@link ExchangeHost} */
  at(at: number, callback: () => void): TimerHandle {
    return this.#loop.at(at, callback);
  }

  /** @internal {@link ExchangeHost} */
  cancel(handle: TimerHandle): void {
    this.#loop.cancel(handle);
  }

  /** @internal {@link ExchangeHost} */
  now(): number {
    return this.#loop.now();
  }

  /** Opens the bucket of now before a change, so that it starts with what was in flight until then. */
  #touch(): void {
    this.#buckets.at(this.#loop.now(), this.inFlight);
  }

  #arrive(): void {
    this.#arrivals++;
    this.#buckets.at(this.#loop.now(), this.inFlight).arrivals++;
  }

  #count(ok: boolean): void {
    const bucket = this.#buckets.at(this.#loop.now(), this.inFlight);
    if (ok) {
      this.#succeeded++;
      bucket.succeeded++;
    } else {
      this.#failed++;
      bucket.failed++;
    }
  }
}

