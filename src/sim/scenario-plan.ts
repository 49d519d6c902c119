import { parseDuration } from '../core/duration.js';
import { invalidConfig } from '../core/errors.js';
import { checkOptions, readNumber } from '../core/options.js';
import { validateScenario } from './scenario.js';
import { overlayStack } from './scenario-stack.js';
import type {
  Scenario, ScenarioBackendSelector, ScenarioBehaviour, ScenarioClient, ScenarioHandler, ScenarioLatency, ScenarioLoad, ScenarioMeasure,
  ScenarioPublishedFigure, ScenarioService, ScenarioStack,
} from './scenario-types.js';

/** A latency with every duration in ms. */
export type PlannedLatency =
  | number
  | { readonly uniform: { readonly min: number; readonly max: number } }
  | { readonly exponential: { readonly mean: number } }
  | { readonly lognormal: { readonly median: number; readonly p99: number } }
  | { readonly empirical: readonly number[] }
  | { readonly mixture: readonly { readonly weight: number; readonly latency: PlannedLatency }[] };

/** A behaviour with its latency in ms. */
export type PlannedBehaviour = Omit<ScenarioBehaviour, 'latency'> & { readonly latency?: PlannedLatency };

/** A timeline event in the engine's terms: a time in ms and backend indices (or every one). */
export interface PlannedEvent {
  readonly at: number;
  readonly backends: readonly number[] | 'all';
  readonly set?: PlannedBehaviour;
  readonly leave?: true;
  readonly join?: true;
  readonly down?: true;
  readonly up?: true;
}

/** A service ready to build: sizes after scaling, times in ms, restarts expanded into events. */
export interface PlannedService {
  readonly name: string;
  readonly instances: number;
  readonly zones: readonly string[];
  readonly behaviour: PlannedBehaviour;
  /** In time order. */
  readonly timeline: readonly PlannedEvent[];
  /** Rejoin times of restarted instances: `[index, ms]` in time order (for `recoveryMs`). */
  readonly rejoins: readonly (readonly [number, number])[];
  readonly handler: ScenarioHandler | undefined;
}

/** A load with its times in ms. */
export interface PlannedLoad {
  readonly type: 'open' | 'closed';
  /** Open loop: user requests per second, per replica. */
  readonly rate: number;
  /** Closed loop: callers per replica. */
  readonly callers: number;
  readonly thinkMs: number;
  readonly fanout: number;
  readonly path: string;
  readonly startMs: number;
  readonly durationMs: number;
}

/** A client of one variant: its stack with the variant's changes laid over. */
export interface PlannedClient {
  readonly name: string;
  readonly service: string;
  /** Zone of each replica, in replica order (undefined entries when the client has no zone). */
  readonly zones: readonly (string | undefined)[];
  readonly stack: ScenarioStack;
  /** Undefined for a tier's client (its service's handler calls it). */
  readonly load: PlannedLoad | undefined;
  readonly replicas: number;
}

/** One configuration to run. */
export interface PlannedVariant {
  readonly name: string;
  readonly description: string;
  readonly clients: readonly PlannedClient[];
}

/** A scenario ready to run: what the runner builds, one fresh simulation per variant. */
export interface ScenarioPlan {
  readonly name: string;
  readonly description: string;
  readonly seed: number;
  readonly scale: number;
  readonly durationMs: number;
  readonly bucketMs: number;
  readonly services: readonly PlannedService[];
  readonly variants: readonly PlannedVariant[];
  readonly published: readonly ScenarioPublishedFigure[];
  readonly measures: readonly ScenarioMeasure[];
}

/** Options of {@link planScenario}. */
export interface PlanOptions {
  /** Overrides the scenario's seed. Default the scenario's (else 1). */
  readonly seed?: number;
  /**
   * Shrinks the run, 0 < scale <= 1: the duration and every time in it
   * (timelines, loads, restart starts) always; instance counts and replicas
   * where the scenario's `scaling` allows (never below one per zone). Latencies,
   * rates, fan-out, restart downtimes and bucket width stay: the shape is kept. Default 1.
   */
  readonly scale?: number;
}

function plannedLatency(latency: ScenarioLatency): PlannedLatency {
  if (typeof latency === 'number' || typeof latency === 'string') return parseDuration(latency, 'latency');
  if ('fixed' in latency) return parseDuration(latency.fixed, 'latency');
  if ('uniform' in latency) return { uniform: { min: parseDuration(latency.uniform.min, 'min'), max: parseDuration(latency.uniform.max, 'max') } };
  if ('exponential' in latency) return { exponential: { mean: parseDuration(latency.exponential.mean, 'mean') } };
  if ('lognormal' in latency) {
    return { lognormal: { median: parseDuration(latency.lognormal.median, 'median'), p99: parseDuration(latency.lognormal.p99, 'p99') } };
  }
  if ('empirical' in latency) return { empirical: latency.empirical.map((sample, i) => parseDuration(sample, `empirical[${i}]`)) };
  return { mixture: latency.mixture.map((part) => ({ weight: part.weight, latency: plannedLatency(part.latency) })) };
}

function plannedBehaviour(behaviour: ScenarioBehaviour | undefined): PlannedBehaviour {
  if (behaviour === undefined) return {};
  const { latency, ...rest } = behaviour;
  return latency === undefined ? rest : { ...rest, latency: plannedLatency(latency) };
}

function indices(selector: ScenarioBackendSelector | undefined, instances: number, zones: readonly string[]): readonly number[] | 'all' {
  if (selector === undefined || selector === 'all') return 'all';
  if (Array.isArray(selector)) return (selector as readonly number[]).filter((index) => index < instances);
  const zone = zones.indexOf((selector as { zone: string }).zone);
  const chosen: number[] = [];
  for (let index = zone; index < instances; index += zones.length) chosen.push(index);
  return chosen;
}

function planService(service: ScenarioService, scenario: Scenario, scale: number, durationMs: number): PlannedService {
  const zones = service.zones ?? [];
  const instances = scenario.scaling?.instances === true
    ? Math.max(zones.length, 1, Math.round(service.instances * scale))
    : service.instances;
  const events: PlannedEvent[] = [];
  for (const event of service.timeline ?? []) {
    const backends = indices(event.backends, instances, zones);
    if (backends !== 'all' && backends.length === 0) continue; // its backends were scaled away
    events.push({
      at: parseDuration(event.at, 'at') * scale,
      backends,
      ...(event.set === undefined ? {} : { set: plannedBehaviour(event.set) }),
      ...(event.leave === true ? { leave: true } : {}),
      ...(event.join === true ? { join: true } : {}),
      ...(event.down === true ? { down: true } : {}),
      ...(event.up === true ? { up: true } : {}),
    });
  }
  const rejoins: [number, number][] = [];
  const restart = service.rollingRestart;
  if (restart !== undefined) {
    const start = parseDuration(restart.start, 'start') * scale;
    // Fewer instances restart in a shorter run: the gap keeps the restart's share of the run.
    const interval = parseDuration(restart.interval, 'interval') * scale * (service.instances / instances);
    const drain = restart.drain === undefined ? 0 : parseDuration(restart.drain, 'drain');
    const downtime = parseDuration(restart.downtime, 'downtime');
    for (let index = 0; index < instances; index++) {
      const leave = start + index * interval;
      if (leave > durationMs) break;
      events.push({ at: leave, backends: [index], leave: true });
      if (leave + drain <= durationMs) events.push({ at: leave + drain, backends: [index], down: true });
      const back = leave + drain + downtime;
      if (back <= durationMs) {
        events.push({ at: back, backends: [index], up: true, join: true });
        rejoins.push([index, back]);
      }
    }
  }
  // Stable: events at the same time keep their order (timeline first, then the restart's).
  const timeline = events.map((event, order) => ({ event, order }))
    .sort((a, b) => a.event.at - b.event.at || a.order - b.order)
    .map(({ event }) => event);
  rejoins.sort((a, b) => a[1] - b[1] || a[0] - b[0]);
  return { name: service.name, instances, zones, behaviour: plannedBehaviour(service.behaviour), timeline, rejoins, handler: service.handler };
}

function planLoad(load: ScenarioLoad, scale: number, durationMs: number): PlannedLoad {
  const startMs = load.start === undefined ? 0 : parseDuration(load.start, 'start') * scale;
  const given = load.duration === undefined ? undefined : parseDuration(load.duration, 'duration') * scale;
  return {
    type: load.type,
    rate: load.type === 'open' ? load.rate : 0,
    callers: load.type === 'closed' ? load.callers : 0,
    thinkMs: load.type === 'closed' && load.think !== undefined ? parseDuration(load.think, 'think') : 0,
    fanout: load.fanout ?? 1,
    path: load.path ?? '/',
    startMs,
    durationMs: Math.max(0, Math.min(given ?? Infinity, durationMs - startMs)),
  };
}

function planClient(client: ScenarioClient, stack: ScenarioStack, scenario: Scenario, scale: number, durationMs: number): PlannedClient {
  const given = client.replicas ?? 1;
  const replicas = scenario.scaling?.replicas === true ? Math.max(1, client.zones?.length ?? 1, Math.round(given * scale)) : given;
  const zones = Array.from({ length: replicas }, (_, index) => client.zones === undefined ? client.zone : client.zones[index % client.zones.length]);
  return {
    name: client.name,
    service: client.service,
    zones,
    stack,
    load: client.load === undefined ? undefined : planLoad(client.load, scale, durationMs),
    replicas,
  };
}

/**
 * Validates a scenario and turns it into a {@link ScenarioPlan}: the
 * variants expanded (each client's stack with the variant's `stack`, then
 * its per-client stack, laid over it key by key), the scale applied, times
 * in ms, rolling restarts and zone selectors expanded into per-backend
 * events. Throws `ERR_INVALID_CONFIG` naming the path of a bad value, or
 * `options.seed` / `options.scale` for bad options (an unknown one with the nearest known).
 */
export function planScenario(value: unknown, options: PlanOptions = {}): ScenarioPlan {
  const o = checkOptions(options, 'options', ['seed', 'scale']);
  const scenario = validateScenario(value);
  const scale = readNumber(o['scale'], 'options.scale', 1, { min: 0, minExclusive: true, max: 1 });
  const seed = readNumber(o['seed'], 'options.seed', scenario.seed ?? 1, { integer: true, min: 0, max: 0xffffffff });
  const durationMs = parseDuration(scenario.duration, 'duration') * scale;
  if (durationMs < 1) throw invalidConfig('options.scale', `a scale that leaves at least 1 ms of the ${scenario.duration} run`, scale);
  const variants = scenario.variants ?? [{ name: 'default' }];
  const firstLoaded = scenario.clients.find((client) => client.load !== undefined) as ScenarioClient;
  return {
    name: scenario.name,
    description: scenario.description,
    seed,
    scale,
    durationMs,
    bucketMs: scenario.bucketMs ?? 1000,
    services: scenario.services.map((service) => planService(service, scenario, scale, durationMs)),
    variants: variants.map((variant) => ({
      name: variant.name,
      description: variant.description ?? '',
      clients: scenario.clients.map((client) => {
        const stack = overlayStack(overlayStack(client.stack, variant.stack), variant.clients?.[client.name]);
        return planClient(client, stack, scenario, scale, durationMs);
      }),
    })),
    published: scenario.published ?? [],
    measures: (scenario.measures ?? [{ metric: 'successRate' }, { metric: 'p99' }]).flatMap((measure) => variants.map((variant) => ({
      ...measure, variant: variant.name, client: measure.client ?? firstLoaded.name,
    }))),
  };
}
