// How the chain's services find each other: through Consul when
// CONSUL_HTTP_ADDR is set (each service registers itself there), otherwise
// through the static address its parent process passes in the environment.
import { register, type Registration, type Resolver } from '../../src/index.js'; // in your project: 'meshkit'
import type { SelfRegistration } from '../../src/server/self-registration.js'; // exported by 'meshkit/express' and 'meshkit/fastify'
import { consul } from '../../src/consul/index.js'; // in your project: 'meshkit/consul'
import { staticEndpoints } from '../../src/index.js';

/** The Consul agent's address, when the chain runs with Consul. */
export function consulAddress(): string | undefined {
  const address = process.env['CONSUL_HTTP_ADDR'];
  if (address === undefined || address === '') return undefined;
  return address.startsWith('http') ? address : `http://${address}`;
}

/** Where `service` is: Consul, or the `host:port` in env var `staticVar`. */
export function discover(service: string, staticVar: string): Resolver {
  const agent = consulAddress();
  if (agent !== undefined) return consul({ service, address: agent });
  const address = process.env[staticVar];
  if (address === undefined || address === '') throw new Error(`${staticVar} is not set and CONSUL_HTTP_ADDR is not either: cannot find ${service}`);
  return staticEndpoints([address]);
}

/** Self-registration for an HTTP service (Express `listen`, the Fastify plugin), when the chain runs with Consul. */
export function selfRegistration(service: string): SelfRegistration | undefined {
  const agent = consulAddress();
  return agent === undefined ? undefined : { registrar: consul({ service, address: agent }), instance: { service } };
}

/**
 * Puts a non-HTTP instance (the gRPC service) in Consul, when the chain runs
 * with Consul; on SIGTERM it deregisters first, then runs `onShutdown`.
 */
export async function registerSelf(service: string, port: number, onShutdown: () => Promise<void>): Promise<Registration | undefined> {
  const agent = consulAddress();
  if (agent === undefined) return undefined;
  return register(consul({ service, address: agent }), { service, address: '127.0.0.1', port }, { onShutdown });
}
