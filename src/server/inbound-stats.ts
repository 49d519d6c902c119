/**
 * What the inbound side did with requests' deadline headers, as plain JSON
 * with stable keys; a type alias so it is a `Record<string, unknown>`.
 */
export type InboundSnapshot = {
  readonly kind: 'inbound';
  /** Requests whose `x-meshkit-deadline` or `grpc-timeout` was unreadable: the header was ignored (as if absent). */
  readonly malformedDeadlines: number;
  /** Requests that asked for more than `deadline.max`: their deadline was cut to it. */
  readonly clampedDeadlines: number;
  /** Requests that arrived with no time left: answered 504, their handler never ran. */
  readonly expiredDeadlines: number;
};

/**
 * Counters of the inbound middleware (`inbound().stats`) or plugin
 * (`fastify.meshkit.inbound`): deadline headers ignored as malformed, cut to
 * `deadline.max`, or already spent. A caller sending garbage or asking for
 * days shows up here instead of in the service's timers. Counting costs
 * nothing for a request with a well-formed header within bounds.
 */
export class InboundStats {
  #malformed = 0;
  #clamped = 0;
  #expired = 0;

  /** Requests whose deadline header was unreadable and ignored. */
  get malformedDeadlines(): number {
    return this.#malformed;
  }

  /** Requests whose deadline was cut to `deadline.max`. */
  get clampedDeadlines(): number {
    return this.#clamped;
  }

  /** Requests answered 504 on arrival, their deadline already spent. */
  get expiredDeadlines(): number {
    return this.#expired;
  }

  /** @internal */
  countMalformed(): void {
    this.#malformed++;
  }

  /** @internal */
  countClamped(): void {
    this.#clamped++;
  }

  /** @internal */
  countExpired(): void {
    this.#expired++;
  }

  /** The counters as plain JSON. */
  snapshot(): InboundSnapshot {
    return { kind: 'inbound', malformedDeadlines: this.#malformed, clampedDeadlines: this.#clamped, expiredDeadlines: this.#expired };
  }
}
