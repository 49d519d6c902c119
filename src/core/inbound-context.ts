import { AsyncLocalStorage } from 'node:async_hooks';
import { systemClock, type Clock } from './clock.js';

/** What an inbound request hands to the outbound calls made while serving it. */
export interface InboundContext {
  /** The service handling the request (for telemetry and errors); undefined when unknown. */
  readonly service?: string | undefined;
  /** Absolute `clock.now()` time by which the inbound request must be answered; `Infinity` when unbounded. */
  readonly deadline: number;
  /**
   * The clock `deadline` is on: the one of the code that set it (the server
   * adapter's `clock` option, a simulation's clock). Default `systemClock`.
   */
  readonly clock?: Clock | undefined;
}

const storage = new AsyncLocalStorage<InboundContext>();

/**
 * Runs `fn` with `context` as the inbound context: every meshkit call made
 * inside it, however deep and however asynchronous, inherits the remaining
 * deadline. The Express middleware and the Fastify plugin call this for you.
 */
export function runWithInbound<T>(context: InboundContext, fn: () => T): T {
  return storage.run(context, fn);
}

/** The inbound context of the request being served, if any. */
export function currentInbound(): InboundContext | undefined {
  return storage.getStore();
}

/** Milliseconds left of the inbound request's deadline (`Infinity` when there is none or no request is being served). */
export function inboundRemainingMs(): number {
  const inbound = storage.getStore();
  if (inbound === undefined || inbound.deadline === Infinity) return Infinity;
  return inbound.deadline - (inbound.clock ?? systemClock).now();
}
