import type { Balancer } from '../balancing/balancer.js';
import type { AdmissionGate } from '../core/admission.js';
import type { CallObserver } from '../core/call-observer.js';
import type { Clock } from '../core/clock.js';
import type { TimerQueue } from '../core/timer-queue.js';
import type { EndpointHealthFilter } from '../health/endpoint-health-filter.js';
import type { EndpointState } from './endpoint-state.js';
import type { HedgeSettings } from './hedge.js';
import type { RetrySettings } from './retry.js';
import type { TimeoutSettings } from './timeout.js';

/** @internal What an executor is built from: the client's resolved settings and its parts. */
export interface ExecutorSettings {
  readonly service: string;
  readonly clock: Clock;
  readonly timers: TimerQueue;
  readonly timeouts: TimeoutSettings;
  readonly retry: RetrySettings;
  readonly endpoints: EndpointState;
  readonly balancer: Balancer;
  /** The endpoint health filter, when configured: sees every attempt's outcome. */
  readonly health: EndpointHealthFilter | undefined;
  /** Hedging, when configured. */
  readonly hedge: HedgeSettings | undefined;
  /** No `wrap` policy sits between the client and the executor (so a call reaches it when it starts). */
  readonly firstAttemptAtStart: boolean;
  /** The admission gates at the inner end of the pipeline, outermost first, run in line (see core/admission.ts). */
  readonly gates?: readonly AdmissionGate[];
  /** Telemetry watching attempts (already guarded against throwing); undefined when none. */
  readonly observer: CallObserver | undefined;
}
