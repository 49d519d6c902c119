import type { CircuitState } from '../core/breaker-state.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { BreakerRule } from './options.js';
import { RollingWindow } from './rolling-window.js';
import { acquireRotation, releaseRotation, type SharedRotation } from './rotation.js';

export type { CircuitState } from '../core/breaker-state.js';

/** Called on every state change of a {@link BreakerEngine}, after the change. */
export type BreakerChangeListener = (state: CircuitState, previous: CircuitState) => void;

/**
 * The opening rule, the one place it is written: a breaker opens when its
 * window holds at least `volumeThreshold` calls and more than
 * `errorThreshold` of them failed (strictly greater: at 0.5, half failed
 * does not open). Hystrix's rule, as opossum applies it.
 */
export function shouldOpen(rule: Pick<BreakerRule, 'errorThreshold' | 'volumeThreshold'>, calls: number, failures: number): boolean {
  return calls > 0 && calls >= rule.volumeThreshold && failures / calls > rule.errorThreshold;
}

/**
 * One breaker's state machine on the injected clock: closed, open, half-open.
 * It counts what it is told in a {@link RollingWindow} rotated by the timer it
 * shares with every breaker of the same clock and bucket length, and holds
 * one reset timer (`clock.setTimeout`) while open. It reads the clock only
 * when the state changes and in {@link retryAfterMs}; recording a call reads
 * no time at all.
 *
 * What to record, and who may pass while half-open, is the owner's business
 * (the service-level breaker lets one trial call through; the per-endpoint
 * breakers record the first outcome after the break): the engine only
 * applies the rule.
 * - closed: the call is counted; a failure that makes {@link shouldOpen}
 *   true opens the breaker;
 * - open: the call is counted (it was let in before the break) and changes
 *   nothing; after `resetTimeoutMs` the breaker turns half-open;
 * - half-open: a success closes the breaker with an empty window (as Polly
 *   does: failures from before the break must not re-open it at once); a
 *   failure opens it again for another `resetTimeoutMs`.
 * @internal Used by src/policies/circuit-breaker.ts and src/health/endpoint-breaker.ts.
 */
export class BreakerEngine {
  readonly rule: BreakerRule;
  readonly window: RollingWindow;
  readonly #clock: Clock;
  readonly #rotation: SharedRotation;
  readonly #onChange: BreakerChangeListener;
  #state: CircuitState = 'closed';
  #active = true;
  #resetTimer: TimerHandle | undefined = undefined;
  /** Clock time the breaker last opened. */
  #openedAt = 0;
  /** Clock time the current state began. */
  #since: number;
  #opened = 0;
  /** One closure per breaker, made here once: the shared rotation calls it. */
  readonly #rotate = (): void => this.window.rotate();
  readonly #turnHalfOpen = (): void => {
    this.#resetTimer = undefined;
    this.#move('half-open');
  };

  constructor(rule: BreakerRule, clock: Clock, onChange: BreakerChangeListener) {
    this.rule = rule;
    this.#clock = clock;
    this.#onChange = onChange;
    this.window = new RollingWindow(rule.buckets);
    this.#since = clock.now();
    this.#rotation = acquireRotation(clock, rule.windowMs / rule.buckets, this.#rotate);
  }

  get state(): CircuitState {
    return this.#state;
  }

  /** False once {@link shutdown} has run. */
  get active(): boolean {
    return this.#active;
  }

  /** Times the breaker opened (a failed half-open trial counts again). */
  get opened(): number {
    return this.#opened;
  }

  /** Clock time (`clock.now()`) the current state began; creation time while it never changed. */
  get since(): number {
    return this.#since;
  }

  /** Counts one call's verdict and applies the rule (see the class). Does nothing once shut down. */
  record(ok: boolean): void {
    if (!this.#active) return;
    this.window.record(ok);
    const state = this.#state;
    if (ok) {
      if (state === 'half-open') this.#close();
    } else if (state === 'half-open' || (state === 'closed' && shouldOpen(this.rule, this.window.calls, this.window.failures))) {
      this.open();
    }
  }

  /** Opens the breaker now (a half-open trial that proved nothing); arms the reset timer. No-op while open. */
  open(): void {
    if (!this.#active || this.#state === 'open') return;
    this.#opened++;
    this.#openedAt = this.#clock.now();
    this.#resetTimer = this.#clock.setTimeout(this.#turnHalfOpen, this.rule.resetTimeoutMs);
    this.#move('open');
  }

  /** While open: ms until it turns half-open; otherwise 0. */
  retryAfterMs(): number {
    return this.#state === 'open' ? Math.max(0, this.#openedAt + this.rule.resetTimeoutMs - this.#clock.now()) : 0;
  }

  /** Releases the reset timer and the share of the rotation; the state stays as it is, with no event. Idempotent. */
  shutdown(): void {
    if (!this.#active) return;
    this.#active = false;
    if (this.#resetTimer !== undefined) this.#clock.clearTimeout(this.#resetTimer);
    this.#resetTimer = undefined;
    releaseRotation(this.#rotation, this.#rotate);
  }

  #close(): void {
    this.window.clear();
    this.#move('closed');
  }

  #move(state: CircuitState): void {
    const previous = this.#state;
    if (previous === state) return;
    this.#state = state;
    this.#since = this.#clock.now();
    this.#onChange(state, previous);
  }
}
