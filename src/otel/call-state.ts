import type { Context, Span } from '@opentelemetry/api';
import type { AttemptContext } from '../core/attempt.js';
import type { CallContext } from '../core/call-context.js';
import type { SettledAttempt } from '../core/call-observer.js';

/** Why an attempt was sent: the call's first try, a retry after a failure, or a hedge racing one in flight. */
export type AttemptKind = 'first' | 'retry' | 'hedge';

/** What telemetry keeps for one attempt in flight. */
export class AttemptState {
  readonly attempt: AttemptContext;
  readonly kind: AttemptKind;
  /** The attempt span, while open; undefined when the call is not traced or the span is deferred or ended. */
  span: Span | undefined = undefined;
  /**
   * The first attempt's span is deferred: a call's only attempt is recorded on
   * the call span. True once the call has another attempt and this one has
   * its own span after all (made then, with its real start time).
   */
  spanned = false;
  /** The first attempt as it settled, kept (until the call ends) in case a later attempt gives it a span. */
  settled: SettledAttempt | undefined = undefined;

  constructor(attempt: AttemptContext, kind: AttemptKind) {
    this.attempt = attempt;
    this.kind = kind;
  }
}

/** What telemetry keeps for one call in flight; dropped when the call ends. */
export class CallState {
  readonly call: CallContext;
  /** The caller's context when the call started: the call span's parent. */
  readonly parent: Context;
  /** The method for HTTP calls; undefined for `client.call` functions. */
  readonly method: string | undefined;
  /** Path and query as sent (not yet redacted), for HTTP calls. */
  readonly path: string;
  /** The span name shared by the call span and its attempt spans. */
  readonly name: string;
  /** The route template (`url.template`), when the `urlTemplate` option knows it. */
  readonly template: string | undefined;
  /** The call span; undefined when the call is not traced. */
  span: Span | undefined = undefined;
  /** The call span's context (parent of attempt spans), made on the first attempt. */
  spanContext: Context | undefined = undefined;
  /** Hedges started so far (the executor's `hedgeStart`). */
  hedges = 0;
  /** True from a `hedgeStart` until its attempt starts: that attempt is a hedge, not a retry. */
  hedgeNext = false;
  /** True when the retry budget refused this call a retry (the executor's `retryBudgetExhausted`). */
  retryBudgetExhausted = false;
  /** The first attempt's record, while its span is deferred (traced calls only). */
  first: AttemptState | undefined = undefined;
  /** The redacted path, computed once when first needed. */
  redactedPath: string | undefined = undefined;
  /** Attempts in flight: most calls have one at a time, so no collection is made until a hedge races it. */
  #one: AttemptState | undefined = undefined;
  #more: AttemptState[] | undefined = undefined;
  /** @internal The list of calls in flight that holds this record, while it does (see calls-in-flight.ts). */
  inFlightOf: object | undefined = undefined;
  /** @internal Links in the observer's list of calls in flight. */
  previousInFlight: CallState | undefined = undefined;
  /** @internal See {@link CallState.previousInFlight}. */
  nextInFlight: CallState | undefined = undefined;

  constructor(call: CallContext, parent: Context, method: string | undefined, path: string, name: string, template: string | undefined) {
    this.call = call;
    this.parent = parent;
    this.method = method;
    this.path = path;
    this.name = name;
    this.template = template;
  }

  addAttempt(record: AttemptState): void {
    if (this.#one === undefined) this.#one = record;
    else (this.#more ??= []).push(record);
  }

  /** Removes and returns the record of `attempt`, if it is in flight. */
  takeAttempt(attempt: AttemptContext): AttemptState | undefined {
    const one = this.#one;
    if (one !== undefined && one.attempt === attempt) {
      this.#one = undefined;
      return one;
    }
    const more = this.#more;
    if (more === undefined) return undefined;
    const index = more.findIndex((r) => r.attempt === attempt);
    return index === -1 ? undefined : more.splice(index, 1)[0];
  }

  /** Removes and returns every attempt still in flight. */
  takeAll(): AttemptState[] {
    const all = this.#more ?? [];
    if (this.#one !== undefined) all.unshift(this.#one);
    this.#one = undefined;
    this.#more = undefined;
    return all;
  }

  /** True while an attempt is in flight. */
  get hasOpenAttempts(): boolean {
    return this.#one !== undefined || (this.#more !== undefined && this.#more.length > 0);
  }
}

/** The method of an HTTP request (`GET` when unset), or undefined when the call governs a function. */
export function httpMethodOf(request: unknown): string | undefined {
  if (typeof request === 'function' || request === null || typeof request !== 'object') return undefined;
  const { path, method } = request as { path?: unknown; method?: unknown };
  if (typeof path !== 'string') return undefined;
  return typeof method === 'string' ? method : 'GET';
}
