import type { AttemptContext } from '../core/attempt.js';
import type { Classifier } from '../core/call-context.js';
import type { CallTransport } from '../core/call-transport.js';
import { CallRecord } from '../attempts/call-record.js';
import type { Attempt, Call } from '../attempts/attempt.js';
import type { CallObserver } from '../core/call-observer.js';
import { wallClockNow, type Clock } from '../core/clock.js';
import { guardedObserver } from '../core/guarded-observer.js';
import { inboundRemainingMs } from '../core/inbound-context.js';
import { parseDuration, parsePositiveDuration } from '../core/duration.js';
import { settledWithin } from './bounded-wait.js';
import { clientClosed, type ClientClosing } from './client-closing.js';
import { checkOptions } from '../core/options.js';
import { invalidArgument, invalidConfig, isMeshkitError } from '../core/errors.js';
import { isIdempotentRequest } from '../core/idempotency.js';
import { splitPipeline } from '../core/admission.js';
import { composePolicies, type Invoke, type Policy } from '../core/policy.js';
import { TimerQueue } from '../core/timer-queue.js';
import { ActiveHealthChecker, UndiciProber } from '../health/active-health-check.js';
import { HEALTH_CHECK_ONLY_DETECTION } from '../health/active-health-check-options.js';
import { EndpointHealthFilter } from '../health/endpoint-health-filter.js';
import { resolveOutlierDetection } from '../health/outlier-options.js';
import { functionClassifier, functionTransport, functionTransportDiscarding, type GovernedFunction } from '../transports/function.js';
import { httpClassifier } from '../transports/http-classifier.js';
import { isReplayableBody, type HttpRequest, type HttpResponse } from '../transports/http-types.js';
import type { Transport } from '../transports/transport.js';
import { invalidCallOption, unknownCallKey, unknownOptionError, unknownRequestKey } from './call-option-keys.js';
import { callOwners } from './client-events.js';
import { ClientHooks } from './client-hooks.js';
import { debugClient } from './debug-log.js';
import { shapeRequest } from './request-shape.js';
import { EndpointState, type EndpointsSnapshot } from '../attempts/endpoint-state.js';
import { Executor } from '../attempts/executor.js';
import { fetchThrough, type FetchInput } from './fetch-facade.js';
import { registerClient, unregisterClient } from './registry.js';
import { endpointStatuses, identityField, type ClientSnapshot } from './snapshot.js';
import type { CallOptions, GovernedCallOptions, RequestOptions } from './request-options.js';
import type { ClientConfig, CloseOptions } from './client-config.js';

export type { ClientConfig, CloseOptions } from './client-config.js';

/**
 * A governed client for one service. Immutable once built: its behaviour is
 * fixed by the builder. Every call goes through the policies (first added
 * outermost), then the attempt loop: pick, per-try timeout, transport,
 * classification, retry.
 */
export class Client extends ClientHooks implements AsyncDisposable {
  /** The service name given to `client(name)`. */
  readonly name: string;
  /** The resolved configuration, for inspection. */
  readonly config: ClientConfig;
  readonly #clock: Clock;
  readonly #timers: TimerQueue;
  readonly #state: EndpointState;
  readonly #executor: Executor;
  readonly #http: Transport<HttpRequest, HttpResponse>;
  readonly #httpClassifier: Classifier<HttpResponse>;
  readonly #invoke: Invoke;
  readonly #checker: ActiveHealthChecker | undefined;
  readonly #observer: CallObserver | undefined;
  /** Whether the balancer reads a call's `subset` (`BalancerFactory.readsSubset`): without it a call's `subset` names none. */
  readonly #hasSubsets: boolean;
  #closing: Promise<void> | undefined = undefined;
  readonly #onClose = new Set<(closing: ClientClosing) => void | Promise<void>>();

  /** @internal Use `client(name)...build()`. */
  constructor(config: ClientConfig) {
    super(config.name, config.policies);
    this.name = config.name;
    this.config = config;
    this.#clock = config.clock;
    this.#timers = new TimerQueue(config.clock);
    const balancer = config.balancer.create({ service: config.name, clock: config.clock });
    this.#hasSubsets = config.balancer.readsSubset === true;
    this.#http = config.transport.create({ bodyTimeout: config.timeouts.bodyTimeout, perTry: config.timeouts.perTry });
    this.#httpClassifier = httpClassifier(config.retry.statuses);
    this.#state = new EndpointState(config.name, config.resolver, balancer, config.clock, (endpoints) => {
      this.#http.endpointsChanged?.(endpoints);
      this.#checker?.setEndpoints(endpoints);
    });
    const events = this.events;
    this.#state.useEvents(events);
    // Active health checks and endpoint breakers need a detector to act on; without .outlierDetection() it has no passive rules.
    const outlier = config.outlierDetection
      ?? (config.healthCheck === undefined && config.endpointBreakers === undefined ? undefined : resolveOutlierDetection(HEALTH_CHECK_ONLY_DETECTION));
    const health = outlier === undefined
      ? undefined
      : new EndpointHealthFilter(outlier, config.clock, () => this.#state.rebuild(), config.name, config.endpointBreakers);
    if (health !== undefined) {
      this.#state.useHealth(health);
      health.onEjection = (message) => events.emit('ejection', message); // per ejection, not per call
    }
    this.#checker = config.healthCheck === undefined || health === undefined
      ? undefined
      : new ActiveHealthChecker(config.healthCheck, config.clock, (endpoint, healthy) => health.setActiveHealth(endpoint, healthy),
        new UndiciProber(config.healthCheck, config.transport.connection)); // probes speak the transport's scheme and TLS
    this.#observer = guardedObserver(config.observers.map((factory) => {
      try {
        return { name: factory.name, observer: factory.create({ service: config.name, clock: config.clock, snapshot: () => this.snapshot(), hooks: this }) };
      } catch (error) {
        throw invalidConfig('telemetry', `an observer factory whose create() returns an observer (${factory.name} threw)`, factory.name, { cause: error });
      }
    }));
    // Admission policies at the inner end run in line in the executor: no promise per policy.
    const stages = splitPipeline(config.policies, { clock: config.clock });
    this.#executor = new Executor({
      service: config.name,
      clock: config.clock,
      timers: this.#timers,
      timeouts: config.timeouts,
      retry: config.retry,
      endpoints: this.#state,
      balancer,
      health,
      hedge: config.hedge,
      firstAttemptAtStart: stages.wrapped.length === 0,
      gates: stages.gates,
      observer: this.#observer,
    });
    const executor = this.#executor;
    // Policies pass on the call they were given: the client's own record of it.
    const run: Invoke = (call) => executor.run(call as Call);
    this.#invoke = stages.wrapped.length === 0 ? run : composePolicies(stages.wrapped, run);
    debugClient(events, { balancer: config.balancer.name, describe: balancer.describe?.bind(balancer), attempts: config.retry.attempts });
    this.#state.start();
    registerClient(this);
  }

  /**
   * The fast path: one HTTP request on undici, governed. Resolves with
   * undici's `{ statusCode, headers, body }` (read or `dump()` the body);
   * a final 5xx response is returned, not thrown. A bad option (an unknown
   * key, a `method` that is not a non-empty string, a non-boolean
   * `idempotent`, a `signal` that is not an AbortSignal, a `key` or `subset`
   * that is not a string, or a `subset` on a client whose balancer reads
   * none: see `BalancerFactory.readsSubset`) rejects with
   * `ERR_INVALID_ARGUMENT` naming it, and nothing is sent.
   */
  request(options: RequestOptions): Promise<HttpResponse> {
    if (options === null || typeof options !== 'object') {
      return Promise.reject(invalidArgument('options', '{ path, method?, headers?, body?, ... }', options));
    }
    const unknown = unknownRequestKey(options);
    if (unknown !== undefined) return Promise.reject(unknownOptionError('request', unknown, (options as Record<string, unknown>)[unknown]));
    const method = options.method;
    if (method !== undefined && (typeof method !== 'string' || method.length === 0)) {
      return Promise.reject(invalidArgument('options.method', 'an HTTP method (a non-empty string)', method));
    }
    let request: HttpRequest = options as HttpRequest;
    const defaults = this.config.requestDefaults;
    // Sent as given when complete; otherwise a copy with the path checked, base path, query, JSON body and default headers.
    if (defaults !== undefined || options.query !== undefined || options.json !== undefined
      || typeof options.path !== 'string' || options.path.charCodeAt(0) !== 47 /* / */) {
      try {
        request = shapeRequest(options, defaults);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return this.#run(
      request,
      this.#http,
      this.#httpClassifier,
      options,
      isIdempotentRequest(method ?? 'GET', request.headers, options.idempotent),
      isReplayableBody(request.body),
    ) as Promise<HttpResponse>;
  }

  /**
   * fetch-compatible: `client.fetch('/v1/orders/42', init)` or
   * `client.fetch('http://orders/v1/orders/42')` (the host names the
   * service and is not contacted: the service's endpoints are). A malformed
   * or relative URL, a port, a scheme the transport does not speak, an
   * `init.method` that is not a non-empty string or an `init.signal` that is
   * not an AbortSignal rejects with `ERR_INVALID_ARGUMENT`. Returns a
   * standard `Response` whose `url` is the URL asked for. This is the
   * compatibility path; `request()` is faster.
   */
  fetch(input: FetchInput, init?: RequestInit): Promise<Response> {
    const target = { service: this.name, protocol: this.config.transport.connection?.protocol, defaults: this.config.requestDefaults };
    return fetchThrough(input, init, (request, options, idempotent, replayable) =>
      this.#run(request, this.#http, this.#httpClassifier, options, idempotent, replayable) as Promise<HttpResponse>, target);
  }

  /**
   * Governs any async function: `fn(endpoint, attempt)` performs one attempt
   * against the endpoint meshkit picked. Honour `attempt.signal` to stop work
   * on timeout. Retried (elsewhere) only when `idempotent: true` or when the
   * error is a connection failure. `options.classify` / `classifyError` /
   * `discard` / `replayable` let an adapter report a returned value as a
   * (retryable) failure, as `request()` does for a 503.
   *
   * `classify`, `classifyError` and `discard` must be functions and
   * `idempotent` and `replayable` booleans, else the call rejects with
   * `ERR_INVALID_ARGUMENT` naming the option (as for the options of
   * `request()`) and `fn` never runs. A `classify` or `classifyError` that
   * throws (or returns no Outcome) ends the call, unretried, with
   * `ERR_INVALID_ARGUMENT` (blame `'caller'`, the thrown error as `cause`);
   * it moves no breaker or endpoint health. A `discard` that throws is
   * ignored: the value is being dropped anyway.
   */
  call<T>(fn: GovernedFunction<T>, options: GovernedCallOptions<T> = {}): Promise<T> {
    if (typeof fn !== 'function') return Promise.reject(invalidArgument('fn', 'a function (endpoint, attempt) => Promise', fn));
    if (options === null || typeof options !== 'object') return Promise.reject(invalidArgument('options', '{ idempotent?, timeout?, signal?, ... }', options));
    const unknown = unknownCallKey(options);
    if (unknown !== undefined) return Promise.reject(unknownOptionError('call', unknown, (options as Record<string, unknown>)[unknown]));
    const { classify, classifyError: classifyThrown, discard, replayable } = options;
    // Called later from the attempt's I/O callback, where a non-function would throw past the caller.
    if (classify !== undefined && typeof classify !== 'function') return Promise.reject(invalidArgument('options.classify', 'a function (result) => Outcome', classify));
    if (classifyThrown !== undefined && typeof classifyThrown !== 'function') {
      return Promise.reject(invalidArgument('options.classifyError', 'a function (error) => Outcome', classifyThrown));
    }
    if (discard !== undefined && typeof discard !== 'function') return Promise.reject(invalidArgument('options.discard', 'a function (result) => void', discard));
    if (replayable !== undefined && typeof replayable !== 'boolean') return Promise.reject(invalidArgument('options.replayable', 'true or false', replayable));
    // Adapters (got, gRPC) say which results and errors are failures; plain calls keep the shared constants.
    const classifier: Classifier = classify === undefined && classifyThrown === undefined
      ? functionClassifier
      : { response: (classify ?? functionClassifier.response) as Classifier['response'], error: classifyThrown ?? functionClassifier.error };
    const transport: CallTransport = discard === undefined ? functionTransport : functionTransportDiscarding(discard as (result: unknown) => void);
    return this.#run(fn, transport, classifier, options, options.idempotent === true, replayable !== false) as Promise<T>;
  }

  /**
   * Registers `release` to run when the client closes, once calls in flight
   * have finished (or were aborted), beside the transport's close: adapters
   * tie what they hold per endpoint (gRPC channels, sockets, bodies being
   * read) to the client's life. `closing.closeBy` is when `close()` returns
   * (on the client's clock): what is not done by then is cut with
   * `closing.reason`. Runs soon if the client is closed already; a throwing
   * `release` does not fail `close()`. Returns a function that unregisters it.
   */
  onClose(release: (closing: ClientClosing) => void | Promise<void>): () => void {
    if (this.#closing !== undefined) {
      void this.#closing.then(() => release({ closeBy: this.#clock.now(), reason: clientClosed(this.name) })).catch(() => {});
      return () => {};
    }
    this.#onClose.add(release);
    return () => {
      this.#onClose.delete(release);
    };
  }

  /** The current endpoint set, where it came from and how old it is. */
  endpoints(): EndpointsSnapshot {
    return this.#state.snapshot();
  }

  /** Calls in flight. */
  get activeCalls(): number {
    return this.#executor.active;
  }

  /**
   * The client's state as plain JSON: endpoints with load, in-flight and
   * ejection state, discovery staleness, budgets, and each policy's state
   * (breaker, limits). Off the hot path; safe to call at any time.
   */
  snapshot(): ClientSnapshot {
    const view = this.#state.snapshot();
    const now = wallClockNow(this.#clock); // wall-clock: certificates expire by it
    return {
      service: this.name,
      takenAt: new Date(now).toISOString(),
      activeCalls: this.#executor.active,
      closed: this.#closing !== undefined,
      discovery: {
        source: view.source,
        endpoints: view.endpoints.length,
        ageMs: view.ageMs,
        stale: view.stale,
        lastError: view.lastError?.message,
      },
      endpoints: endpointStatuses(view),
      retryBudgetRemaining: this.#executor.retryBudgetRemaining(),
      hedgeBudgetRemaining: this.#executor.hedgeBudgetRemaining(),
      policies: this.config.policies.map((policy) => ({ name: policy.name, state: policy.snapshot?.() })),
      ...identityField(this.config.transport.connection, now),
    };
  }

  /**
   * Stops discovery, refuses new calls (`ERR_CLIENT_CLOSED`), lets calls in
   * flight finish and bodies being read come in within `timeout` (then
   * aborts them), and closes every connection and timer: it returns within
   * its bound whatever the upstream does. Idempotent: later calls return the
   * same promise.
   */
  close(options: CloseOptions = {}): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    let timeoutMs: number;
    try {
      // Only a bound it can honour: past Node's timer limit a drain timer would fire at once and abort everything.
      timeoutMs = parseDuration(checkOptions(options, 'close', ['timeout'])['timeout'] ?? 5000, 'close.timeout');
    } catch (error) {
      return Promise.reject(error); // a bad option closes nothing: the client keeps working
    }
    this.#closing = this.#close(timeoutMs);
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #close(timeoutMs: number): Promise<void> {
    const closeBy = this.#clock.now() + timeoutMs;
    const closed = clientClosed(this.name);
    unregisterClient(this);
    this.#executor.refuseNew(closed);
    // Policies release what they hold now: calls queued in a bulkhead or waiting for a token are not in flight yet.
    // Each runs on its own: one that throws must not keep the others from closing.
    const policiesClosed = Promise.allSettled(this.config.policies.map(async (policy) => policy.close?.()));
    this.#state.stop();
    const checkerStopped = this.#checker?.stop();
    const drained = this.#executor.active === 0 || await settledWithin(this.#clock, this.#executor.idle(), timeoutMs);
    if (!drained) {
      this.#executor.stopAll(closed);
      await this.#executor.idle();
    }
    // Adapters' releases run beside the transport's close, so their own bodies in flight get the same bound.
    const closing: ClientClosing = { closeBy: drained ? closeBy : this.#clock.now(), reason: closed };
    const releases = Promise.allSettled([...this.#onClose].map(async (release) => release(closing)));
    // Response bodies still being read hold their connections: they get what is left of the bound, then everything still open is destroyed.
    const transportClosed = drained
      ? settledWithin(this.#clock, this.#http.close(), closeBy - this.#clock.now()).then((done) => (done ? undefined : this.#http.destroy(closed)))
      : this.#http.destroy(closed);
    await transportClosed;
    this.#timers.clear();
    // What others hand in (policies, onClose releases, the telemetry observer) gets what is left of the bound:
    // one that never settles must not keep close() from returning (it goes on in the background).
    const released = (async () => {
      await Promise.allSettled([policiesClosed, checkerStopped, releases]);
      await this.#observer?.close?.();
    })();
    if (!await settledWithin(this.#clock, released, closeBy - this.#clock.now())) {
      process.emitWarning(`meshkit: ${this.name}: close() returned at its bound while a policy, an onClose release or the telemetry observer was still closing`, { code: 'MESHKIT_CLOSE_OVERRUN' });
    }
    this.#onClose.clear();
    this.events.close();
  }

  #run(
    request: unknown,
    transport: CallTransport,
    classifier: Classifier,
    options: CallOptions,
    idempotent: boolean,
    replayable: boolean,
  ): Promise<unknown> {
    const invalid = invalidCallOption(options, this.#hasSubsets);
    if (invalid !== undefined) return Promise.reject(invalid);
    const now = this.#clock.now();
    // A call made while serving an inbound request inherits what is left of that request's deadline.
    let total = Math.min(this.config.timeouts.total, inboundRemainingMs());
    if (options.timeout !== undefined) {
      try {
        // 0 would fail the call before it is sent (some APIs read it as "no timeout"): refused, like the client's own.
        total = Math.min(total, parsePositiveDuration(options.timeout, 'options.timeout'));
      } catch (error) {
        return Promise.reject(isMeshkitError(error) ? invalidArgument('options.timeout', 'a duration > 0', options.timeout) : error);
      }
    }
    const call = new CallRecord<Attempt>(this.name, request, transport, classifier, now, now + total, idempotent, replayable, options.signal, options.key, options.subset);
    // Tighter than the client's own bound: the caller chose it, so its running out is the caller's doing.
    if (total < this.config.timeouts.total) call.deadlineIsCallers = true;
    if (this.events.tracking) callOwners.set(call, this.events); // only while retries are watched (or NODE_DEBUG=meshkit)
    const observer = this.#observer;
    if (observer === undefined) return this.#invoke(call);
    return this.#observed(call, observer);
  }

  /** The call path with telemetry: the observer sees the call start in the caller's context and its end. */
  #observed(call: Call, observer: CallObserver): Promise<unknown> {
    // Observers that record nothing for this call (no SDK registered) cost it nothing more.
    if (observer.callStart?.(call) === false) return this.#invoke(call);
    call.observed = true;
    let pending: Promise<unknown>;
    try {
      pending = this.#invoke(call);
    } catch (error) {
      pending = Promise.reject(error);
    }
    if (observer.callEnd === undefined) return pending;
    const end = observer.callEnd;
    return pending.then(
      (result) => {
        end(call, undefined, result);
        return result;
      },
      (error: unknown) => {
        end(call, error, undefined);
        throw error;
      },
    );
  }
}

export type { AttemptContext };
