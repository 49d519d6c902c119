import type { Duration } from '../core/duration.js';

/** This instance, as it should appear in a registry. */
export interface ServiceInstance {
  /** Service name in the registry. */
  readonly service: string;
  /** Unique instance id. Default `<service>-<address>-<port>`. */
  readonly id?: string;
  /** Address other services connect to (a loopback address in tests). */
  readonly address: string;
  readonly port: number;
  /** Default none. */
  readonly tags?: readonly string[];
  /** Default none. */
  readonly metadata?: Readonly<Record<string, string>>;
  /** Relative capacity. Default 1. */
  readonly weight?: number;
  /** Locality, published as metadata `zone`. Default none. */
  readonly zone?: string;
}

/** How the registry learns that this instance is healthy. */
export type HealthCheck =
  /**
   * The registry probes `http://address:port<path>` every `interval` (default
   * `'10s'`; `timeout` default `'5s'`, `deregisterAfter` default `'1m'`). Consul
   * only; meshkit also asks the agent every `interval` (at least 1 s) whether it
   * still has the instance, and registers it again if not.
   */
  | { readonly http: string; readonly interval?: Duration; readonly timeout?: Duration; readonly deregisterAfter?: Duration }
  /**
   * meshkit reports "passing" every ttl/3; if the process dies the check turns
   * critical after `ttl` (at least 1 s; a bare number is milliseconds).
   * `deregisterAfter` default `'1m'` (Consul; etcd removes the key with the lease).
   */
  | { readonly ttl: Duration; readonly deregisterAfter?: Duration };

/**
 * A live registration; `deregister()` removes it and stops any keep-alive.
 * Idempotent once it succeeded; if it rejects (the registry is unreachable),
 * calling it again tries again.
 */
export interface Registration {
  readonly id: string;
  readonly instance: ServiceInstance;
  deregister(): Promise<void>;
}

/** Something that can put this instance in a registry (Consul, etcd). */
export interface Registrar {
  /** `consul`, `etcd`. */
  readonly kind: string;
  register(instance: ServiceInstance, check?: HealthCheck): Promise<Registration>;
}
