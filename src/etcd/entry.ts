import { toEndpoint, type Endpoint, type EndpointInput, type EndpointObject } from '../core/endpoint.js';
import { invalidConfig } from '../core/errors.js';
import { checkOptions } from '../core/options.js';
import type { ServiceInstance } from '../registration/registrar.js';

/**
 * The JSON value stored under each instance key:
 * `{ "host": "127.0.0.7", "port": 8080, "weight"?: 2, "zone"?: "eu-1", "tags"?: ["v2"], "metadata"?: { "k": "v" } }`.
 * Other fields (meshkit's registrations add `id` and `service`) are ignored.
 */
export type EtcdEndpointValue = EndpointObject;

/** An entry left out of the set: its key and raw value, as given to `discoveryRejected` listeners. */
export interface RejectedEtcdEntry {
  readonly key: string;
  readonly value: string;
}

/**
 * Parses one instance value. Throws `ERR_INVALID_CONFIG` naming the key for
 * anything that is not a valid endpoint (bad JSON, not an object, wrong
 * types, empty host, port outside 1-65535).
 */
export function parseEtcdValue(key: string, value: string): Endpoint {
  const option = `etcd key ${key}`;
  let raw: unknown;
  try {
    raw = JSON.parse(value);
  } catch {
    throw invalidConfig(option, 'a JSON endpoint value { "host", "port", ... }', value);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw invalidConfig(option, 'a JSON object { "host", "port", ... }', raw);
  }
  return toEndpoint(raw as EndpointInput, option);
}

/** The instance id used for the key: given, or `<service>-<address>-<port>`. */
export function instanceId(instance: ServiceInstance): string {
  return instance.id ?? `${instance.service}-${instance.address}-${instance.port}`;
}

/** The keys of a {@link ServiceInstance}. */
const INSTANCE_KEYS: readonly string[] = ['service', 'id', 'address', 'port', 'tags', 'metadata', 'weight', 'zone'];

/** Validates a registration and returns the JSON value to store (the same format the resolver reads). */
export function encodeInstance(instance: ServiceInstance): string {
  checkOptions(instance, 'instance', INSTANCE_KEYS);
  const id = instanceId(instance);
  if (typeof id !== 'string' || !/^[^/\s]+$/.test(id)) throw invalidConfig('instance.id', 'a non-empty id without "/" or spaces', id);
  const endpoint = toEndpoint({
    host: instance.address,
    port: instance.port,
    ...(instance.weight === undefined ? {} : { weight: instance.weight }),
    ...(instance.zone === undefined ? {} : { zone: instance.zone }),
    ...(instance.tags === undefined ? {} : { tags: instance.tags }),
    ...(instance.metadata === undefined ? {} : { metadata: instance.metadata }),
  }, 'instance');
  const value: EtcdEndpointValue & { id: string; service: string } = {
    id,
    service: instance.service,
    host: endpoint.host,
    port: endpoint.port,
    weight: endpoint.weight,
    ...(endpoint.zone === undefined ? {} : { zone: endpoint.zone }),
    tags: endpoint.tags,
    metadata: endpoint.metadata,
  };
  return JSON.stringify(value);
}
