// A real grpc-js Greeter server on 127.0.0.1 for gRPC tests, with a hand-written
// (JSON-serialised) service definition, and a resolver tests can change.
import {
  Server, ServerCredentials, status, type ServiceError, type ServerDuplexStream, type ServerReadableStream, type ServerUnaryCall, type ServerWritableStream, type sendUnaryData,
} from '@grpc/grpc-js';
import { after, afterEach, before } from 'node:test';
import type { CallObserverFactory, Client, Endpoint, Resolver, ResolverListener } from '../../src/index.js';
import { client, roundRobin, toEndpoint } from '../../src/index.js';

export interface HelloRequest {
  readonly name: string;
  /** Number of messages a stream sends. */
  readonly count?: number;
}

export interface HelloReply {
  readonly message: string;
  readonly port: number;
}

const json = {
  serialize: (value: unknown): Buffer => Buffer.from(JSON.stringify(value)),
  deserialize: <T>(bytes: Buffer): T => JSON.parse(bytes.toString()) as T,
};

/** One JSON-serialised method definition, with the literal stream flags protoc's grpc-js plugin would give it. */
function jsonMethod<Req, Res, RequestStream extends boolean, ResponseStream extends boolean>(
  path: string, requestStream: RequestStream, responseStream: ResponseStream,
) {
  return {
    path,
    requestStream,
    responseStream,
    requestSerialize: json.serialize as (value: Req) => Buffer,
    requestDeserialize: json.deserialize<Req>,
    responseSerialize: json.serialize as (value: Res) => Buffer,
    responseDeserialize: json.deserialize<Res>,
  };
}

/** The Greeter service, written as protoc's grpc-js plugin would type it (literal stream flags). */
export const GreeterService = {
  sayHello: jsonMethod<HelloRequest, HelloReply, false, false>('/test.Greeter/SayHello', false, false),
  streamHellos: jsonMethod<HelloRequest, HelloReply, false, true>('/test.Greeter/StreamHellos', false, true),
  /** Client stream: greets every name it received, in one reply. */
  collectHellos: jsonMethod<HelloRequest, HelloReply, true, false>('/test.Greeter/CollectHellos', true, false),
  /** Bidi stream: answers each request with one reply; ends when the client does. */
  chatHellos: jsonMethod<HelloRequest, HelloReply, true, true>('/test.Greeter/ChatHellos', true, true),
};

/** How one test server answers. */
export interface GrpcBehaviour {
  /** Fail every call with this status (before any message). Default none. */
  code?: status;
  /** The details of that status. Default `failing with <CODE>`. */
  details?: string;
  /** Delay before answering (or before the first message), ms. Default 0. */
  delayMs?: number;
}

/** What the server saw of one call. */
export interface SeenCall {
  readonly method: string;
  readonly name: string;
  readonly metadata: Record<string, unknown>;
  /** Milliseconds left of the call's gRPC deadline when it arrived; Infinity when none. */
  readonly deadlineMs: number;
}

export interface GrpcUpstream {
  readonly port: number;
  readonly address: string;
  readonly calls: SeenCall[];
  /** Names received on request streams, in order. */
  readonly received: string[];
  /** Methods of calls the client cancelled (or whose deadline passed), in order. */
  readonly cancelled: string[];
  behaviour: GrpcBehaviour;
  close(): Promise<void>;
}

function remainingMs(deadline: Date | number): number {
  if (deadline === Infinity) return Infinity;
  return (deadline instanceof Date ? deadline.getTime() : deadline) - Date.now();
}

/** Starts a Greeter on a free loopback port. */
export async function startGrpcUpstream(behaviour: GrpcBehaviour = {}): Promise<GrpcUpstream> {
  const server = new Server();
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void): NodeJS.Timeout => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
    return timer;
  };
  const upstream: GrpcUpstream = {
    port: 0,
    address: '',
    calls: [],
    received: [],
    cancelled: [],
    behaviour,
    async close() {
      for (const timer of timers) clearTimeout(timer);
      server.forceShutdown();
    },
  };
  type AnyServerCall = ServerUnaryCall<HelloRequest, HelloReply> | ServerWritableStream<HelloRequest, HelloReply>
    | ServerReadableStream<HelloRequest, HelloReply> | ServerDuplexStream<HelloRequest, HelloReply>;
  const record = (method: string, call: AnyServerCall, name = (call as { request?: HelloRequest }).request?.name ?? ''): void => {
    upstream.calls.push({ method, name, metadata: call.metadata.getMap(), deadlineMs: remainingMs(call.getDeadline()) });
    (call as NodeJS.EventEmitter).once('cancelled', () => upstream.cancelled.push(method));
  };
  server.addService(GreeterService, {
    sayHello(call: ServerUnaryCall<HelloRequest, HelloReply>, callback: sendUnaryData<HelloReply>) {
      record('sayHello', call);
      const { code, details, delayMs = 0 } = upstream.behaviour;
      const answer = (): void => {
        if (code !== undefined) callback({ code, details: details ?? `failing with ${status[code]}` });
        else callback(null, { message: `hello ${call.request.name}`, port: upstream.port });
      };
      if (delayMs === 0) answer();
      else {
        const timer = later(delayMs, answer);
        call.once('cancelled', () => clearTimeout(timer));
      }
    },
    streamHellos(call: ServerWritableStream<HelloRequest, HelloReply>) {
      record('streamHellos', call);
      const { code, details, delayMs = 0 } = upstream.behaviour;
      const answer = (): void => {
        if (code !== undefined) {
          call.emit('error', { code, details: details ?? `failing with ${status[code]}` });
          return;
        }
        for (let i = 0; i < (call.request.count ?? 3); i++) call.write({ message: `hello ${call.request.name} #${i}`, port: upstream.port });
        call.end();
      };
      if (delayMs === 0) answer();
      else {
        const timer = later(delayMs, answer);
        call.once('cancelled', () => clearTimeout(timer));
      }
    },
    collectHellos(call: ServerReadableStream<HelloRequest, HelloReply>, callback: sendUnaryData<HelloReply>) {
      record('collectHellos', call);
      const { code, details, delayMs = 0 } = upstream.behaviour;
      if (code !== undefined) {
        callback({ code, details: details ?? `failing with ${status[code]}` });
        return;
      }
      const names: string[] = [];
      call.on('data', (request: HelloRequest) => {
        names.push(request.name);
        upstream.received.push(request.name);
      });
      call.on('end', () => {
        const answer = (): void => callback(null, { message: `hello ${names.join(', ')}`, port: upstream.port });
        if (delayMs === 0) answer();
        else {
          const timer = later(delayMs, answer);
          call.once('cancelled', () => clearTimeout(timer));
        }
      });
    },
    chatHellos(call: ServerDuplexStream<HelloRequest, HelloReply>) {
      record('chatHellos', call);
      const { code, details, delayMs = 0 } = upstream.behaviour;
      if (code !== undefined) {
        call.emit('error', { code, details: details ?? `failing with ${status[code]}` });
        return;
      }
      let pending = 0;
      let ended = false;
      const endIfDone = (): void => {
        if (ended && pending === 0) call.end();
      };
      call.on('data', (request: HelloRequest) => {
        upstream.received.push(request.name);
        const reply = (): void => {
          pending--;
          if (!call.cancelled) call.write({ message: `hello ${request.name}`, port: upstream.port });
          endIfDone();
        };
        pending++;
        if (delayMs === 0) reply();
        else {
          const timer = later(delayMs, reply);
          call.once('cancelled', () => clearTimeout(timer));
        }
      });
      call.on('end', () => {
        ended = true;
        endIfDone();
      });
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error === null ? resolve(bound) : reject(error)));
  });
  Object.assign(upstream, { port, address: `127.0.0.1:${port}` });
  return upstream;
}

export function startGrpcUpstreams(behaviours: GrpcBehaviour[]): Promise<GrpcUpstream[]> {
  return Promise.all(behaviours.map((behaviour) => startGrpcUpstream(behaviour)));
}

/** A resolver whose set the test replaces with `set(...)`. */
export class MutableResolver implements Resolver {
  readonly source = 'test';
  #endpoints: readonly Endpoint[];
  readonly #listeners = new Set<ResolverListener>();

  constructor(addresses: readonly string[]) {
    this.#endpoints = addresses.map((address, i) => toEndpoint(address, `endpoints[${i}]`));
  }

  set(addresses: readonly string[]): void {
    this.#endpoints = addresses.map((address, i) => toEndpoint(address, `endpoints[${i}]`));
    for (const listener of this.#listeners) listener.onUpdate({ endpoints: this.#endpoints, source: this.source });
  }

  subscribe(listener: ResolverListener): () => void {
    this.#listeners.add(listener);
    listener.onUpdate({ endpoints: this.#endpoints, source: this.source });
    return () => this.#listeners.delete(listener);
  }
}

/** Telemetry stand-in: adds `traceparent` to every attempt, as meshkit/otel does. */
export function tracingObserver(traceparent: string): CallObserverFactory {
  return { name: 'test-trace', create: () => ({ attemptStart: (attempt) => attempt.setOutboundHeader('traceparent', traceparent) }) };
}

/** Matches a grpc-js ServiceError with `code` (for assert.rejects). */
export const isStatus = (code: status) => (error: unknown): boolean => (error as ServiceError).code === code;

/** A suite's two Greeter servers behind one meshkit client (round robin, 3 fast unbudgeted attempts, trace headers). */
export interface GreeterFleet {
  readonly upstreams: GrpcUpstream[];
  readonly client: Client;
}

/**
 * Registers the suite hooks for a {@link GreeterFleet}: started before the
 * suite, servers' behaviour and records reset after each test, everything
 * closed after the suite. Read its fields inside tests (they are set in `before`).
 */
export function useGreeterFleet(name: string, traceparent: string): GreeterFleet {
  const fleet = {} as { upstreams: GrpcUpstream[]; client: Client };
  before(async () => {
    fleet.upstreams = await startGrpcUpstreams([{}, {}]);
    fleet.client = client(name)
      .endpoints(fleet.upstreams.map((u) => u.address))
      .balancer(roundRobin())
      .retry({ attempts: 3, backoff: { base: '1ms', cap: '2ms' }, budget: false })
      .telemetry(tracingObserver(traceparent))
      .build();
  });
  afterEach(() => {
    for (const upstream of fleet.upstreams) {
      upstream.behaviour = {};
      upstream.calls.length = 0;
      upstream.received.length = 0;
      upstream.cancelled.length = 0;
    }
  });
  after(async () => {
    await fleet.client.close();
    await Promise.all(fleet.upstreams.map((u) => u.close()));
  });
  return fleet;
}
