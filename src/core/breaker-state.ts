/** Where a breaker is: letting calls through, failing them fast, or letting one trial through. */
export type CircuitState = 'closed' | 'open' | 'half-open';

/** What a {@link BreakerStateMessage} carries of the breaker that changed: enough to tell breakers apart and read the state again. */
export interface ObservedBreaker {
  readonly name: string;
  readonly state: CircuitState;
}

/**
 * Published on `meshkit:breaker:state` when a breaker changes state.
 * `Breaker` is the breaker's own type where the publisher is known (a
 * service-level breaker publishes its `CircuitBreakerPolicy`); a channel
 * subscriber sees {@link ObservedBreaker}.
 */
export interface BreakerStateMessage<Breaker extends ObservedBreaker = ObservedBreaker> {
  /** The service of the client using the breaker ('' before its first call). */
  readonly service: string;
  /** The breaker's name. */
  readonly name: string;
  readonly state: CircuitState;
  readonly previous: CircuitState;
  /** The breaker itself (compare it with yours; the state it is in now). */
  readonly breaker: Breaker;
}
