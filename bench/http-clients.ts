import { Agent } from 'node:http';
import got from 'got';
import { Pool } from 'undici';
import { meshkitDispatcher } from '../src/dispatcher/index.js';
import { buildBenchClient, buildFullStackClient } from './meshkit-client.js';
import type { Operation } from './load.js';
import { telemetryHttpClients } from './telemetry.js';
import { undiciWithInstrumentation } from './telemetry-anchor.js';

/** One HTTP client under test. `send` performs a GET and reads the body fully. */
export interface HttpClientUnderTest {
  /** Stable id used in the table, JSON and smoke test. */
  readonly id: string;
  readonly description: string;
  readonly send: Operation;
  /** Called before each run of this client (warm-up, slice): switches on what only this row may have on. */
  activate?(): void;
  /** Called after each run of this client. */
  deactivate?(): void;
  close(): Promise<void>;
}

/** The client every other is compared against. */
export const BASELINE_ID = 'undici-pool';

function expectOk(statusCode: number): void {
  if (statusCode !== 200) throw new Error(`unexpected status ${statusCode}`);
}

function rawUndici(origin: string, connections: number): HttpClientUnderTest {
  const pool = new Pool(origin, { connections });
  return {
    id: BASELINE_ID,
    description: `undici Pool (connections ${connections}), pool.request + body.text()`,
    async send() {
      const { statusCode, body } = await pool.request({ path: '/', method: 'GET' });
      await body.text();
      expectOk(statusCode);
    },
    close: () => pool.close(),
  };
}

function meshkitRequest(hostPort: string, connections: number): HttpClientUnderTest {
  const c = buildBenchClient('bench-request', [hostPort], connections);
  return {
    id: 'meshkit-request',
    description: 'meshkit c.request + body.text(), all foundation stages on',
    async send() {
      const { statusCode, body } = await c.request({ path: '/', method: 'GET' });
      await body.text();
      expectOk(statusCode);
    },
    close: () => c.close(),
  };
}

/** The id of the full-stack row, used by the targets. */
export const FULL_STACK_REQUEST_ID = 'meshkit-request-full-stack';

function meshkitRequestFullStack(hostPort: string, connections: number): HttpClientUnderTest {
  const c = buildFullStackClient('bench-request-full', [hostPort], connections);
  return {
    id: FULL_STACK_REQUEST_ID,
    description: 'meshkit c.request + body.text(), full policy stack (FULL_STACK_STAGES)',
    async send() {
      const { statusCode, body } = await c.request({ path: '/', method: 'GET' });
      await body.text();
      expectOk(statusCode);
    },
    close: () => c.close(),
  };
}

function meshkitFetch(hostPort: string, connections: number): HttpClientUnderTest {
  const c = buildBenchClient('bench-fetch', [hostPort], connections);
  return {
    id: 'meshkit-fetch',
    description: 'meshkit c.fetch + response.text(), all foundation stages on',
    async send() {
      const response = await c.fetch('/');
      await response.text();
      expectOk(response.status);
    },
    close: () => c.close(),
  };
}

function globalFetch(origin: string): HttpClientUnderTest {
  const url = `${origin}/`;
  return {
    id: 'global-fetch',
    description: "Node's global fetch + response.text() (its bundled undici, default dispatcher)",
    async send() {
      const response = await fetch(url);
      await response.text();
      expectOk(response.status);
    },
    // The global dispatcher is shared process state; its idle sockets close when the upstream stops.
    close: async () => {},
  };
}

/** Global fetch governed by meshkit/undici; given as fetch's `dispatcher`, which is what `setGlobalDispatcher` makes the default. */
function globalFetchThroughDispatcher(hostPort: string, connections: number): HttpClientUnderTest {
  const c = buildBenchClient('bench-dispatcher', [hostPort], connections);
  const dispatcher = meshkitDispatcher({ routes: { 'http://bench': c } });
  // @types/node types fetch's dispatcher with its bundled undici's (6.x) types; at run time any dispatcher works.
  const init = { dispatcher } as unknown as RequestInit;
  return {
    id: 'global-fetch-meshkit-dispatcher',
    description: "Node's global fetch + response.text() through meshkitDispatcher (http://bench routed to the foundation client)",
    async send() {
      const response = await fetch('http://bench/', init);
      await response.text();
      expectOk(response.status);
    },
    close: async () => {
      await dispatcher.close();
      await c.close();
    },
  };
}

function gotClient(origin: string, connections: number): HttpClientUnderTest {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const instance = got.extend({ retry: { limit: 0 }, agent: { http: agent } });
  const url = `${origin}/`;
  return {
    id: 'got',
    description: `got@14 (retry off, http.Agent keepAlive, maxSockets ${connections}), body as text`,
    async send() {
      const response = await instance(url);
      expectOk(response.statusCode);
    },
    close: async () => agent.destroy(),
  };
}

/** Every client, baseline first, all pointed at the same upstream. */
export function createHttpClients(origin: string, hostPort: string, connections: number): HttpClientUnderTest[] {
  return [
    rawUndici(origin, connections),
    meshkitRequest(hostPort, connections),
    meshkitRequestFullStack(hostPort, connections),
    meshkitFetch(hostPort, connections),
    globalFetch(origin),
    globalFetchThroughDispatcher(hostPort, connections),
    gotClient(origin, connections),
    ...telemetryHttpClients(hostPort, connections),
    undiciWithInstrumentation(origin, connections),
  ];
}
