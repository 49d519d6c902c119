import type { AttemptSink } from '../core/call-transport.js';
import { MeshkitError } from '../core/errors.js';

/**
 * The errors a simulated connection fails with: the same classes of error,
 * with the same codes, that undici and Node give on a real socket, so that
 * meshkit's classifier (transports/error-classifier.ts) reads them exactly
 * as it reads real ones.
 */

/** Nothing listens at the address (instance down, or refusing): `ECONNREFUSED`, an upstream `connect` outcome. */
export function connectionRefused(host: string, port: number): Error {
  return Object.assign(new Error(`connect ECONNREFUSED ${host}:${port}`), {
    code: 'ECONNREFUSED', errno: -111, syscall: 'connect', address: host, port,
  });
}

/** The connection closed under the request (undici's `SocketError`): an upstream `reset` outcome. */
export function connectionReset(): Error {
  return Object.assign(new Error('other side closed'), { name: 'SocketError', code: 'UND_ERR_SOCKET' });
}

/** No headers within undici's headers timeout: an upstream `timeout` outcome. */
export function headersTimedOut(): Error {
  return Object.assign(new Error('Headers Timeout Error'), { name: 'HeadersTimeoutError', code: 'UND_ERR_HEADERS_TIMEOUT' });
}

/**
 * A body stalled past the body timeout, as meshkit's undici transport
 * reports it (transports/body-watch.ts): `ERR_TIMEOUT` in the `body` phase
 * with undici's `UND_ERR_BODY_TIMEOUT` as its cause; an upstream failure.
 */
export function bodyStalled(attempt: AttemptSink, timeoutMs: number): MeshkitError {
  const { service } = attempt.call;
  const cause = Object.assign(new Error('Body Timeout Error'), { name: 'BodyTimeoutError', code: 'UND_ERR_BODY_TIMEOUT' });
  return new MeshkitError(
    'ERR_TIMEOUT',
    `${service}: the response body of attempt ${attempt.number} from ${attempt.endpoint.id} stalled for ${timeoutMs} ms`,
    { service, endpoint: attempt.endpoint.id, attempt: attempt.number, timeoutMs, phase: 'body' },
    { cause },
  );
}
