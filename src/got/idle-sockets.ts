import type { Agent } from 'node:http';
import type { Endpoint } from '../core/endpoint.js';

/**
 * Closes the idle keep-alive sockets `agent` holds to `endpoints` (they left
 * the set). Sockets carrying a request finish it; node's agent names its
 * pools `host:port:<options>`.
 */
export function releaseIdleSockets(agent: Agent, endpoints: readonly Endpoint[]): void {
  const prefixes = endpoints.map((endpoint) => `${endpoint.host}:${endpoint.port}:`);
  for (const [name, sockets] of Object.entries(agent.freeSockets)) {
    if (!prefixes.some((prefix) => name.startsWith(prefix))) continue;
    for (const socket of sockets ?? []) socket.destroy();
  }
}
