/**
 * Every public factory and builder method refuses an unknown option key
 * (ERR_INVALID_CONFIG naming the key, with the nearest known one) and an
 * option of the wrong type (ERR_INVALID_CONFIG naming the option).
 *
 * The table is complete by construction: the test reads the subpath exports
 * of package.json, imports each entry point, and fails on any function export
 * (or `ClientBuilder` method) without a row. A row is one of:
 * - `options`: the export takes an options object; both cases must be refused;
 * - `checked`: it takes no options object (positional values, a seam object
 *   such as a resolver), but a value of the wrong type is still refused;
 * - `none`: it is not configuration (a helper, a predicate, an error class,
 *   a per-call function), with the reason.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import Fastify from 'fastify';
import * as meshkitMain from '../../src/index.js';
import {
  adaptiveConcurrency, adaptiveThrottle, aimd, bulkhead, circuitBreaker, client, ClientBuilder, ConcurrencyLimiter, configureDiscoveryCache,
  fallback, faultInjection, fileIdentity, gradient2, isMeshkitError, leastRequest, opossumCircuitBreaker, peakEwma, random, rateLimit, register, ringHash, roundRobin,
  staticEndpoints, staticResponse, subsets, toEndpoint, allowCidrs, filterResolver, undiciTransport, vegas, weighted, zoneAware, type Client, type Registrar,
} from '../../src/index.js';
import { connectAuthorizer, connectIdentity, consul } from '../../src/consul/index.js';
import { dns } from '../../src/dns/index.js';
import { etcd } from '../../src/etcd/index.js';
import { health, inbound, listen, shedding } from '../../src/express/index.js';
import { meshkit as fastifyPlugin } from '../../src/fastify/index.js';
import { meshkitGot } from '../../src/got/index.js';
import { GrpcChannels, grpcChannels, grpcClient, grpcErrorClassifier } from '../../src/grpc/index.js';
import { identityMetrics, openTelemetry, redactUrl } from '../../src/otel/index.js';
import { identityServerOptions, LoadShedder, loadShedder, ServerLifecycle, serverLifecycle } from '../../src/server/index.js';
import { resolveStatusHandler, statusHandler } from '../../src/status/index.js';
import { VirtualClock } from '../../src/testing/index.js';
import { MeshkitDispatcher, meshkitDispatcher, meshkitInterceptor } from '../../src/dispatcher/index.js';
import { closedLoop, latencySampler, openLoop, planScenario, runScenario, scenarios, SimLoop, SimRecorder, Simulation, validateScenario } from '../../src/sim/index.js';

/** One call that must be refused, and what the error must name. */
interface Case {
  readonly run: () => unknown;
  /** The option the error names: `details.option` is this, or ends with `.${option}` (the prefix is the factory's). */
  readonly option: string;
  /** For a misspelt key: the known key the error must suggest ("did you mean `perTry`?"). */
  readonly hint?: string;
  /** Releases what a wrongly accepted call made (a server, a handler's timer), so a failing row leaks nothing. */
  readonly cleanup?: (value: unknown) => unknown;
}

type Row =
  | { readonly kind: 'options'; readonly unknownKey: Case; readonly wrongType: Case }
  | { readonly kind: 'checked'; readonly reason: string; readonly wrongType: Case }
  | { readonly kind: 'none'; readonly reason: string };

const options = (unknownKey: Case, wrongType: Case): Row => ({ kind: 'options', unknownKey, wrongType });
const checked = (reason: string, wrongType: Case): Row => ({ kind: 'checked', reason, wrongType });
const none = (reason: string): Row => ({ kind: 'none', reason });

// Fixtures the rows need, made in before() and released in after().
let governed: Client;
const lifecycle = serverLifecycle({ signals: [] });
const app = (_req: IncomingMessage, res: ServerResponse): void => {
  res.end();
};
const registrar: Registrar = {
  kind: 'test',
  register: async (instance) => ({ id: 'test-1', instance, deregister: async () => {} }),
};
const instance = { service: 'orders', address: '127.0.0.1', port: 8080 };
const greeter = {
  sayHello: {
    path: '/test.Greeter/SayHello',
    requestStream: false,
    responseStream: false,
    requestSerialize: (value: unknown) => Buffer.from(JSON.stringify(value)),
    requestDeserialize: (bytes: Buffer) => JSON.parse(bytes.toString()) as unknown,
    responseSerialize: (value: unknown) => Buffer.from(JSON.stringify(value)),
    responseDeserialize: (bytes: Buffer) => JSON.parse(bytes.toString()) as unknown,
    originalName: 'sayHello',
  },
};
const selectors = { v1: { metadata: { version: 'v1' } } };
const closeHandler = (value: unknown): void => (value as { close(): void }).close();
const closeServer = async (value: unknown): Promise<void> => {
  const { server } = value as { server: import('node:http').Server };
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
};
/** A load target and sink for the simulator's rows: only their options are checked. */
const noCall = async (): Promise<void> => {};
const noSink = { name: 'table', userRequest: (): void => {} };
const resetDiscoveryCache = (): void => configureDiscoveryCache({});
const deregister = async (value: unknown): Promise<void> => (value as { deregister(): Promise<void> }).deregister();
/** Registers the plugin on a fresh Fastify app and waits for it to load (where a plugin's options error surfaces). */
async function registerPlugin(pluginOptions: unknown): Promise<void> {
  const fastify = Fastify();
  try {
    await fastify.register(fastifyPlugin, pluginOptions as never);
    await fastify.ready();
  } finally {
    await fastify.close();
  }
}

const limitsRows = {
  aimd: options({ run: () => aimd({ backoffRation: 0.9 } as never), option: 'backoffRation', hint: 'backoffRatio' },
    { run: () => aimd({ timeout: true } as never), option: 'timeout' }),
  gradient2: options({ run: () => gradient2({ rttTolerence: 2 } as never), option: 'rttTolerence', hint: 'rttTolerance' },
    { run: () => gradient2({ smoothing: 'high' } as never), option: 'smoothing' }),
  vegas: options({ run: () => vegas({ probeMultipler: 30 } as never), option: 'probeMultipler', hint: 'probeMultiplier' },
    { run: () => vegas({ alpha: 'three' } as never), option: 'alpha' }),
};
const serverRows = {
  InboundStats: none('counters the inbound middleware keeps; made by it, not by users'),
  LoadShedder: options({ run: () => new LoadShedder({ retryafter: '1s' } as never), option: 'retryafter', hint: 'retryAfter' },
    { run: () => new LoadShedder({ retryAfter: true } as never), option: 'retryAfter' }),
  loadShedder: options({ run: () => loadShedder({ algoritm: vegas() } as never), option: 'algoritm', hint: 'algorithm' },
    { run: () => loadShedder({ window: 42 } as never), option: 'window' }),
  ServerLifecycle: options({ run: () => new ServerLifecycle({ drainTimout: '5s' } as never), option: 'drainTimout', hint: 'drainTimeout' },
    { run: () => new ServerLifecycle({ signals: 'SIGTERM' } as never), option: 'signals' }),
  serverLifecycle: options({ run: () => serverLifecycle({ propagationDelai: '1s' } as never), option: 'propagationDelai', hint: 'propagationDelay' },
    { run: () => serverLifecycle({ drainTimeout: {} } as never), option: 'drainTimeout' }),
  identityServerOptions: checked('takes an Identity (a seam)', { run: () => identityServerOptions(42 as never), option: 'identity' }),
};

/** Rows per subpath export (the package.json key). */
const TABLE: Readonly<Record<string, Readonly<Record<string, Row>>>> = {
  '.': {
    Client: none('made by client(name)...build(); configuration goes through the builder'),
    ClientBuilder: none("made by client(name); its methods have their own rows (BUILDER below)"),
    ConcurrencyLimiter: options({ run: () => new ConcurrencyLimiter({ algoritm: gradient2() } as never), option: 'algoritm', hint: 'algorithm' },
      { run: () => new ConcurrencyLimiter({ clock: 42 } as never), option: 'clock' }),
    MeshkitError: none('the error class'),
    adaptiveConcurrency: options({ run: () => adaptiveConcurrency({ algorithim: gradient2() } as never), option: 'algorithim', hint: 'algorithm' },
      { run: () => adaptiveConcurrency({ window: 42 } as never), option: 'window' }),
    adaptiveThrottle: options({ run: () => adaptiveThrottle({ K: 2 } as never), option: 'K', hint: 'k' },
      { run: () => adaptiveThrottle({ minRequests: 'ten' } as never), option: 'minRequests' }),
    ...limitsRows,
    breakerRotations: none('reads the shared rotation timers (status)'),
    bulkhead: options({ run: () => bulkhead({ maxConcurrent: 1, maxQeue: 2 } as never), option: 'maxQeue', hint: 'maxQueue' },
      { run: () => bulkhead({ maxConcurrent: '1' } as never), option: 'maxConcurrent' }),
    circuitBreaker: options({ run: () => circuitBreaker({ errorThresholdPercentage: 50 } as never), option: 'errorThresholdPercentage' },
      { run: () => circuitBreaker({ volumeThreshold: '20' } as never), option: 'volumeThreshold' }),
    classifyError: none('classifies one error (per attempt)'),
    client: checked('takes the service name, not options', { run: () => client(42 as never), option: 'name' }),
    composePolicies: none('composes policies already made'),
    configureDiscoveryCache: options(
      { run: () => configureDiscoveryCache({ maxIdel: 10 } as never), option: 'maxIdel', hint: 'maxIdle', cleanup: resetDiscoveryCache },
      { run: () => configureDiscoveryCache({ maxIdle: 'many' } as never), option: 'maxIdle', cleanup: resetDiscoveryCache },
    ),
    currentInbound: none('reads the inbound context of the request being served'),
    discoveryCacheEntries: none('reads the discovery cache (status)'),
    endpointId: none("formats 'host:port'"),
    fallback: options({ run: () => fallback(() => undefined, { wen: 'error' } as never), option: 'wen', hint: 'when' },
      { run: () => fallback(() => undefined, { when: 42 } as never), option: 'when' }),
    faultInjection: options({ run: () => faultInjection({ abort: { percent: 10, stauts: 503 } } as never), option: 'stauts', hint: 'status' },
      { run: () => faultInjection({ delay: { percent: '10', duration: '1s' } } as never), option: 'percent' }),
    fullJitterBackoff: none('computes one backoff delay'),
    inboundRemainingMs: none('reads what is left of the inbound deadline'),
    isMeshkitError: none('a predicate'),
    wallClockNow: none('reads one clock\'s wall time'),
    blameOf: none('a predicate over an error: whose doing it was'),
    leastRequest: options({ run: () => leastRequest({ choice: 3 } as never), option: 'choice', hint: 'choices' },
      { run: () => leastRequest({ choices: '3' } as never), option: 'choices' }),
    parseDuration: none('parses one duration (it is what options use)'),
    parseDurationOrInfinity: none('parses one duration or an explicit Infinity (it is what options use)'),
    opossumCircuitBreaker: options(
      { run: () => opossumCircuitBreaker({ opossum: { resetTimout: 10 } } as never), option: 'resetTimout', hint: 'resetTimeout', cleanup: closeHandler },
      { run: () => opossumCircuitBreaker({ opossum: { errorFilter: 'none' } } as never), option: 'errorFilter', cleanup: closeHandler },
    ),
    peakEwma: options({ run: () => peakEwma({ decai: '5s' } as never), option: 'decai', hint: 'decay' },
      { run: () => peakEwma({ decay: true } as never), option: 'decay' }),
    random: options({ run: () => random({ seed: 1 } as never), option: 'seed' }, { run: () => random('uniform' as never), option: 'balancer' }),
    rateLimit: options({ run: () => rateLimit({ rate: 1, burts: 2 } as never), option: 'burts', hint: 'burst' },
      { run: () => rateLimit({ rate: 'fast' } as never), option: 'rate' }),
    register: options({ run: () => register(registrar, instance, { signal: ['SIGTERM'] } as never), option: 'signal', hint: 'signals', cleanup: deregister },
      { run: () => register(registrar, instance, { onShutdown: 'exit' } as never), option: 'onShutdown', cleanup: deregister }),
    ringHash: options({ run: () => ringHash({ minRingsize: 10 } as never), option: 'minRingsize', hint: 'minRingSize' },
      { run: () => ringHash({ hashBalanceFactor: '1.5' } as never), option: 'hashBalanceFactor' }),
    roundRobin: options({ run: () => roundRobin({ choices: 2 } as never), option: 'choices' },
      { run: () => roundRobin('fast' as never), option: 'balancer' }),
    runWithInbound: none('runs a function inside an inbound context (per request)'),
    sharedResolver: none('wraps a WatchSource implementation (a seam, not options)'),
    snapshotAll: none('reads every client (status)'),
    splitPipeline: none('splits policies already made'),
    staticEndpoints: options(
      { run: () => staticEndpoints([{ host: '127.0.0.1', port: 8080, wieght: 2 }] as never), option: 'wieght', hint: 'weight' },
      { run: () => staticEndpoints([{ host: '127.0.0.1', port: '8080' }] as never), option: 'port' },
    ),
    staticResponse: options({ run: () => staticResponse(200, '', { statusTxt: 'OK' } as never), option: 'statusTxt', hint: 'statusText' },
      { run: () => staticResponse(200, '', { headers: 'x' } as never), option: 'headers' }),
    subscribe: none('subscribes a listener to a diagnostics channel'),
    subsets: options({ run: () => subsets({ subsets: selectors, fallbak: 'any' } as never, roundRobin()), option: 'fallbak', hint: 'fallback' },
      { run: () => subsets({ subsets: selectors, fallback: 'some' } as never, roundRobin()), option: 'fallback' }),
    toEndpoint: checked('registry values may carry keys of their own (a list written by hand is checked by staticEndpoints)',
      { run: () => toEndpoint({ host: 42, port: 80 } as never, 'endpoint'), option: 'host' }),
    RejectedAnswerError: none('an error class'),
    allowCidrs: checked('takes a list of CIDR blocks', { run: () => allowCidrs(['300.0.0.0/8']), option: 'allowCidrs[0]' }),
    filterResolver: checked('takes a resolver and a predicate', { run: () => filterResolver(staticEndpoints(['127.0.0.1:80']), 'yes' as never), option: 'endpointFilter' }),
    isUnspecifiedAddress: none('a predicate over an address'),
    fileIdentity: options({ run: () => fileIdentity({ cert: 'c', key: 'k', ca: 'a', intervall: '1s' } as never), option: 'intervall', hint: 'interval' },
      { run: () => fileIdentity({ cert: 'c', key: 'k', ca: 'a', interval: true } as never), option: 'interval' }),
    undiciTransport: options({ run: () => undiciTransport({ connection: 8 } as never), option: 'connection', hint: 'connections' },
      { run: () => undiciTransport({ pipelining: 'on' } as never), option: 'pipelining' }),
    weighted: options({ run: () => weighted({ smooth: true } as never), option: 'smooth' }, { run: () => weighted(1 as never), option: 'balancer' }),
    withAttemptHeaders: none('adds one attempt\'s headers to a request'),
    wrapGate: none('turns an admission gate into a wrap stage'),
    zoneAware: options({ run: () => zoneAware({ zone: 'a', minHealthyPrecent: 50 } as never), option: 'minHealthyPrecent', hint: 'minHealthyPercent' },
      { run: () => zoneAware({ zone: 42 } as never), option: 'zone' }),
  },
  './consul': {
    ConsulAnswerError: none('the error class for a garbled Consul answer'),
    connectAuthorizer: options({ run: () => connectAuthorizer({ service: 'orders', cacheTTL: '1s' } as never), option: 'cacheTTL', hint: 'cacheTtl' },
      { run: () => connectAuthorizer({ service: 'orders', onError: 'maybe' } as never), option: 'onError' }),
    connectIdentity: options({ run: () => connectIdentity({ service: 'orders', adress: 'http://127.0.0.1:8500' } as never), option: 'adress', hint: 'address' },
      { run: () => connectIdentity({ service: 'orders', wait: true } as never), option: 'wait' }),
    consul: options({ run: () => consul({ service: 'orders', datacentre: 'dc1' } as never), option: 'datacentre', hint: 'datacenter' },
      { run: () => consul({ service: 'orders', passingOnly: 'yes' } as never), option: 'passingOnly' }),
    healthEntryToEndpoint: none("parses one entry of Consul's answer"),
    nextIndex: none('parses the X-Consul-Index header'),
    parseHealthAnswer: none("parses Consul's answer"),
  },
  './etcd': {
    defaultPrefix: none("the default key prefix of a service's instances"),
    encodeInstance: none('the JSON value written for an instance'),
    etcd: options({ run: () => etcd({ service: 'orders', host: ['127.0.0.1:2379'] } as never), option: 'host', hint: 'hosts' },
      { run: () => etcd({ service: 'orders', leaseTtl: true } as never), option: 'leaseTtl' }),
    parseEtcdValue: none('parses one value read from etcd'),
  },
  './dns': {
    dns: options({ run: () => dns({ name: 'orders.test', servrs: ['127.0.0.1:53'] } as never), option: 'servrs', hint: 'servers' },
      { run: () => dns({ name: 'orders.test', tries: 'three' } as never), option: 'tries' }),
  },
  './otel': {
    openTelemetry: options({ run: () => openTelemetry({ tracerprovider: {} } as never), option: 'tracerprovider', hint: 'tracerProvider' },
      { run: () => openTelemetry({ metrics: 'yes' } as never), option: 'metrics' }),
    redactUrl: checked('takes a URL and, optionally, the names to redact', { run: () => redactUrl('http://orders/?token=1', 42 as never), option: 'redactUrl.names' }),
    identityMetrics: options({ run: () => identityMetrics(fakeIdentity, { meterprovider: {} } as never), option: 'meterprovider', hint: 'meterProvider' },
      { run: () => identityMetrics(fakeIdentity, { meterProvider: 42 } as never), option: 'meterProvider' }),
  },
  './express': {
    health: options({ run: () => health(lifecycle, { livenes: '/live' } as never), option: 'livenes', hint: 'liveness' },
      { run: () => health(lifecycle, { readiness: 42 } as never), option: 'readiness' }),
    inbound: options({ run: () => inbound({ servise: 'gateway' } as never), option: 'servise', hint: 'service' },
      { run: () => inbound({ service: 42 } as never), option: 'service' }),
    listen: options(
      { run: () => listen(app, { prot: 0, lifecycle: { signals: [] } } as never), option: 'prot', hint: 'port', cleanup: closeServer },
      { run: () => listen(app, { port: 'eighty', lifecycle: { signals: [] } } as never), option: 'port', cleanup: closeServer },
    ),
    shedding: options({ run: () => shedding({ windw: false } as never), option: 'windw', hint: 'window' },
      { run: () => shedding({ algorithm: 'vegas' } as never), option: 'algorithm' }),
  },
  './fastify': {
    default: options({ run: () => registerPlugin({ servce: 'orders' }), option: 'servce', hint: 'service' },
      { run: () => registerPlugin({ shedding: 'on' }), option: 'shedding' }),
    meshkit: options({ run: () => registerPlugin({ lifecyle: {} }), option: 'lifecyle', hint: 'lifecycle' },
      { run: () => registerPlugin({ service: 42 }), option: 'service' }),
  },
  './got': {
    governedRequest: none("the request function meshkitGot installs; its settings are meshkitGot's"),
    meshkitGot: options({ run: () => meshkitGot(governed, { prefixURL: 'http://orders' } as never), option: 'prefixURL', hint: 'prefixUrl' },
      { run: () => meshkitGot(governed, { prefixUrl: 42 } as never), option: 'prefixUrl' }),
  },
  './grpc': {
    GrpcChannels: options({ run: () => new GrpcChannels(governed, { credential: {} } as never), option: 'credential', hint: 'credentials' },
      { run: () => new GrpcChannels(governed, { channelOptions: 'fast' } as never), option: 'channelOptions' }),
    attemptDeadline: none("one attempt's gRPC deadline"),
    attemptMetadata: none("one attempt's metadata"),
    channelReady: none('waits for one channel to connect (per attempt)'),
    governedBidiStream: none('one governed call (per-call options are arguments)'),
    governedClientStream: none('one governed call (per-call options are arguments)'),
    governedServerStream: none('one governed call (per-call options are arguments)'),
    governedUnary: none('one governed call (per-call options are arguments)'),
    grpcChannels: options({ run: () => grpcChannels(governed, { channelOption: {} } as never), option: 'channelOption', hint: 'channelOptions' },
      { run: () => grpcChannels(governed, { credentials: 'insecure' } as never), option: 'credentials' }),
    grpcClient: options({ run: () => grpcClient(governed, greeter as never, { retryableCode: [14] } as never), option: 'retryableCode', hint: 'retryableCodes' },
      { run: () => grpcClient(governed, greeter as never, { idempotentMethods: 'sayHello' } as never), option: 'idempotentMethods' }),
    grpcErrorClassifier: checked('takes a list of status codes', { run: () => grpcErrorClassifier('14' as never), option: 'retryableCodes' }),
  },
  './server': serverRows,
  './status': {
    resolveStatusHandler: options({ run: () => resolveStatusHandler({ maxClient: 10 } as never), option: 'maxClient', hint: 'maxClients' },
      { run: () => resolveStatusHandler({ maxClients: '10' } as never), option: 'maxClients' }),
    snapshotAll: none('reads every client (status)'),
    statusHandler: options({ run: () => statusHandler({ basepath: '/status' } as never), option: 'basepath', hint: 'basePath', cleanup: closeHandler },
      { run: () => statusHandler({ historySize: '60' } as never), option: 'historySize', cleanup: closeHandler }),
  },
  './testing': {
    VirtualClock: checked('takes a start time and a seed', { run: () => new VirtualClock('0' as never), option: 'start' }),
  },
  './undici': {
    MeshkitDispatcher: options({ run: () => new MeshkitDispatcher({ routes: { 'http://orders': governed }, fallbak: {} } as never), option: 'fallbak', hint: 'fallback' },
      { run: () => new MeshkitDispatcher({ routes: { 'http://orders': governed }, fallback: 'global' } as never), option: 'fallback' }),
    meshkitDispatcher: options({ run: () => meshkitDispatcher({ route: { 'http://orders': governed } } as never), option: 'route', hint: 'routes' },
      { run: () => meshkitDispatcher({ routes: { 'http://orders': 'orders' } } as never), option: 'http://orders' }),
    meshkitInterceptor: options({ run: () => meshkitInterceptor({ routs: { 'http://orders': governed } } as never), option: 'routs', hint: 'routes' },
      { run: () => meshkitInterceptor({ routes: [{ origin: 8080, client: governed }] } as never), option: 'origin' }),
  },
  './sim': {
    SimLoop: options({ run: () => new SimLoop({ sed: 1 } as never), option: 'sed', hint: 'seed' },
      { run: () => new SimLoop({ seed: '1' } as never), option: 'seed' }),
    Simulation: options({ run: () => new Simulation({ sede: 1 } as never), option: 'sede', hint: 'seed' },
      { run: () => new Simulation({ bucketMs: true } as never), option: 'bucketMs' }),
    latencySampler: options({ run: () => latencySampler({ lognormal: { median: 1, p999: 3 } } as never), option: 'p999', hint: 'p99' },
      { run: () => latencySampler('fast' as never), option: 'latency' }),
    simAddress: none('maps an instance index to its loopback address'),
    openLoop: options({ run: () => openLoop(new SimLoop(), noCall, { rat: 1, duration: '1s', record: noSink } as never), option: 'rat', hint: 'rate' },
      { run: () => openLoop(new SimLoop(), noCall, { rate: 'fast', duration: '1s', record: noSink } as never), option: 'rate' }),
    closedLoop: options({ run: () => closedLoop(new SimLoop(), noCall, { caller: 1, duration: '1s', record: noSink } as never), option: 'caller', hint: 'callers' },
      { run: () => closedLoop(new SimLoop(), noCall, { callers: '2', duration: '1s', record: noSink } as never), option: 'callers' }),
    errorCodeOf: none('reads the code of a failed call'),
    SimRecorder: options({ run: () => new SimRecorder(new SimLoop(), { duraton: '1s' } as never), option: 'duraton', hint: 'duration' },
      { run: () => new SimRecorder(new SimLoop(), { duration: true } as never), option: 'duration' }),
    formatTable: none('renders a report as text'),
    reportJson: none('renders a report as JSON'),
    renderReportHtml: none('renders a report as an HTML page'),
    validateScenario: options({ run: () => validateScenario({ ...scenarios['linkerd-2016'], nmae: 'x' }), option: 'nmae', hint: 'name' },
      { run: () => validateScenario(42), option: 'scenario' }),
    planScenario: options({ run: () => planScenario(scenarios['linkerd-2016'], { sed: 1 } as never), option: 'sed', hint: 'seed' },
      { run: () => planScenario(scenarios['linkerd-2016'], { scale: 'half' } as never), option: 'scale' }),
    runScenario: options({ run: () => runScenario(scenarios['linkerd-2016'], { sed: 1 } as never), option: 'sed', hint: 'seed' },
      { run: () => runScenario(scenarios['linkerd-2016'], { seed: 'x' } as never), option: 'seed' }),
    scenarioRunJson: none('renders a scenario run as JSON'),
    scenarioNames: none('lists the shipped scenarios'),
  },
};

const base = (): ClientBuilder => client('table');
/** Only validation runs in these rows: an object with the Identity methods, never asked for material. */
const fakeIdentity = { kind: 'fake', current: () => undefined, ready: () => new Promise<never>(() => {}), subscribe: () => () => {}, status: () => ({}), close: async () => {} } as never;

/** Rows for every method of `ClientBuilder`. */
const BUILDER: Readonly<Record<string, Row>> = {
  discovery: checked('takes a Resolver (a seam)', { run: () => base().discovery(42 as never), option: 'discovery' }),
  endpoints: options(
    { run: () => base().endpoints([{ host: '127.0.0.1', port: 8080, tag: ['a'] }] as never), option: 'tag', hint: 'tags' },
    { run: () => base().endpoints([{ host: '127.0.0.1', port: 8080, weight: 'heavy' }] as never), option: 'weight' },
  ),
  balancer: checked('takes a balancer factory (a seam)', { run: () => base().balancer('p2c' as never), option: 'balancer' }),
  subsets: options({ run: () => base().subsets({ subsets: selectors, splt: { v1: 1 } } as never), option: 'splt', hint: 'split' },
    { run: () => base().subsets({ subsets: selectors, split: { v1: 'all' } } as never), option: 'v1' }),
  hedge: options({ run: () => base().hedge({ afer: 'p95' } as never), option: 'afer', hint: 'after' },
    { run: () => base().hedge({ max: '2' } as never), option: 'max' }),
  timeout: options({ run: () => base().timeout({ pertry: '300ms' } as never), option: 'pertry', hint: 'perTry' },
    { run: () => base().timeout({ total: true } as never), option: 'total' }),
  retry: options({ run: () => base().retry({ retries: 3 } as never), option: 'retries' },
    { run: () => base().retry({ attempts: '3' } as never), option: 'attempts' }),
  transport: checked('takes a transport factory (a seam)', { run: () => base().transport({} as never), option: 'transport' }),
  identity: options({ run: () => base().identity(fakeIdentity, { conections: 1 } as never), option: 'conections', hint: 'connections' },
    { run: () => base().identity(fakeIdentity, { pipelining: 'on' } as never), option: 'pipelining' }),
  policy: checked('takes a policy or a factory of one (a seam)', { run: () => base().policy('breaker' as never), option: 'policy' }),
  circuitBreaker: options({ run: () => base().circuitBreaker({ errorThresholdPercentage: 50 } as never), option: 'errorThresholdPercentage' },
    { run: () => base().circuitBreaker({ buckets: 'ten' } as never), option: 'buckets' }),
  outlierDetection: options(
    { run: () => base().outlierDetection({ consecutiveGatewayFailure: 3 } as never), option: 'consecutiveGatewayFailure', hint: 'consecutiveGatewayFailures' },
    { run: () => base().outlierDetection({ successRate: { stdevFactor: 'wide' } } as never), option: 'stdevFactor' },
  ),
  healthCheck: options({ run: () => base().healthCheck({ intervall: '5s' } as never), option: 'intervall', hint: 'interval' },
    { run: () => base().healthCheck({ protocol: 'https', tls: { rejectUnauthorized: 'no', ca: 42 } } as never), option: 'rejectUnauthorized' }),
  endpointCircuitBreakers: options(
    { run: () => base().endpointCircuitBreakers({ volumeTreshold: 5 } as never), option: 'volumeTreshold', hint: 'volumeThreshold' },
    { run: () => base().endpointCircuitBreakers({ errorThreshold: '0.5' } as never), option: 'errorThreshold' },
  ),
  telemetry: checked('takes an observer factory (a seam)', { run: () => base().telemetry(null as never), option: 'telemetry' }),
  clock: checked('takes a Clock (a seam)', { run: () => base().clock(Date as never), option: 'clock' }),
  defaults: options({ run: () => base().defaults({ basepath: '/api' } as never), option: 'basepath', hint: 'basePath' },
    { run: () => base().defaults({ headers: { 'x-a': 1 } } as never), option: 'x-a' }),
  build: none('builds; it has no options'),
};

/** The subpath exports of package.json (`.`, `./consul`, ...), without `./package.json`. */
function subpaths(): string[] {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { exports: Record<string, unknown> };
  return Object.keys(pkg.exports).filter((key) => key !== './package.json');
}

/** The source entry point of a subpath, from its `default` target in package.json (`./dist/dispatcher/index.js` for `./undici`). */
async function entryModule(subpath: string): Promise<Record<string, unknown>> {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { exports: Record<string, { default: string }> };
  const target = (pkg.exports[subpath] as { default: string }).default.replace(/^\.\/dist\//, '');
  return (await import(new URL(`../../src/${target}`, import.meta.url).href)) as Record<string, unknown>;
}

function functionExports(module: Record<string, unknown>): string[] {
  return Object.keys(module).filter((name) => typeof module[name] === 'function').sort();
}

/** Runs `c` and checks the refusal; a call that is accepted is cleaned up and reported. */
async function assertRefused(c: Case, label: string): Promise<void> {
  let value: unknown;
  let error: unknown;
  try {
    value = c.run();
    if (value instanceof Promise) value = await value;
  } catch (thrown) {
    error = thrown;
  }
  if (error === undefined) {
    await c.cleanup?.(value);
    assert.fail(`${label}: accepted, expected ERR_INVALID_CONFIG naming ${c.option}`);
  }
  assert.ok(isMeshkitError(error, 'ERR_INVALID_CONFIG'), `${label}: expected ERR_INVALID_CONFIG, got ${String(error)}`);
  const named = String(error.details['option']);
  assert.ok(named === c.option || named.endsWith(`.${c.option}`), `${label}: the error names ${named}, expected ${c.option}`);
  assert.ok(error.message.includes(c.option), `${label}: the message names ${c.option}: ${error.message}`);
  if (c.hint !== undefined) assert.ok(error.message.includes(`did you mean \`${c.hint}\`?`), `${label}: no hint of ${c.hint}: ${error.message}`);
}

/** Checks both cases of a row, reporting every failure at once. */
async function checkRow(row: Row, label: string): Promise<void> {
  if (row.kind === 'none') {
    assert.ok(row.reason.length > 0, `${label}: a reason`);
    return;
  }
  const cases: [Case, string][] = [[row.wrongType, `${label} with a wrong type`]];
  if (row.kind === 'options') cases.unshift([row.unknownKey, `${label} with an unknown key`]);
  const failures: string[] = [];
  for (const [c, caseLabel] of cases) {
    try {
      await assertRefused(c, caseLabel);
    } catch (error) {
      failures.push(error instanceof Error ? error.message : String(error));
    }
  }
  assert.deepEqual(failures, []);
}

describe('every factory and builder method refuses unknown keys and wrong types', () => {
  before(() => {
    governed = client('table-governed').endpoints(['127.0.0.1:9']).build();
  });
  after(() => governed.close());

  it('the table has a row for every subpath export of package.json, and no other', () => {
    assert.deepEqual(subpaths().sort(), Object.keys(TABLE).sort());
  });

  it('the table has a row for every function export of every entry point, and rows only for exports', async () => {
    const missing: string[] = [];
    const stale: string[] = [];
    for (const subpath of subpaths()) {
      const module = await entryModule(subpath);
      const exported = functionExports(module);
      const rows = TABLE[subpath] ?? {};
      for (const name of exported) if (rows[name] === undefined) missing.push(`${subpath} ${name}`);
      for (const name of Object.keys(rows)) if (!exported.includes(name)) stale.push(`${subpath} ${name}`);
    }
    assert.deepEqual(missing, [], 'exports without a row: add one (options, checked, or none with the reason)');
    assert.deepEqual(stale, [], 'rows for names that are not function exports');
    assert.equal(meshkitMain.ClientBuilder, ClientBuilder);
  });

  it('the table has a row for every ClientBuilder method', () => {
    const methods = Object.getOwnPropertyNames(ClientBuilder.prototype).filter((name) => name !== 'constructor').sort();
    assert.deepEqual(methods, Object.keys(BUILDER).sort());
  });

  for (const [name, row] of Object.entries(BUILDER)) {
    it(`ClientBuilder.${name}`, () => checkRow(row, `.${name}()`));
  }

  for (const [subpath, rows] of Object.entries(TABLE)) {
    for (const [name, row] of Object.entries(rows)) {
      it(`${subpath === '.' ? 'meshkit' : `meshkit/${subpath.slice(2)}`} ${name}`, () => checkRow(row, name));
    }
  }
});
