import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import Consul from 'consul';
import type { ResolvedConsulOptions } from './options.js';

/** An HTTP agent whose sockets do not keep the process alive: a background watch must not hold it open. */
class BackgroundHttpAgent extends http.Agent {
  override createConnection(...args: Parameters<http.Agent['createConnection']>): Duplex {
    const socket = super.createConnection(...args);
    (socket as Partial<{ unref(): void }>).unref?.();
    return socket as Duplex;
  }
}

class BackgroundHttpsAgent extends https.Agent {
  override createConnection(...args: Parameters<https.Agent['createConnection']>): Duplex {
    const socket = super.createConnection(...args);
    (socket as Partial<{ unref(): void }>).unref?.();
    return socket as Duplex;
  }
}

/** A client of the `consul` package plus the HTTP agent it owns (destroy both with `close`). */
export interface AgentClient {
  readonly consul: Consul;
  close(): void;
}

/**
 * Creates a `consul` package client for the configured agent. `background`
 * unrefs its sockets (watches); registration keeps them referenced so that a
 * deregister on shutdown is not cut short by the process exiting.
 */
export function createAgentClient(options: ResolvedConsulOptions, background: boolean): AgentClient {
  const secure = options.url.protocol === 'https:';
  const agentOptions = { keepAlive: true, maxSockets: 4 };
  let agent: http.Agent;
  if (secure) {
    const tls = options.tls ?? {};
    const tlsOptions: https.AgentOptions = {
      ...agentOptions,
      ...(tls.ca === undefined ? {} : { ca: tls.ca as string | Buffer | (string | Buffer)[] }),
      ...(tls.cert === undefined ? {} : { cert: tls.cert }),
      ...(tls.key === undefined ? {} : { key: tls.key }),
      ...(tls.servername === undefined ? {} : { servername: tls.servername }),
      ...(tls.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: tls.rejectUnauthorized }),
    };
    agent = background ? new BackgroundHttpsAgent(tlsOptions) : new https.Agent(tlsOptions);
  } else {
    agent = background ? new BackgroundHttpAgent(agentOptions) : new http.Agent(agentOptions);
  }
  const port = options.url.port === '' ? (secure ? 443 : 80) : Number(options.url.port);
  // papi builds `protocol//host:port`, so an IPv6 host keeps its brackets (URL.hostname has them).
  const host = options.url.hostname;
  const consul = new Consul({
    host, port, secure, agent,
    ...(options.token === undefined ? {} : { defaults: { token: options.token } }),
  });
  return {
    consul,
    close(): void {
      agent.destroy();
    },
  };
}
