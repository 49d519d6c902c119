/**
 * `meshkit/grpc`: gRPC calls (@grpc/grpc-js) governed by a meshkit client.
 * @packageDocumentation
 */
import type { ClientDuplexStream, ClientReadableStream, ServiceClientConstructor, ServiceDefinition } from '@grpc/grpc-js';
import type { Client } from '../client/client.js';
import { invalidArgument, invalidConfig } from '../core/errors.js';
import { checkOptions } from '../core/options.js';
import { grpcChannels, GrpcChannels, type GrpcChannelsOptions } from './channels.js';
import { checkRetryableCodes, DEFAULT_RETRYABLE_CODES, grpcErrorClassifier } from './classify.js';
import { governedServerStream, governedUnary, type AnyMethod, type GovernedCallSettings, type GrpcCallOptions } from './governed-call.js';
import { governedBidiStream, governedClientStream, type RequestStream } from './streaming-call.js';

/** Options of {@link grpcClient}. */
export interface GrpcClientOptions extends GrpcChannelsOptions {
  /** Channels to use (share them between services). Default: the client's shared channels, or new ones when `credentials` / `channelOptions` are given. */
  readonly channels?: GrpcChannels;
  /** Status codes retried on another endpoint (idempotent methods only). Default `[UNAVAILABLE]`. */
  readonly retryableCodes?: readonly number[];
  /**
   * Methods (by name, as in the definition) that may be sent more than once.
   * Default: those whose proto declares `idempotency_level` NO_SIDE_EFFECTS or
   * IDEMPOTENT (read from proto-loader definitions); none otherwise.
   */
  readonly idempotentMethods?: readonly string[];
}

/** A governed unary method: resolves with the response message. */
export type UnaryMethod<Req, Res> = (request: Req, options?: GrpcCallOptions) => Promise<Res>;

/** A governed server-streaming method: resolves with the stream once the server answered. */
export type ServerStreamMethod<Req, Res> = (request: Req, options?: GrpcCallOptions) => Promise<ClientReadableStream<Res>>;

/**
 * A governed client-streaming method: sends every message of `requests`
 * (an array, a generator, an object-mode `Readable`, ...), then resolves
 * with the response. Never sent twice once a request was taken.
 */
export type ClientStreamMethod<Req, Res> = (requests: RequestStream<Req>, options?: GrpcCallOptions) => Promise<Res>;

/** A governed bidi-streaming method: resolves with the started stream, governed until it ends. */
export type BidiStreamMethod<Req, Res> = (options?: GrpcCallOptions) => Promise<ClientDuplexStream<Req, Res>>;

/**
 * The governed methods of a service, typed from the definition's literal
 * `requestStream` / `responseStream` flags (hand-written or generated
 * types): unary, server-streaming, client-streaming and bidi-streaming.
 * Untyped (proto-loader) definitions, whose flags are plain `boolean`, give
 * unary signatures with `unknown` messages: pass your own definition type
 * as the type argument.
 */
export type GovernedGrpcClient<S> = {
  readonly [K in keyof S]: S[K] extends AnyMethod<infer Req, infer Res> & { readonly requestStream: infer RequestStreamFlag; readonly responseStream: infer ResponseStreamFlag }
    ? [RequestStreamFlag] extends [true]
      ? [ResponseStreamFlag] extends [true] ? BidiStreamMethod<Req, Res> : ClientStreamMethod<Req, Res>
      : [ResponseStreamFlag] extends [true] ? ServerStreamMethod<Req, Res> : UnaryMethod<Req, Res>
    : never;
};

const GRPC_CLIENT_KEYS: readonly (keyof GrpcClientOptions)[] = ['channels', 'retryableCodes', 'idempotentMethods', 'credentials', 'channelOptions'];

function definitionOf(service: ServiceDefinition | ServiceClientConstructor): ServiceDefinition {
  const definition = typeof service === 'function' ? service.service : service;
  if (definition === null || typeof definition !== 'object') {
    throw invalidConfig('service', 'a grpc-js service definition or a client constructor from loadPackageDefinition', service);
  }
  return definition;
}

function declaredIdempotent(method: AnyMethod): boolean {
  // proto-loader keeps method options; grpc-js's type does not declare them.
  const level = (method as { options?: { idempotency_level?: unknown } }).options?.idempotency_level;
  return level === 'IDEMPOTENT' || level === 'NO_SIDE_EFFECTS';
}

/**
 * A governed client for one gRPC service on a meshkit client:
 * `const greeter = grpcClient(meshkitClient, GreeterService)` then
 * `await greeter.sayHello({ name })`. Each call picks an endpoint, uses that
 * endpoint's channel (opened on first use, closed when it leaves the set or
 * the client closes), sends the call's remaining time as the gRPC deadline
 * (and `x-meshkit-deadline`) and the trace headers as metadata, and
 * classifies the status: UNAVAILABLE is retried on another endpoint for
 * idempotent methods (for any method when no connection was made),
 * DEADLINE_EXCEEDED is a timeout, UNKNOWN / INTERNAL / UNAVAILABLE /
 * DATA_LOSS count against the endpoint (outlier detection, breakers).
 * Client- and bidi-streaming calls are governed for their whole life and
 * never sent twice once the request stream is in use (only a connect
 * failure before that is retried). Throws `ERR_INVALID_CONFIG` naming
 * `options.<option>` for a bad or unknown option.
 */
export function grpcClient<S extends ServiceDefinition = ServiceDefinition>(
  client: Client,
  service: S | ServiceClientConstructor,
  options: GrpcClientOptions = {},
): GovernedGrpcClient<S> {
  if (client === null || typeof client !== 'object' || typeof client.call !== 'function') throw invalidConfig('client', 'a meshkit Client', client);
  checkOptions(options, 'options', GRPC_CLIENT_KEYS);
  const definition = definitionOf(service);
  const retryableCodes = checkRetryableCodes(options.retryableCodes ?? DEFAULT_RETRYABLE_CODES, 'options.retryableCodes');
  const idempotentMethods = options.idempotentMethods;
  if (idempotentMethods !== undefined && (!Array.isArray(idempotentMethods) || !idempotentMethods.every((name) => typeof name === 'string'))) {
    throw invalidConfig('options.idempotentMethods', 'an array of method names', idempotentMethods);
  }
  if (options.channels !== undefined && !(options.channels instanceof GrpcChannels)) {
    throw invalidConfig('options.channels', 'channels from grpcChannels(client)', options.channels);
  }
  const channels = options.channels
    ?? (options.credentials === undefined && options.channelOptions === undefined
      ? grpcChannels(client)
      : grpcChannels(client, { ...(options.credentials === undefined ? {} : { credentials: options.credentials }), ...(options.channelOptions === undefined ? {} : { channelOptions: options.channelOptions }) }));
  const classifyError = grpcErrorClassifier(retryableCodes);
  const methods: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(definition) as [string, AnyMethod][]) {
    const settings: GovernedCallSettings = {
      client, channels, classifyError,
      idempotent: idempotentMethods?.includes(name) ?? declaredIdempotent(method),
    };
    if (method.requestStream) {
      // Request streams are never sent twice: `idempotent` does not apply to them.
      methods[name] = method.responseStream
        ? (callOptions?: GrpcCallOptions) => governedBidiStream(settings, method, checked(callOptions))
        : (requests: RequestStream<unknown>, callOptions?: GrpcCallOptions) => governedClientStream(settings, method, requests, checked(callOptions));
      continue;
    }
    methods[name] = method.responseStream
      ? (request: unknown, callOptions?: GrpcCallOptions) => governedServerStream(settings, method, request, checked(callOptions))
      : (request: unknown, callOptions?: GrpcCallOptions) => governedUnary(settings, method, request, checked(callOptions));
  }
  return Object.freeze(methods) as GovernedGrpcClient<S>;
}

function checked(options: GrpcCallOptions | undefined): GrpcCallOptions {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object') throw invalidArgument('options', '{ metadata?, idempotent?, timeout?, signal?, ... }', options);
  return options;
}

export { grpcChannels, GrpcChannels, type GrpcChannelsOptions } from './channels.js';
export { DEFAULT_RETRYABLE_CODES, grpcErrorClassifier } from './classify.js';
export { governedServerStream, governedUnary, type AnyMethod, type GovernedCallSettings, type GrpcCallOptions } from './governed-call.js';
export { governedBidiStream, governedClientStream, type RequestStream } from './streaming-call.js';
export { channelReady } from './channel-ready.js';
export { attemptDeadline, attemptMetadata } from './metadata.js';
