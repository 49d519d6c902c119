import type { AddressInfo } from 'node:net';
import { invalidConfig } from '../core/errors.js';
import { checkOptions, isOptionsObject } from '../core/options.js';
import type { HealthCheck, Registrar, ServiceInstance } from '../registration/registrar.js';

/** What to put in the registry once the server listens; `address` and `port` default to where it listens. */
export interface SelfRegistration {
  /** A registrar such as `consul({ ... })` or `etcd({ ... })`. */
  readonly registrar: Registrar;
  /** The instance; `port` defaults to the bound port, `address` to the bound host (required when that is a wildcard such as `0.0.0.0`). */
  readonly instance: Omit<ServiceInstance, 'address' | 'port'> & { readonly address?: string; readonly port?: number };
  /** Health check for the registry. Default: the registrar's own (Consul: a TTL check meshkit keeps passing). */
  readonly check?: HealthCheck;
}

const WILDCARDS = new Set(['0.0.0.0', '::', '']);
const KNOWN = ['registrar', 'instance', 'check'];

/** The instance to register for a server bound at `bound`; throws `ERR_INVALID_CONFIG` when no address callers can use is known. */
export function instanceAt(self: SelfRegistration, bound: AddressInfo | { address: string; port: number }, option = 'register'): ServiceInstance {
  if (!isOptionsObject(self) || self['registrar'] === undefined || !isOptionsObject(self['instance'])) {
    throw invalidConfig(option, '{ registrar, instance: { service }, check? }', self);
  }
  checkOptions(self, option, KNOWN);
  const address = self.instance.address ?? bound.address;
  if (WILDCARDS.has(address)) {
    throw invalidConfig(`${option}.instance.address`, 'the address callers should use (the server listens on every interface)', self.instance.address);
  }
  return { ...self.instance, address, port: self.instance.port ?? bound.port };
}
