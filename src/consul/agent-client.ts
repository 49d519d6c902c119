import { EventEmitter } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import Consul from 'consul';
import type { Clock } from '../core/clock.js';
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

/** An agent request under way; `cancel()` aborts it (its `result` then rejects). */
export interface PendingRequest<T> {
  readonly result: Promise<T>;
  cancel(): void;
}

/**
 * Sends one request with a deadline on `clock`. `send` passes `ctx` to the
 * `consul` package (`{ ctx }`) or papi (`ctx` in the request): its `cancel`
 * event aborts the HTTP request. Past `timeoutMs` the request is aborted and
 * `result` rejects with "the Consul agent did not answer <what> within N ms".
 * papi's own `timeout` would run on Node's timers, not on the injected clock.
 */
export function withDeadline<T>(clock: Clock, timeoutMs: number, what: string, send: (ctx: EventEmitter) => Promise<T>): PendingRequest<T> {
  // papi checks `canceled` before sending and listens for `cancel` while the request is out.
  const ctx = Object.assign(new EventEmitter(), { canceled: false });
  let timedOut = false;
  let settled = false;
  const cancel = (): void => {
    if (settled || ctx.canceled) return;
    ctx.canceled = true;
    ctx.emit('cancel');
  };
  const timer = clock.setTimeout(() => {
    timedOut = true;
    cancel();
  }, timeoutMs);
  const result = (async () => {
    try {
      return await send(ctx);
    } catch (error) {
      if (timedOut) throw new Error(`the Consul agent did not answer ${what} within ${Math.round(timeoutMs)} ms`, { cause: error });
      throw error;
    } finally {
      settled = true;
      clock.clearTimeout(timer);
    }
  })();
  return { result, cancel };
}
