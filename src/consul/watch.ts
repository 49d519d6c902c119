import { EventEmitter } from 'node:events';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { fullJitterBackoff } from '../core/backoff.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import { RejectedAnswerError } from '../discovery/rejected-answer.js';
import type { WatchSink, WatchSource } from '../discovery/shared-watch.js';
import { createAgentClient, type AgentClient } from './agent-client.js';
import { connectHealth } from './connect-health.js';
import type { ResolvedConsulOptions } from './options.js';
import { nextIndex, parseHealthAnswer, type ParsedHealth } from './parse.js';

/** Consul adds up to wait/16 of jitter to a blocking query; past that plus this margin the agent is not answering. */
const ANSWER_MARGIN_MS = 5_000;

/** A papi request context: emitting `cancel` aborts the request; `includeResponse` returns [res, body]. */
interface RequestContext extends EventEmitter {
  includeResponse: boolean;
}

interface HealthResponse {
  readonly headers: Record<string, string | string[] | undefined>;
}

/** papi's request as an `onRequest` extension sees it (papi 1.x): transport picked, HTTP request not yet made. */
interface PapiRequest {
  ctx?: EventEmitter;
  transport?: { request(options: unknown): ClientRequest };
}

interface PapiClient {
  _ext(event: 'onRequest', callback: (request: PapiRequest, next: () => void) => void): void;
}

/** The ctx event {@link watchTruncation} emits when a response's connection closed before its body ended. */
const TRUNCATED = 'meshkit:truncated';

/**
 * A papi `onRequest` extension: papi waits for the response's `end` only, so
 * a connection that drops mid-body would go unnoticed until the query's time
 * limit (the wait plus a margin, ~37 s by default). This wraps the transport
 * to see the response, and tells the request's ctx at once when it closes
 * incomplete.
 */
function watchTruncation(request: PapiRequest, next: () => void): void {
  const { ctx, transport } = request;
  if (ctx !== undefined && transport !== undefined) {
    request.transport = {
      request(options: unknown): ClientRequest {
        const req = transport.request(options);
        req.once('response', (res: IncomingMessage) => {
          res.once('close', () => {
            if (!res.complete) ctx.emit(TRUNCATED);
          });
        });
        return req;
      },
    };
  }
  next();
}

function signature(parsed: ParsedHealth): string {
  return JSON.stringify([parsed.endpoints, parsed.rejected.map((r) => [r.entry, r.error.message])]);
}

/**
 * One running watch of `/v1/health/service/<name>`: blocking queries with
 * index and wait, at most one poll start per `minInterval`, full-jitter
 * backoff after errors, and the last good set kept (the sink is only told
 * about errors). Everything it holds is released by `stop()`.
 */
class ConsulWatchRun {
  readonly #options: ResolvedConsulOptions;
  readonly #sink: WatchSink;
  readonly #client: AgentClient;
  readonly #label: string;
  #index: bigint | undefined = undefined;
  #failures = 0;
  #lastStart = Number.NEGATIVE_INFINITY;
  #timer: TimerHandle | undefined = undefined;
  #timerAt = 0;
  #inFlight: RequestContext | undefined = undefined;
  #stopped = false;
  /** Signature of the last answer passed on (a set, or an answer of rejected entries only). */
  #delivered: string | undefined = undefined;
  /** A poll failed since then: the next answer is passed on even if it is the same. */
  #failedSinceAnswer = false;

  constructor(options: ResolvedConsulOptions, sink: WatchSink) {
    this.#options = options;
    this.#sink = sink;
    this.#client = createAgentClient(options, true);
    (this.#client.consul as unknown as PapiClient)._ext('onRequest', watchTruncation);
    this.#label = `consul:${options.service}`;
  }

  begin(): void {
    void this.#poll();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#options.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#inFlight?.emit('cancel');
    this.#inFlight = undefined;
    this.#client.close();
  }

  /**
   * Poll as soon as `minInterval` allows. A blocking query in flight already
   * returns on any change, so it is left alone; so is the backoff after an
   * error, or every client that saw a connection refused would pull its watch
   * onto the same minInterval grid and undo the jitter.
   */
  refresh(): void {
    if (this.#stopped || this.#timer === undefined || this.#failures > 0) return;
    const at = Math.max(this.#options.clock.now(), this.#lastStart + this.#options.minIntervalMs);
    if (at < this.#timerAt) this.#schedule(at);
  }

  #schedule(at: number): void {
    const clock = this.#options.clock;
    if (this.#timer !== undefined) clock.clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = clock.setTimeout(() => {
      this.#timer = undefined;
      void this.#poll();
    }, Math.max(0, at - clock.now()));
  }

  async #poll(): Promise<void> {
    if (this.#stopped) return;
    const { clock, waitMs } = this.#options;
    this.#lastStart = clock.now();
    const blocking = this.#index !== undefined;
    const ctx = Object.assign(new EventEmitter(), { includeResponse: true }) as RequestContext;
    const limitMs = blocking ? waitMs + waitMs / 16 + ANSWER_MARGIN_MS : ANSWER_MARGIN_MS * 2;
    let timedOut = false;
    let truncated = false;
    const timeout = clock.setTimeout(() => {
      timedOut = true;
      ctx.emit('cancel');
    }, limitMs);
    // The connection closed mid-answer: fail now and back off, rather than wait out the time limit.
    ctx.once(TRUNCATED, () => {
      truncated = true;
      ctx.emit('cancel');
    });
    this.#inFlight = ctx;
    let response: HealthResponse | undefined;
    let body: unknown;
    let failure: unknown;
    try {
      const query = {
        service: this.#options.service,
        passing: this.#options.passingOnly,
        ...(this.#options.datacenter === undefined ? {} : { dc: this.#options.datacenter }),
        ...this.#queryExtras(blocking),
      };
      [response, body] = (await (this.#options.connect
        ? connectHealth(this.#client.consul, query, this.#options.service, this.#options.token)
        : this.#client.consul.health.service(query as { service: string }))) as unknown as [HealthResponse, unknown];
    } catch (error) {
      failure = timedOut ? new Error(`${this.#label}: the agent did not answer within ${Math.round(limitMs)} ms`, { cause: error })
        : truncated ? new Error(`${this.#label}: the agent's connection closed before the answer was complete`, { cause: error })
        : error;
    } finally {
      clock.clearTimeout(timeout);
      if (this.#inFlight === ctx) this.#inFlight = undefined;
    }
    if (this.#stopped) return;
    if (failure === undefined && response !== undefined) {
      try {
        this.#accept(response, body);
        return;
      } catch (error) {
        failure = error;
      }
    }
    this.#fail(failure);
  }

  /** index/wait for a blocking query, node-meta filters, and the papi context (passed through by the consul package). */
  #queryExtras(blocking: boolean): Record<string, unknown> {
    const extras: Record<string, unknown> = { ctx: this.#inFlight };
    if (blocking) {
      extras['index'] = String(this.#index);
      extras['wait'] = `${Math.ceil(this.#options.waitMs)}ms`;
    }
    const meta = Object.entries(this.#options.nodeMeta).map(([key, value]) => `${key}:${value}`);
    if (meta.length > 0) extras['node-meta'] = meta;
    return extras;
  }

  #accept(response: HealthResponse, body: unknown): void {
    const parsed = parseHealthAnswer(body, this.#options.tags, this.#label);
    this.#index = nextIndex(response.headers['x-consul-index'], this.#index);
    this.#failures = 0;
    const sig = signature(parsed);
    // The index also moves for unrelated changes: only a different answer (or one after a failed poll) is news.
    if (sig !== this.#delivered || this.#failedSinceAnswer) {
      this.#delivered = sig;
      this.#failedSinceAnswer = false;
      for (const { entry, error } of parsed.rejected) this.#sink.reject(entry, error);
      // Instances, none valid: a broken answer, not "no instances"; the last good set stays.
      if (parsed.endpoints.length === 0 && parsed.rejected.length > 0) this.#sink.error(new RejectedAnswerError(this.#label, parsed.rejected));
      else this.#sink.update(parsed.endpoints, parsed.rejected);
    }
    this.#schedule(this.#lastStart + this.#options.minIntervalMs);
  }

  #fail(failure: unknown): void {
    const message = failure instanceof Error ? failure.message : String(failure);
    const error = message.startsWith(this.#label) && failure instanceof Error
      ? failure
      : new Error(`${this.#label}: ${message}`, { cause: failure });
    // Start over with a non-blocking read: the old index may belong to an agent that restarted.
    this.#index = undefined;
    this.#failures += 1;
    this.#failedSinceAnswer = true;
    this.#sink.error(error);
    const { clock, backoffBaseMs, backoffCapMs, minIntervalMs } = this.#options;
    const delay = fullJitterBackoff(this.#failures, backoffBaseMs, backoffCapMs, clock.random());
    // Jitter above the minInterval floor, not clipped by it: watches that failed together must not re-poll in step.
    this.#schedule(Math.max(clock.now(), this.#lastStart + minIntervalMs) + delay);
  }
}

/** The {@link WatchSource} of one Consul service query; equal options share one running watch. */
export class ConsulWatchSource implements WatchSource {
  readonly key: string;
  readonly source: string;
  readonly clock: Clock;
  readonly #options: ResolvedConsulOptions;
  #run: ConsulWatchRun | undefined = undefined;

  constructor(options: ResolvedConsulOptions) {
    this.#options = options;
    this.key = options.key;
    this.source = `consul:${options.service}`;
    this.clock = options.clock;
  }

  start(sink: WatchSink): () => void {
    const run = new ConsulWatchRun(this.#options, sink);
    this.#run = run;
    run.begin();
    return () => {
      run.stop();
      if (this.#run === run) this.#run = undefined;
    };
  }

  refresh(): void {
    this.#run?.refresh();
  }
}
