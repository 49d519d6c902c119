import { connectivityState, Metadata, status, type Client as GrpcChannel, type ServiceError } from '@grpc/grpc-js';
import type { Endpoint } from '../core/endpoint.js';

/**
 * The errors {@link channelReady} raised itself. Only meshkit's own check
 * proves that nothing was sent: a status's `details` come from the server,
 * which may word its own backend's failure ("connect ECONNREFUSED ...") as
 * grpc-js words a refused connection.
 */
const notConnectedErrors = new WeakSet<object>();

/**
 * The error of a channel that could not connect: UNAVAILABLE, like grpc-js's
 * own "No connection established", so callers matching on `code` see what
 * grpc-js would have raised; `grpcErrorClassifier` reads it as a connect
 * failure (nothing was sent: any method may be retried).
 */
function notConnected(endpoint: Endpoint, state: connectivityState): ServiceError {
  const details = `No connection established to ${endpoint.id} (channel ${connectivityState[state]})`;
  const error = Object.assign(new Error(`${status.UNAVAILABLE} UNAVAILABLE: ${details}`), { code: status.UNAVAILABLE, details, metadata: new Metadata() });
  notConnectedErrors.add(error);
  return error;
}

/**
 * @internal True for a connect failure {@link channelReady} raised: the
 * channel never became READY, so no call was started on it.
 */
export function isNotConnected(error: unknown): boolean {
  return typeof error === 'object' && error !== null && notConnectedErrors.has(error);
}

/**
 * Resolves once `channel` is READY, connecting it if it is idle; rejects
 * with a connect failure as soon as it is in TRANSIENT_FAILURE or shut down
 * (fail fast, as a gRPC call without wait-for-ready does), or with the
 * signal's reason when `signal` aborts. Every governed call waits here
 * before it starts the gRPC call: a failure here is known to have sent
 * nothing (request streams: nothing was taken from the caller either), so it
 * is retried on another endpoint for any method. A READY channel resolves
 * without waiting for a state change.
 */
export function channelReady(channel: GrpcChannel, endpoint: Endpoint, signal: AbortSignal): Promise<void> {
  const inner = channel.getChannel();
  const stateNow = (): connectivityState => {
    try {
      return inner.getConnectivityState(true);
    } catch {
      return connectivityState.SHUTDOWN; // closed under us (the endpoint left, the client closed)
    }
  };
  const first = stateNow();
  if (first === connectivityState.READY) return Promise.resolve();
  if (first === connectivityState.TRANSIENT_FAILURE || first === connectivityState.SHUTDOWN) return Promise.reject(notConnected(endpoint, first));
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    let done = false;
    const finish = (error?: unknown): void => {
      done = true;
      signal.removeEventListener('abort', onAbort);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onAbort = (): void => finish(signal.reason);
    // No deadline on the watch (grpc-js would arm a ref'd timer): the attempt's signal bounds the wait.
    // A watch left behind by an abort fires once on the next state change and does nothing.
    const watch = (state: connectivityState): void => {
      try {
        inner.watchConnectivityState(state, Infinity, check);
      } catch {
        finish(notConnected(endpoint, connectivityState.SHUTDOWN));
      }
    };
    const check = (): void => {
      if (done) return;
      const state = stateNow();
      if (state === connectivityState.READY) finish();
      else if (state === connectivityState.TRANSIENT_FAILURE || state === connectivityState.SHUTDOWN) finish(notConnected(endpoint, state));
      else watch(state);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    watch(first);
  });
}
