import type { Endpoint } from '../core/endpoint.js';
import { MeshkitError } from '../core/errors.js';
import type { Call } from './attempt.js';
import type { AttemptRunner } from './attempt-runner.js';
import { deadlineError } from './call-errors.js';
import type { EndpointState } from './endpoint-state.js';
import { Pause } from './pause.js';

/** How long a call waits for discovery's first set when it has no deadline of its own. */
const FIRST_SET_WAIT_MS = 10_000;

/**
 * @internal The slow path of picking: no picker yet, or it returned nothing.
 * Waits for discovery's first set (or a new one) within the call's deadline
 * and at most 10 s; rejects with `ERR_NO_ENDPOINTS` (discovery's last error
 * as `cause`) or `ERR_DEADLINE_EXCEEDED`, or with why the call stopped.
 */
export async function waitForEndpoint(call: Call, endpoints: EndpointState, runner: AttemptRunner): Promise<Endpoint> {
  const clock = runner.clock;
  const service = runner.service;
  const giveUpAt = Math.min(call.deadline, clock.now() + FIRST_SET_WAIT_MS);
  for (;;) {
    if (call.stopped !== undefined) throw call.stopped;
    const closing = runner.closing();
    if (closing !== undefined) throw closing;
    const endpoint = endpoints.picker?.pick(call);
    if (endpoint !== undefined) return endpoint;
    const remaining = giveUpAt - clock.now();
    if (endpoints.resolved || remaining <= 0) {
      // Why there are none is discovery's last error, if it has one: the caller gets it as the cause.
      const view = endpoints.snapshot();
      const cause = view.lastError;
      if (call.deadline <= clock.now()) throw deadlineError(service, call, cause, undefined, view.stale);
      const why = cause === undefined ? '' : ` (discovery: ${cause.message})`;
      throw new MeshkitError('ERR_NO_ENDPOINTS', `${service}: no endpoints available${why}`, {
        service, source: view.source, stale: view.stale, endpoints: view.endpoints.length,
      }, cause === undefined ? undefined : { cause });
    }
    const pause = new Pause(clock, call);
    const forget = endpoints.waitForUpdate(pause);
    await pause.wait(remaining);
    forget();
  }
}
