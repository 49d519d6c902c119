import { Client as GrpcChannel, credentials as grpcCredentials, type ChannelCredentials, type ChannelOptions } from '@grpc/grpc-js';
import type { Client } from '../client/client.js';
import type { Endpoint } from '../core/endpoint.js';
import { invalidConfig } from '../core/errors.js';
import { checkOptions, isOptionsObject } from '../core/options.js';

/** Options of {@link grpcChannels}. */
export interface GrpcChannelsOptions {
  /** Channel credentials. Default `credentials.createInsecure()` (plaintext, for loopback and meshes that encrypt below). */
  readonly credentials?: ChannelCredentials;
  /** grpc-js channel options (`grpc.keepalive_time_ms`, ...). Default none. */
  readonly channelOptions?: ChannelOptions;
}

const GRPC_CHANNELS_KEYS: readonly (keyof GrpcChannelsOptions)[] = ['credentials', 'channelOptions'];

function checkClient(client: unknown): void {
  if (client === null || typeof client !== 'object' || typeof (client as Client).onClose !== 'function') {
    throw invalidConfig('client', 'a meshkit Client', client);
  }
}

function checkChannelsOptions(options: unknown): void {
  const given = checkOptions(options, 'options', GRPC_CHANNELS_KEYS);
  const credentials = given['credentials'];
  // grpc-js's ChannelCredentials is an abstract class: check for what the channel calls.
  if (credentials !== undefined && (credentials === null || typeof credentials !== 'object'
    || typeof (credentials as { _isSecure?: unknown })._isSecure !== 'function')) {
    throw invalidConfig('options.credentials', 'channel credentials such as credentials.createInsecure()', credentials);
  }
  if (given['channelOptions'] !== undefined && !isOptionsObject(given['channelOptions'])) {
    throw invalidConfig('options.channelOptions', 'an object of grpc-js channel options', given['channelOptions']);
  }
}

/**
 * One grpc-js channel per endpoint of a meshkit client, managed by meshkit:
 * opened on first use, closed when the endpoint leaves the client's set and
 * when the client closes. Every service called through the client shares
 * them (a channel carries any method).
 */
export class GrpcChannels {
  readonly #client: Client;
  readonly #credentials: ChannelCredentials;
  readonly #options: ChannelOptions;
  readonly #open = new Map<string, GrpcChannel>();
  #unsubscribe: (() => void) | undefined = undefined;
  #closed = false;

  /** Throws `ERR_INVALID_CONFIG` naming `client` or `options.<option>` (unknown keys included). */
  constructor(client: Client, options: GrpcChannelsOptions = {}) {
    checkClient(client);
    checkChannelsOptions(options);
    this.#client = client;
    this.#credentials = options.credentials ?? grpcCredentials.createInsecure();
    this.#options = options.channelOptions ?? {};
    client.onClose(() => this.close());
  }

  /** The channel to `endpoint`, opened now if it is not open yet. */
  get(endpoint: Endpoint): GrpcChannel {
    let channel = this.#open.get(endpoint.id);
    if (channel !== undefined) return channel;
    if (this.#closed) throw new Error('grpc channels are closed');
    channel = new GrpcChannel(endpoint.id, this.#credentials, this.#options);
    this.#open.set(endpoint.id, channel);
    // Watch the set only while channels are open: a departed endpoint's channel is closed at once.
    this.#unsubscribe ??= this.#client.onEndpointsChanged((message) => {
      if (message.removed.length > 0) this.#reconcile();
    });
    return channel;
  }

  /** Ids (`host:port`) of endpoints with an open channel. */
  get openEndpoints(): string[] {
    return [...this.#open.keys()];
  }

  /** Closes every channel (calls in flight finish); later calls fail. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    for (const channel of this.#open.values()) channel.close();
    this.#open.clear();
  }

  /** Closes channels whose endpoint is no longer in the client's set. */
  #reconcile(): void {
    const current = new Set(this.#client.endpoints().endpoints.map((endpoint) => endpoint.id));
    for (const [id, channel] of this.#open) {
      if (current.has(id)) continue;
      this.#open.delete(id);
      channel.close();
    }
  }
}

const shared = new WeakMap<Client, GrpcChannels>();

/**
 * The channels of `client`. Without options, one shared set per client (so
 * several services reuse the same channel per endpoint); with options, a new
 * set with those credentials and channel options. Throws
 * `ERR_INVALID_CONFIG` naming `options.<option>` for a bad or unknown option.
 */
export function grpcChannels(client: Client, options?: GrpcChannelsOptions): GrpcChannels {
  checkClient(client);
  if (options !== undefined) return new GrpcChannels(client, options);
  let channels = shared.get(client);
  if (channels === undefined) {
    channels = new GrpcChannels(client);
    shared.set(client, channels);
  }
  return channels;
}
