import { status, type ClientDuplexStream, type Metadata, type ClientWritableStream, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import type { AttemptContext } from '../core/attempt.js';
import type { Endpoint } from '../core/endpoint.js';
import { invalidArgument, isMeshkitError } from '../core/errors.js';
import { Outcomes, type Outcome } from '../core/outcome.js';
import { channelReady } from './channel-ready.js';
import { isStatusError } from './classify.js';
import type { GrpcChannels } from './channels.js';
import { callOptions, nativeGrpcError, type AnyMethod, type GovernedCallSettings, type GrpcCallOptions } from './governed-call.js';
import { localDeadline } from './local-deadline.js';
import { attemptDeadline, attemptMetadata, remainingUntil } from './metadata.js';
import { passBytes, requestBytes, unserializable, WatchedSerializer } from './request-bytes.js';

/** The request messages of a client-streaming call: an array, a generator, a Node `Readable` in object mode, ... */
export type RequestStream<Req> = Iterable<Req> | AsyncIterable<Req>;

/** Errors raised once the request stream was in use: the call can no longer be sent again. */
const afterHandover = new WeakSet<object>();
/** Errors the caller caused (its request iterable threw, it cancelled the stream): they say nothing about the endpoint. */
const byCaller = new WeakSet<object>();

function tag(set: WeakSet<object>, error: unknown): unknown {
  if (typeof error === 'object' && error !== null) set.add(error);
  return error;
}

/**
 * The classifier of request-streaming calls: `base`, except that a failure
 * after the stream was handed over is never retryable (a stream cannot be
 * replayed) and one the caller caused is `aborted` (not the endpoint's fault).
 */
function streamingClassifier(base: (error: unknown) => Outcome): (error: unknown) => Outcome {
  return (error: unknown): Outcome => {
    if (typeof error === 'object' && error !== null) {
      if (byCaller.has(error)) return Outcomes.aborted;
      if (afterHandover.has(error)) {
        const outcome = base(error);
        return outcome.retryable ? Object.freeze({ ...outcome, retryable: false }) : outcome;
      }
    }
    return base(error);
  };
}

/**
 * `client.call` options of a request-streaming call. Never idempotent (no
 * hedging, no retry of a failure after the stream started) whatever the
 * caller says; still replayable in meshkit's sense because the only failure
 * left retryable is a connect failure met before anything was taken from the
 * caller (see {@link channelReady}).
 */
function streamingOptions(settings: GovernedCallSettings, options: GrpcCallOptions) {
  return { ...callOptions(settings, options), idempotent: false, classifyError: streamingClassifier(settings.classifyError) };
}

/** Thrown by {@link pump} for a request message the method cannot serialise (the caller's), tagged so it is not taken for the iterable's own error. */
const badMessages = new WeakSet<object>();

/**
 * Serialises `requests` (with the method's serialiser: a message it cannot
 * serialise is the caller's, see {@link unserializable}), writes them to
 * `call` with backpressure and half-closes it; stops early once `isDone()`.
 */
async function pump<Req>(
  call: ClientWritableStream<Buffer>, requestSerialize: AnyMethod<Req>['requestSerialize'], requests: RequestStream<Req>,
  isDone: () => boolean, drained: () => Promise<void>,
): Promise<void> {
  for await (const request of requests) {
    if (isDone()) return; // leaving the loop closes the caller's iterator
    let bytes: Buffer;
    try {
      bytes = requestBytes(requestSerialize, request, 'requests');
    } catch (error) {
      throw tag(badMessages, error);
    }
    if (!call.write(bytes)) await drained();
    if (isDone()) return;
  }
  if (!isDone()) call.end();
}

async function clientStreamAttempt<Req, Res>(
  channels: GrpcChannels, method: AnyMethod<Req, Res>, requests: RequestStream<Req>, metadata: Metadata | undefined, endpoint: Endpoint, attempt: AttemptContext,
): Promise<Res> {
  const signal = attempt.signal;
  if (signal.aborted) throw signal.reason;
  const deadline = attemptDeadline(attempt); // absolute: waiting for the connection spends from it
  const channel = channels.get(endpoint);
  await channelReady(channel, endpoint, signal);
  if (signal.aborted) throw signal.reason;
  return new Promise<Res>((resolve, reject) => {
    let done = false;
    let wake: (() => void) | undefined;
    const finish = (error: unknown, value?: Res): void => {
      if (done) return;
      done = true;
      signal.removeEventListener('abort', onAbort);
      wake?.();
      if (error === undefined) resolve(value as Res);
      else reject(error);
    };
    const call = channel.makeClientStreamRequest<Buffer, Res>(
      method.path, passBytes, method.responseDeserialize,
      attemptMetadata(metadata, attempt, remainingUntil(deadline)), deadline === undefined ? {} : { deadline },
      (error, value) => finish(error === null ? undefined : tag(afterHandover, localDeadline(error, deadline, attempt)), value as Res),
    );
    const onAbort = (): void => call.cancel();
    signal.addEventListener('abort', onAbort, { once: true });
    // The writable side's own failures (rare: the status normally arrives through the callback).
    call.on('error', (error: unknown) => finish(tag(afterHandover, error)));
    const drained = (): Promise<void> => new Promise<void>((resolveDrain) => {
      const onDrain = (): void => {
        call.off('drain', onDrain);
        wake = undefined;
        resolveDrain();
      };
      wake = onDrain;
      call.on('drain', onDrain);
    });
    pump(call, method.requestSerialize, requests, () => done, drained).catch((error: unknown) => {
      if (done) return;
      // The caller's iterable failed (its error is the answer), or one of its messages cannot be serialised
      // (ERR_INVALID_ARGUMENT, classified as refused): either way the call is cancelled.
      finish(badMessages.has(error as object) ? error : tag(byCaller, error));
      call.cancel();
    });
  });
}

async function bidiAttempt<Req, Res>(
  channels: GrpcChannels, method: AnyMethod<Req, Res>, metadata: Metadata | undefined, endpoint: Endpoint, attempt: AttemptContext,
  handOver: (stream: ClientDuplexStream<Req, Res>) => void,
): Promise<void> {
  const signal = attempt.signal;
  if (signal.aborted) throw signal.reason;
  const deadline = attemptDeadline(attempt);
  const channel = channels.get(endpoint);
  await channelReady(channel, endpoint, signal);
  if (signal.aborted) throw signal.reason;
  // The caller writes its own messages: one the method cannot serialise makes grpc-js end the stream with INTERNAL.
  const serializer = new WatchedSerializer(method.requestSerialize);
  const stream = channel.makeBidiStreamRequest<Req, Res>(
    method.path, serializer.serialize, method.responseDeserialize,
    attemptMetadata(metadata, attempt, remainingUntil(deadline)), deadline === undefined ? {} : { deadline },
  );
  // Whether the caller cancelled the stream is known from its own call of cancel(), never from the status's text.
  const cancel = stream.cancel.bind(stream);
  let cancelledByCaller = false;
  stream.cancel = (): void => {
    cancelledByCaller = true;
    cancel();
  };
  return new Promise<void>((resolve, reject) => {
    let failure: ServiceError | undefined;
    const onAbort = (): void => {
      // The call's deadline is the stream's gRPC deadline too: grpc-js ends it with DEADLINE_EXCEEDED, as the server sees it.
      if (deadline !== undefined && isMeshkitError(signal.reason, 'ERR_DEADLINE_EXCEEDED')) return;
      cancel();
    };
    // Stays attached: the caller's own listener or iterator gets the error too, never an unhandled 'error'.
    stream.on('error', (error: ServiceError) => {
      failure ??= error;
    });
    stream.once('status', (final: StatusObject) => {
      signal.removeEventListener('abort', onAbort);
      if (final.code === status.OK) {
        resolve();
        return;
      }
      const error = failure ?? Object.assign(new Error(`${final.code} ${status[final.code]}: ${final.details}`), final);
      if (serializer.failed && final.code === status.INTERNAL) reject(unserializable('requests', serializer.failure));
      else reject(tag(cancelledByCaller && final.code === status.CANCELLED ? byCaller : afterHandover, localDeadline(error, deadline, attempt)));
    });
    signal.addEventListener('abort', onAbort, { once: true });
    handOver(stream);
  });
}

/**
 * One governed client-streaming call: picks an endpoint, waits for its
 * channel to be connected (a connect failure there is retried on another
 * endpoint: nothing was taken from `requests` yet), then writes `requests`
 * (with backpressure), half-closes and resolves with the response. The whole
 * call is one attempt: it counts as in flight until the response, the call's
 * deadline (and `timeout.perTry`) bound all of it, and its status is
 * classified. Once a request was taken the call is never sent again.
 * `options.idempotent` is ignored (a stream cannot be replayed).
 */
export function governedClientStream<Req, Res>(
  settings: GovernedCallSettings, method: AnyMethod<Req, Res>, requests: RequestStream<Req>, options: GrpcCallOptions = {},
): Promise<Res> {
  if (requests === null || typeof requests !== 'object' || (typeof (requests as Iterable<Req>)[Symbol.iterator] !== 'function'
    && typeof (requests as AsyncIterable<Req>)[Symbol.asyncIterator] !== 'function')) {
    return Promise.reject(invalidArgument('requests', 'an iterable or async iterable of request messages', requests));
  }
  const { channels } = settings;
  return settings.client.call<Res>(
    (endpoint, attempt) => clientStreamAttempt(channels, method, requests, options.metadata, endpoint, attempt),
    streamingOptions(settings, options),
  ).catch(callersOwnError);
}

/**
 * The call ended by the caller's doing (`ERR_ABORTED`, blame `'caller'`, so
 * breakers do not count it): a caller whose request iterable failed gets
 * its own error back; grpc-js statuses as {@link nativeGrpcError} passes them.
 */
function callersOwnError(error: unknown): never {
  if (isMeshkitError(error, 'ERR_ABORTED') && typeof error.cause === 'object' && error.cause !== null && byCaller.has(error.cause)) throw error.cause;
  return nativeGrpcError(error);
}

/**
 * One governed bidi-streaming call: picks an endpoint, waits for its channel
 * to be connected (a connect failure there is retried on another endpoint),
 * starts the stream and resolves with it. meshkit governs the stream until it
 * ends: it counts as in flight (balancer load, concurrency limits), the
 * call's deadline is its gRPC deadline, `timeout.perTry` and
 * `options.signal` cancel it, `client.close()` drains then cancels it, and
 * its final status is classified (breakers, outlier detection). It is never
 * sent again once handed over; errors reach the caller on the stream.
 */
export function governedBidiStream<Req, Res>(
  settings: GovernedCallSettings, method: AnyMethod<Req, Res>, options: GrpcCallOptions = {},
): Promise<ClientDuplexStream<Req, Res>> {
  const { channels } = settings;
  return new Promise((resolve, reject) => {
    let handed = false;
    settings.client.call<void>(
      (endpoint, attempt) => bidiAttempt(channels, method, options.metadata, endpoint, attempt, (stream) => {
        handed = true;
        resolve(stream);
      }),
      streamingOptions(settings, options),
    ).then(undefined, (error: unknown) => {
      // Afterwards the error is on the stream, where the caller reads it.
      if (!handed) reject(isMeshkitError(error, 'ERR_UPSTREAM') && isStatusError(error.cause) ? error.cause : error);
    });
  });
}
