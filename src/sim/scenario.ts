import { parseDuration } from '../core/duration.js';
import { invalidConfig } from '../core/errors.js';
import { checkOptions, readBoolean, readChoice, readNumber, readString } from '../core/options.js';
import { SimLoop } from './event-loop.js';
import { checkBehaviour, checkHandler, checkLoad, checkRollingRestart, checkTimelineEvent } from './scenario-options.js';
import { checkStack } from './scenario-stack.js';
import type { Scenario, ScenarioMetric, ScenarioService } from './scenario-types.js';

export type * from './scenario-types.js';

const SCENARIO_KEYS: readonly (keyof Scenario)[] = [
  'name', 'description', 'seed', 'duration', 'bucketMs', 'services', 'clients', 'variants', 'published', 'measures', 'scaling',
];
const SERVICE_KEYS: readonly (keyof ScenarioService)[] = ['name', 'instances', 'zones', 'behaviour', 'timeline', 'rollingRestart', 'handler'];
const CLIENT_KEYS = ['name', 'service', 'zone', 'zones', 'stack', 'load', 'replicas'] as const;
const VARIANT_KEYS = ['name', 'description', 'stack', 'clients'] as const;
const MEASURE_KEYS = ['metric', 'client', 'service'] as const;
const PUBLISHED_KEYS = ['label', 'value', 'source', 'variant', ...MEASURE_KEYS] as const;

/** Every metric a published figure or measure may name. */
export const SCENARIO_METRICS: readonly ScenarioMetric[] = [
  'successRate', 'p50', 'p90', 'p99', 'p999', 'max', 'attemptsPerCall', 'hedgesPerCall', 'retriesPerCall', 'amplification', 'recoveryMs',
];

/** Most instances of one service, replicas of one client, and entries of one list. */
const MAX_INSTANCES = 100_000;
const MAX_LIST = 10_000;

const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
const SERVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,252}$/;

function list(value: unknown, path: string, min = 0): readonly unknown[] {
  if (!Array.isArray(value) || value.length < min || value.length > MAX_LIST) {
    throw invalidConfig(path, `a list of ${min} to ${MAX_LIST} entries`, value);
  }
  return value;
}

function name(value: unknown, path: string, pattern: RegExp, what: string): string {
  const text = readString(value, path);
  if (text === undefined || !pattern.test(text)) throw invalidConfig(path, what, value);
  return text;
}

function unique(names: readonly string[], path: string, what: string): void {
  const seen = new Set<string>();
  names.forEach((entry, index) => {
    if (seen.has(entry)) throw invalidConfig(`${path}[${index}].name`, `a ${what} name not used before`, entry);
    seen.add(entry);
  });
}

function checkServices(value: unknown, durationMs: number): { names: string[]; calls: Map<string, string> } {
  const names: string[] = [];
  const calls = new Map<string, string>(); // client name -> the service whose handler calls it
  list(value, 'services', 1).forEach((entry, index) => {
    const path = `services[${index}]`;
    const o = checkOptions(entry, path, SERVICE_KEYS);
    names.push(name(o['name'], `${path}.name`, SERVICE_NAME, 'a service name of letters, digits, ".", "_", ":" or "-"'));
    const instances = readNumber(o['instances'], `${path}.instances`, 0, { integer: true, min: 1, max: MAX_INSTANCES });
    if (o['instances'] === undefined) throw invalidConfig(`${path}.instances`, `an integer from 1 to ${MAX_INSTANCES}`, undefined);
    const zones = o['zones'] === undefined ? [] : list(o['zones'], `${path}.zones`, 1).map((zone, i) => name(zone, `${path}.zones[${i}]`, SERVICE_NAME, 'a zone name'));
    if (o['behaviour'] !== undefined) checkBehaviour(o['behaviour'], `${path}.behaviour`);
    if (o['timeline'] !== undefined) {
      let last = 0;
      list(o['timeline'], `${path}.timeline`).forEach((event, i) => {
        const at = checkTimelineEvent(event, `${path}.timeline[${i}]`, durationMs, instances, zones);
        if (at < last) throw invalidConfig(`${path}.timeline[${i}].at`, `a time >= the previous event's (${last} ms)`, at);
        last = at;
      });
    }
    if (o['rollingRestart'] !== undefined) checkRollingRestart(o['rollingRestart'], `${path}.rollingRestart`);
    if (o['handler'] !== undefined) {
      const client = checkHandler(o['handler'], `${path}.handler`);
      if (calls.has(client)) throw invalidConfig(`${path}.handler.call`, 'a client no other service calls', client);
      calls.set(client, names[index] as string);
    }
  });
  unique(names, 'services', 'service');
  return { names, calls };
}

function checkClients(value: unknown, services: readonly string[], calls: ReadonlyMap<string, string>, clock: SimLoop['clock'], durationMs: number): Map<string, string | undefined> {
  const names: string[] = [];
  const zones = new Map<string, string | undefined>();
  list(value, 'clients', 1).forEach((entry, index) => {
    const path = `clients[${index}]`;
    const o = checkOptions(entry, path, CLIENT_KEYS);
    const clientName = name(o['name'], `${path}.name`, SERVICE_NAME, 'a client name of letters, digits, ".", "_", ":" or "-"');
    names.push(clientName);
    const service = readString(o['service'], `${path}.service`);
    if (service === undefined || !services.includes(service)) throw invalidConfig(`${path}.service`, `one of the services (${services.join(', ')})`, o['service']);
    const zone = o['zone'] === undefined ? undefined : name(o['zone'], `${path}.zone`, SERVICE_NAME, 'a zone name');
    if (o['zones'] !== undefined) {
      if (zone !== undefined) throw invalidConfig(`${path}.zones`, 'not set together with zone', o['zones']);
      list(o['zones'], `${path}.zones`, 1).forEach((entry, i) => name(entry, `${path}.zones[${i}]`, SERVICE_NAME, 'a zone name'));
    }
    // A zone-aware stack is checked with the first zone a replica gets.
    const firstZone = zone ?? (o['zones'] as readonly string[] | undefined)?.[0];
    zones.set(clientName, firstZone);
    if (o['stack'] !== undefined) checkStack(o['stack'], `${path}.stack`, clock, firstZone);
    readNumber(o['replicas'], `${path}.replicas`, 1, { integer: true, min: 1, max: MAX_INSTANCES });
    const caller = calls.get(clientName);
    if (o['load'] !== undefined) {
      if (caller !== undefined) throw invalidConfig(`${path}.load`, `no load: service ${caller} calls this client from its handler`, o['load']);
      checkLoad(o['load'], `${path}.load`, durationMs);
    } else if (caller === undefined) {
      throw invalidConfig(`${path}.load`, "a load, or a service whose handler calls this client", undefined);
    } else if (o['replicas'] !== undefined) {
      throw invalidConfig(`${path}.replicas`, `no replicas: each instance of ${caller} gets its own client`, o['replicas']);
    }
  });
  unique(names, 'clients', 'client');
  for (const [client, service] of calls) {
    if (!names.includes(client)) throw invalidConfig(`services[${services.indexOf(service)}].handler.call`, `one of the clients (${names.join(', ')})`, client);
  }
  if (!names.some((_, index) => calls.get(names[index] as string) === undefined)) {
    throw invalidConfig('clients', 'at least one client with a load', value);
  }
  return zones;
}

function checkVariants(value: unknown, clients: ReadonlyMap<string, string | undefined>, clock: SimLoop['clock']): string[] {
  if (value === undefined) return ['default'];
  const names: string[] = [];
  list(value, 'variants', 1).forEach((entry, index) => {
    const path = `variants[${index}]`;
    const o = checkOptions(entry, path, VARIANT_KEYS);
    names.push(name(o['name'], `${path}.name`, NAME, 'a name of lowercase letters, digits and "-"'));
    readString(o['description'], `${path}.description`);
    // Checked once per client: a zone-aware balancer takes the client's zone.
    if (o['stack'] !== undefined) for (const zone of new Set(clients.values())) checkStack(o['stack'], `${path}.stack`, clock, zone);
    if (o['clients'] !== undefined) {
      const perClient = checkOptions(o['clients'], `${path}.clients`, [...clients.keys()]);
      for (const [client, stack] of Object.entries(perClient)) checkStack(stack, `${path}.clients.${client}`, clock, clients.get(client));
    }
  });
  unique(names, 'variants', 'variant');
  return names;
}

function checkMeasure(o: Readonly<Record<string, unknown>>, path: string, clients: readonly string[], services: readonly string[]): void {
  readChoice(o['metric'], `${path}.metric`, SCENARIO_METRICS, 'successRate');
  if (o['metric'] === undefined) throw invalidConfig(`${path}.metric`, `one of ${SCENARIO_METRICS.join(', ')}`, undefined);
  if (o['client'] !== undefined && !clients.includes(o['client'] as string)) {
    throw invalidConfig(`${path}.client`, `one of the clients (${clients.join(', ')})`, o['client']);
  }
  if (o['service'] !== undefined && !services.includes(o['service'] as string)) {
    throw invalidConfig(`${path}.service`, `one of the services (${services.join(', ')})`, o['service']);
  }
}

/**
 * Validates a scenario (parsed JSON or a typed object) and returns a deep
 * copy of it. Every problem is `ERR_INVALID_CONFIG` naming the path of the
 * bad value (`services[0].behaviour.latency.lognormal.p99`); an unknown key
 * is named with the nearest known one ("did you mean `instances`?"); the
 * clients' stacks are checked by the builder methods they configure.
 */
export function validateScenario(value: unknown): Scenario {
  const o = checkOptions(value, 'scenario', SCENARIO_KEYS);
  name(o['name'], 'name', NAME, 'a name of lowercase letters, digits and "-"');
  const description = readString(o['description'], 'description');
  if (description === undefined) throw invalidConfig('description', 'a non-empty string', undefined);
  readNumber(o['seed'], 'seed', 1, { integer: true, min: 0, max: 0xffffffff });
  const durationMs = parseDuration(o['duration'], 'duration');
  if (durationMs <= 0) throw invalidConfig('duration', 'a duration > 0', o['duration']);
  readNumber(o['bucketMs'], 'bucketMs', 1000, { integer: true, min: 1, max: durationMs });
  const clock = new SimLoop().clock;
  const { names: services, calls } = checkServices(o['services'], durationMs);
  const clientZones = checkClients(o['clients'], services, calls, clock, durationMs);
  const clients = [...clientZones.keys()];
  const variants = checkVariants(o['variants'], clientZones, clock);
  if (o['published'] !== undefined) {
    list(o['published'], 'published').forEach((entry, index) => {
      const path = `published[${index}]`;
      const p = checkOptions(entry, path, PUBLISHED_KEYS);
      if (readString(p['label'], `${path}.label`) === undefined) throw invalidConfig(`${path}.label`, 'a non-empty string', undefined);
      if (readString(p['source'], `${path}.source`) === undefined) throw invalidConfig(`${path}.source`, 'a citation', undefined);
      readNumber(p['value'], `${path}.value`, 0);
      if (p['value'] === undefined) throw invalidConfig(`${path}.value`, 'a number', undefined);
      if (!variants.includes(p['variant'] as string)) throw invalidConfig(`${path}.variant`, `one of the variants (${variants.join(', ')})`, p['variant']);
      checkMeasure(p, path, clients, services);
    });
  }
  if (o['measures'] !== undefined) {
    list(o['measures'], 'measures').forEach((entry, index) => {
      checkMeasure(checkOptions(entry, `measures[${index}]`, MEASURE_KEYS), `measures[${index}]`, clients, services);
    });
  }
  if (o['scaling'] !== undefined) {
    const s = checkOptions(o['scaling'], 'scaling', ['instances', 'replicas']);
    readBoolean(s['instances'], 'scaling.instances', false);
    readBoolean(s['replicas'], 'scaling.replicas', false);
  }
  return structuredClone(value) as Scenario;
}
