import type { TimerHandle } from '../core/clock.js';
import { parseDuration, parsePositiveDuration, type Duration } from '../core/duration.js';
import { invalidConfig } from '../core/errors.js';
import { checkOptions, readNumber, readString } from '../core/options.js';
import type { HttpTransportFactory } from '../transports/undici.js';
import { SimBackend } from './backend.js';
import { DEFAULT_BEHAVIOUR, resolveBehaviour, type ResolvedBehaviour, type SimBehaviour } from './backend-behaviour.js';
import { SimLoop, type SimClock } from './event-loop.js';
import { SimResolver } from './resolver.js';
import { simTransport } from './transport.js';
import { scheduleTimeline, type SimTimelineEntry } from './simulation-timeline.js';

/** Options of {@link Simulation}. */
export interface SimulationOptions {
  /** Seed of every random stream: the same seed, the same run. Default 1. */
  readonly seed?: number;
  /** Width of the backends' statistics buckets. Default 1000 ms. */
  readonly bucketMs?: Duration;
}

/** One instance of a simulated service, when they differ. */
export interface InstanceSpec {
  /** Its zone. Default: the service's `zones`, round robin, or none. */
  readonly zone?: string;
  /** Its weight in discovery. Default 1. */
  readonly weight?: number;
  /** Changes to the service's behaviour for this instance only. Default none. */
  readonly behaviour?: SimBehaviour;
}

/** Options of {@link Simulation.service}. */
export interface SimServiceOptions {
  /** How many instances, or one spec per instance. */
  readonly instances: number | readonly InstanceSpec[];
  /** How every instance behaves (see {@link SimBehaviour}). Default: an empty 200 at once, unlimited capacity. */
  readonly behaviour?: SimBehaviour;
  /** Zones given to the instances round robin (an instance's own `zone` wins). Default none. */
  readonly zones?: readonly string[];
  /** Changes at given virtual times (see {@link SimTimelineEntry}). Default none. */
  readonly timeline?: readonly SimTimelineEntry[];
  /** Delay before a join or leave reaches the service's subscribers (a registry's propagation). Default 0. */
  readonly propagation?: Duration;
}

/** A simulated service: its instances and its discovery. */
export interface SimService {
  readonly name: string;
  /** Its instances, in order. */
  readonly backends: readonly SimBackend[];
  /** Its discovery: `client(name).discovery(service.resolver)`. */
  readonly resolver: SimResolver;
  /** Instance `index`; throws `ERR_INVALID_CONFIG` when there is none. */
  backend(index: number): SimBackend;
}

const SIMULATION_KEYS = ['seed', 'bucketMs'];
const SERVICE_KEYS = ['instances', 'behaviour', 'zones', 'timeline', 'propagation'];
const INSTANCE_KEYS = ['zone', 'weight', 'behaviour'];

/** Port every simulated backend listens on (addresses differ; nothing is ever sent). */
const SIM_PORT = 8080;

/** Most backends one simulation may hold (the loopback addresses it hands out). */
const MAX_BACKENDS = 1 << 22;

/**
 * The loopback address of the simulation's `index`-th backend: distinct for
 * every backend, from 127.1.0.1 on. Nothing is ever sent to it.
 */
export function simAddress(index: number): string {
  const n = index + 1;
  return `127.${1 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
}

/**
 * A fleet in virtual time: services of simulated backends, their discovery,
 * one transport for every simulated client, on one {@link SimLoop}. Build
 * clients with the ordinary builder:
 *
 * ```ts
 * import { client } from 'meshkit';
 * import { Simulation } from 'meshkit/sim';
 *
 * const sim = new Simulation({ seed: 7 });
 * const orders = sim.service('orders', { instances: 10, behaviour: { latency: { lognormal: { median: 20, p99: 200 } } } });
 * const caller = client('orders').discovery(orders.resolver).transport(sim.transport).clock(sim.clock).build();
 * sim.at(0, () => { void caller.request({ path: '/' }).then((res) => res.body.dump()); });
 * await sim.run(60_000);
 * await caller.close();
 * ```
 *
 * Each backend draws from its own random stream (`backend:<service>:<index>`),
 * so adding a service or a client does not change what the others draw.
 */
export class Simulation {
  readonly loop: SimLoop;
  /** Virtual time for meshkit: `.clock(sim.clock)`. */
  readonly clock: SimClock;
  /** The transport of every simulated client: `.transport(sim.transport)`. */
  readonly transport: HttpTransportFactory;
  readonly bucketMs: number;
  readonly #services = new Map<string, SimService>();
  readonly #backends: SimBackend[] = [];
  readonly #byId = new Map<string, SimBackend>();

  /** Throws `ERR_INVALID_CONFIG` naming `simulation.<option>`. */
  constructor(options: SimulationOptions = {}) {
    const o = checkOptions(options, 'simulation', SIMULATION_KEYS);
    this.loop = new SimLoop(o['seed'] === undefined ? {} : { seed: readNumber(o['seed'], 'simulation.seed', 1, { integer: true, min: 0, max: 0xffffffff }) });
    this.clock = this.loop.clock;
    this.bucketMs = o['bucketMs'] === undefined ? 1000 : parsePositiveDuration(o['bucketMs'], 'simulation.bucketMs');
    this.transport = simTransport({ backendAt: (id) => this.#byId.get(id) });
  }

  /**
   * Adds a service of simulated backends, all in its discovery from the
   * start. Throws `ERR_INVALID_CONFIG` naming `service.<option>` (a name
   * used twice, a bad behaviour, a timeline entry naming no instance).
   */
  service(name: string, options: SimServiceOptions): SimService {
    if (typeof name !== 'string' || name === '') throw invalidConfig('service name', 'a non-empty string', name);
    if (this.#services.has(name)) throw invalidConfig('service name', 'a name not used by another simulated service', name);
    const o = checkOptions(options, `service(${name})`, SERVICE_KEYS);
    const at = `service(${name})`;
    const base = o['behaviour'] === undefined ? DEFAULT_BEHAVIOUR : resolveBehaviour(o['behaviour'], DEFAULT_BEHAVIOUR, `${at}.behaviour`);
    const zones = readZones(o['zones'], `${at}.zones`);
    const specs = readInstances(o['instances'], `${at}.instances`);
    if (this.#backends.length + specs.length > MAX_BACKENDS) throw invalidConfig(`${at}.instances`, `at most ${MAX_BACKENDS} backends in a simulation`, specs.length);
    const propagation = o['propagation'] === undefined ? 0 : parseDuration(o['propagation'], `${at}.propagation`);
    const backends = specs.map((spec, index) => this.#backend(name, index, spec, base, zones, `${at}.instances[${index}]`));
    const resolver = new SimResolver(name, this.loop, propagation);
    const service: SimService = Object.freeze({
      name,
      backends: Object.freeze(backends),
      resolver,
      backend(index: number): SimBackend {
        const backend = backends[index];
        if (backend === undefined || !Number.isInteger(index)) throw invalidConfig(`${name}.backend`, `an index from 0 to ${backends.length - 1}`, index);
        return backend;
      },
    });
    // Validated before anything is registered: a bad timeline leaves the simulation as it was.
    const schedule = scheduleTimeline(o['timeline'], `${at}.timeline`, service, this.loop);
    for (const backend of backends) {
      this.#backends.push(backend);
      this.#byId.set(backend.id, backend);
    }
    this.#services.set(name, service);
    resolver.seed(backends);
    schedule();
    return service;
  }

  #backend(service: string, index: number, spec: InstanceSpec, base: ResolvedBehaviour, zones: readonly string[], option: string): SimBackend {
    const o = checkOptions(spec, option, INSTANCE_KEYS);
    const zone = readString(o['zone'], `${option}.zone`) ?? (zones.length === 0 ? undefined : zones[index % zones.length]);
    const weight = readNumber(o['weight'], `${option}.weight`, 1, { min: 0, minExclusive: true });
    const behaviour = o['behaviour'] === undefined ? base : resolveBehaviour(o['behaviour'], base, `${option}.behaviour`);
    return new SimBackend({
      loop: this.loop, service, index, host: simAddress(this.#backends.length + index), port: SIM_PORT, zone, weight,
      random: this.loop.random(`backend:${service}:${index}`), bucketMs: this.bucketMs, behaviour,
    });
  }

  /**
   * A clock on this simulation's loop whose `random()` (meshkit's jitter and
   * balancer picks) draws from its own stream, `client:<name>`: give each
   * client its own (`.clock(sim.clientClock('web-1'))`) and adding a client
   * does not change what the others draw. `sim.clock` is one stream shared
   * by every client built on it.
   */
  clientClock(name: string): SimClock {
    if (typeof name !== 'string' || name === '') throw invalidConfig('clientClock name', 'a non-empty string', name);
    const shared = this.clock;
    return Object.freeze({ ...shared, random: this.loop.random(`client:${name}`) });
  }

  /** Every backend of every service, in the order they were made. */
  backends(): readonly SimBackend[] {
    return this.#backends;
  }

  /** The service named `name`, if any. */
  serviceNamed(name: string): SimService | undefined {
    return this.#services.get(name);
  }

  /** Runs `callback` at virtual time `time` (ms). */
  at(time: number, callback: () => void): TimerHandle {
    return this.loop.at(time, callback);
  }

  /** The virtual time, in ms. */
  now(): number {
    return this.loop.now();
  }

  /** Runs the simulation until virtual time `untilMs` (default: until nothing is left to do). */
  run(untilMs?: number): Promise<void> {
    return this.loop.run(untilMs);
  }
}

function readZones(value: unknown, option: string): readonly string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((zone) => typeof zone === 'string' && zone !== '')) throw invalidConfig(option, 'an array of non-empty zone names', value);
  return value as string[];
}

function readInstances(value: unknown, option: string): readonly InstanceSpec[] {
  if (typeof value === 'number') {
    const count = readNumber(value, option, 0, { integer: true, min: 0, max: MAX_BACKENDS });
    return Array.from({ length: count }, () => ({}));
  }
  if (!Array.isArray(value)) throw invalidConfig(option, 'a number of instances, or an array of instance specs', value);
  return value as InstanceSpec[];
}
