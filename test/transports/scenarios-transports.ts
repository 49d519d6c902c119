// The transports the shared scenario table runs against, each with real upstreams on 127.0.0.1.
import { status } from '@grpc/grpc-js';
import { DEADLINE_HEADER, type Client } from '../../src/index.js';
import { meshkitGot } from '../../src/got/index.js';
import { grpcClient } from '../../src/grpc/index.js';
import { GreeterService, startGrpcUpstreams } from '../grpc/support.js';
import { startUpstreams } from '../helpers/upstream.js';
import type { Fleet, TransportUnderTest } from './scenarios.js';

/** HTTP upstreams answering `ok <port>`; a failing one answers 503. */
async function httpFleet(count: number): Promise<Fleet & { indexOf(body: string): number }> {
  const upstreams = await startUpstreams(Array.from({ length: count }, () => ({})));
  return {
    addresses: upstreams.map((u) => u.address),
    fail: (index, failing) => {
      (upstreams[index] as (typeof upstreams)[number]).behaviour.status = failing ? 503 : 200;
    },
    delay: (index, ms) => {
      (upstreams[index] as (typeof upstreams)[number]).behaviour.delayMs = ms;
    },
    received: (index) => upstreams[index]?.requests.length ?? 0,
    lastDeadlineMs: (index) => {
      const value = upstreams[index]?.requests.at(-1)?.headers[DEADLINE_HEADER];
      return typeof value === 'string' ? Number(value) : undefined;
    },
    indexOf: (body) => upstreams.findIndex((u) => body === `ok ${u.port}`),
    close: async () => {
      await Promise.all(upstreams.map((u) => u.close()));
    },
  };
}

type HttpFleet = Awaited<ReturnType<typeof httpFleet>>;

export const undiciRequest: TransportUnderTest = {
  name: 'client.request (undici)',
  start: httpFleet,
  async call(meshkit, fleet, options = {}) {
    const response = await meshkit.request({ path: '/scenario', ...(options.timeout === undefined ? {} : { timeout: options.timeout }) });
    const body = await response.body.text();
    if (response.statusCode !== 200) throw new Error(`HTTP ${response.statusCode}`);
    return (fleet as HttpFleet).indexOf(body);
  },
};

const gotInstances = new WeakMap<Client, ReturnType<typeof meshkitGot>>();

export const gotAdapter: TransportUnderTest = {
  name: 'meshkit/got',
  start: httpFleet,
  async call(meshkit, fleet, options = {}) {
    let api = gotInstances.get(meshkit);
    if (api === undefined) gotInstances.set(meshkit, (api = meshkitGot(meshkit)));
    const body = await api.get('scenario', options.timeout === undefined ? {} : { timeout: { request: Number.parseInt(options.timeout, 10) } }).text();
    return (fleet as HttpFleet).indexOf(body);
  },
};

/** gRPC Greeter upstreams; a failing one answers UNAVAILABLE. */
async function grpcFleet(count: number): Promise<Fleet & { indexOf(port: number): number }> {
  const upstreams = await startGrpcUpstreams(Array.from({ length: count }, () => ({})));
  return {
    addresses: upstreams.map((u) => u.address),
    fail: (index, failing) => {
      const upstream = upstreams[index] as (typeof upstreams)[number];
      if (failing) upstream.behaviour.code = status.UNAVAILABLE;
      else delete upstream.behaviour.code;
    },
    delay: (index, ms) => {
      (upstreams[index] as (typeof upstreams)[number]).behaviour.delayMs = ms;
    },
    received: (index) => upstreams[index]?.calls.length ?? 0,
    lastDeadlineMs: (index) => upstreams[index]?.calls.at(-1)?.deadlineMs,
    indexOf: (port) => upstreams.findIndex((u) => u.port === port),
    close: async () => {
      await Promise.all(upstreams.map((u) => u.close()));
    },
  };
}

export const grpcAdapter: TransportUnderTest = {
  name: 'meshkit/grpc',
  start: grpcFleet,
  async call(meshkit, fleet, options = {}) {
    const greeter = grpcClient(meshkit, GreeterService, { idempotentMethods: ['sayHello'] });
    const reply = await greeter.sayHello({ name: 'scenario' }, options.timeout === undefined ? {} : { timeout: options.timeout });
    return (fleet as Awaited<ReturnType<typeof grpcFleet>>).indexOf(reply.port);
  },
};

export const transports: readonly TransportUnderTest[] = [undiciRequest, gotAdapter, grpcAdapter];
