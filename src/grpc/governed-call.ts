import { type ClientReadableStream, type deserialize, type Metadata, type serialize, type ServiceError } from '@grpc/grpc-js';
import type { Client } from '../client/client.js';
import type { CallOptions } from '../client/request-options.js';
import type { AttemptContext } from '../core/attempt.js';
import type { Endpoint } from '../core/endpoint.js';
import { isMeshkitError } from '../core/errors.js';
import type { Outcome } from '../core/outcome.js';
import { channelReady } from './channel-ready.js';
import type { GrpcChannels } from './channels.js';
import { isStatusError } from './classify.js';
import { localDeadline } from './local-deadline.js';
import { attemptDeadline, attemptMetadata, remainingUntil } from './metadata.js';
import { passBytes, requestBytes } from './request-bytes.js';

/** Options of one governed gRPC call. */
export interface GrpcCallOptions extends CallOptions {
  /** Metadata to send (copied per attempt; trace and deadline entries are added). Default none. */
  readonly metadata?: Metadata | undefined;
}

/** The client half of a method definition as grpc-js and proto-loader describe it (path, serialisers). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface AnyMethod<Req = any, Res = any> {
  readonly path: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
  readonly requestSerialize: serialize<Req>;
  readonly responseDeserialize: deserialize<Res>;
}

/** What a governed call needs besides the request. */
export interface GovernedCallSettings {
  readonly client: Client;
  readonly channels: GrpcChannels;
  readonly classifyError: (error: unknown) => Outcome;
  /** Whether the method may be sent more than once when the caller does not say. */
  readonly idempotent: boolean;
}

async function unaryAttempt<Req, Res>(
  channels: GrpcChannels, method: AnyMethod<Req, Res>, request: Buffer, metadata: Metadata | undefined, endpoint: Endpoint, attempt: AttemptContext,
): Promise<Res> {
  const signal = attempt.signal;
  if (signal.aborted) throw signal.reason;
  const deadline = attemptDeadline(attempt); // absolute: waiting for the connection spends from it
  const channel = channels.get(endpoint);
  // A connect failure is known to have sent nothing only from this check, never from the status's text.
  await channelReady(channel, endpoint, signal);
  if (signal.aborted) throw signal.reason;
  return new Promise<Res>((resolve, reject) => {
    const onAbort = (): void => call.cancel();
    const call = channel.makeUnaryRequest<Buffer, Res>(
      method.path, passBytes, method.responseDeserialize, request,
      attemptMetadata(metadata, attempt, remainingUntil(deadline)), deadline === undefined ? {} : { deadline },
      (error, value) => {
        signal.removeEventListener('abort', onAbort);
        if (error !== null) reject(localDeadline(error, deadline, attempt));
        else resolve(value as Res);
      },
    );
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Starts a server stream once the channel is READY and resolves with it once
 * the server answered (response metadata, sent with or before the first
 * message); a failure before that (a trailers-only UNAVAILABLE, a refused
 * connection, the per-try timeout) fails the attempt, which meshkit may
 * retry elsewhere.
 */
async function streamAttempt<Req, Res>(
  channels: GrpcChannels, method: AnyMethod<Req, Res>, request: Buffer, metadata: Metadata | undefined, endpoint: Endpoint, attempt: AttemptContext,
): Promise<ClientReadableStream<Res>> {
  const signal = attempt.signal;
  if (signal.aborted) throw signal.reason;
  const deadline = attemptDeadline(attempt);
  const channel = channels.get(endpoint);
  await channelReady(channel, endpoint, signal);
  if (signal.aborted) throw signal.reason;
  return new Promise((resolve, reject) => {
    const stream = channel.makeServerStreamRequest<Buffer, Res>(
      method.path, passBytes, method.responseDeserialize, request,
      attemptMetadata(metadata, attempt, remainingUntil(deadline)), deadline === undefined ? {} : { deadline },
    );
    let settled = false;
    const onAbort = (): void => stream.cancel();
    const settle = (): void => {
      settled = true;
      signal.removeEventListener('abort', onAbort);
      stream.off('metadata', onMetadata);
    };
    const onMetadata = (): void => {
      settle();
      resolve(stream);
    };
    stream.once('metadata', onMetadata);
    // Stays attached: an error after the answer reaches the caller's own listener or iterator, never an unhandled 'error'.
    stream.on('error', (error: ServiceError) => {
      if (settled) return;
      settle();
      reject(localDeadline(error, deadline, attempt));
    });
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * @internal grpc-js users match on `ServiceError.code`: an upstream failure
 * that grpc-js raised reaches them as grpc-js raised it, not wrapped in
 * meshkit's `ERR_UPSTREAM` (meshkit's own errors stay `MeshkitError`s).
 */
export function nativeGrpcError(error: unknown): never {
  throw isMeshkitError(error, 'ERR_UPSTREAM') && isStatusError(error.cause) ? error.cause : error;
}

/** @internal The client.call options every governed call starts from. */
export function callOptions(settings: GovernedCallSettings, options: GrpcCallOptions) {
  return {
    idempotent: options.idempotent ?? settings.idempotent,
    signal: options.signal,
    timeout: options.timeout,
    key: options.key,
    subset: options.subset,
    classifyError: settings.classifyError,
  };
}

/**
 * One governed unary call: pick, per-try timeout, deadline as the gRPC
 * deadline, retries, breakers. The request is serialised once, before any
 * attempt: one `method.requestSerialize` cannot serialise rejects with
 * `ERR_INVALID_ARGUMENT` (blame `'caller'`), sent nowhere and counted nowhere.
 */
export async function governedUnary<Req, Res>(
  settings: GovernedCallSettings, method: AnyMethod<Req, Res>, request: Req, options: GrpcCallOptions = {},
): Promise<Res> {
  const { channels } = settings;
  const bytes = requestBytes(method.requestSerialize, request, 'request');
  return settings.client.call<Res>(
    (endpoint, attempt) => unaryAttempt(channels, method, bytes, options.metadata, endpoint, attempt),
    callOptions(settings, options),
  ).catch(nativeGrpcError);
}

/**
 * One governed server-streaming call: meshkit governs it until the server
 * answers (pick, connection, per-try timeout, retries before the first
 * message); the stream then runs under the call's gRPC deadline. The
 * caller's `signal` still cancels the stream afterwards. A request
 * `method.requestSerialize` cannot serialise rejects with
 * `ERR_INVALID_ARGUMENT` before any attempt.
 */
export async function governedServerStream<Req, Res>(
  settings: GovernedCallSettings, method: AnyMethod<Req, Res>, request: Req, options: GrpcCallOptions = {},
): Promise<ClientReadableStream<Res>> {
  const { channels } = settings;
  const bytes = requestBytes(method.requestSerialize, request, 'request');
  const stream = await settings.client.call<ClientReadableStream<Res>>(
    (endpoint, attempt) => streamAttempt(channels, method, bytes, options.metadata, endpoint, attempt),
    { ...callOptions(settings, options), discard: (lost) => lost.cancel() },
  ).catch(nativeGrpcError);
  const signal = options.signal;
  if (signal !== undefined) {
    const onAbort = (): void => stream.cancel();
    signal.addEventListener('abort', onAbort, { once: true });
    stream.once('close', () => signal.removeEventListener('abort', onAbort));
  }
  return stream;
}
