import { parseDuration } from '../core/duration.js';
import { invalidConfig } from '../core/errors.js';
import { checkOptions, isOptionsObject, readBoolean, readChoice, readNumber, readString } from '../core/options.js';
import type {
  ScenarioBackendSelector, ScenarioBehaviour, ScenarioHandler, ScenarioRollingRestart, ScenarioTimelineEvent,
} from './scenario-types.js';

/** Checks of the parts of a scenario below the top level; each error names the full path. */

const BEHAVIOUR_KEYS: readonly (keyof ScenarioBehaviour)[] = [
  'latency', 'servers', 'queue', 'errorRate', 'errorStatus', 'refused', 'resetRate', 'stallRate', 'blackholeRate', 'cancelOnAbort',
];
const TIMELINE_KEYS: readonly (keyof ScenarioTimelineEvent)[] = ['at', 'backends', 'set', 'leave', 'join', 'down', 'up'];
const RESTART_KEYS: readonly (keyof ScenarioRollingRestart)[] = ['start', 'interval', 'drain', 'downtime'];
const HANDLER_KEYS: readonly (keyof ScenarioHandler)[] = ['call', 'path', 'failureStatus'];
const OPEN_LOAD_KEYS = ['type', 'rate', 'fanout', 'path', 'start', 'duration'] as const;
const CLOSED_LOAD_KEYS = ['type', 'callers', 'think', 'fanout', 'path', 'start', 'duration'] as const;
const LATENCY_FORMS = ['fixed', 'uniform', 'exponential', 'lognormal', 'empirical', 'mixture'] as const;

/** Most parts a mixture may have, and most samples an empirical distribution may list. */
const MAX_MIXTURE_PARTS = 64;
const MAX_EMPIRICAL_SAMPLES = 1_000_000;

function fraction(value: unknown, option: string): void {
  readNumber(value, option, 0, { min: 0, max: 1 });
}

function status(value: unknown, option: string): void {
  readNumber(value, option, 503, { integer: true, min: 100, max: 599 });
}

/** Checks a latency distribution (ms). */
export function checkLatency(value: unknown, path: string): void {
  if (typeof value === 'number' || typeof value === 'string') {
    parseDuration(value, path);
    return;
  }
  const object = checkOptions(value, path, LATENCY_FORMS);
  const keys = Object.keys(object);
  if (keys.length !== 1) throw invalidConfig(path, `exactly one of ${LATENCY_FORMS.join(', ')}`, value);
  const form = keys[0] as (typeof LATENCY_FORMS)[number];
  const inner = object[form];
  const at = `${path}.${form}`;
  if (form === 'fixed') {
    parseDuration(inner, at);
  } else if (form === 'uniform') {
    const o = checkOptions(inner, at, ['min', 'max']);
    const min = parseDuration(o['min'], `${at}.min`);
    const max = parseDuration(o['max'], `${at}.max`);
    if (max < min) throw invalidConfig(`${at}.max`, `a duration >= min (${min} ms)`, o['max']);
  } else if (form === 'exponential') {
    const o = checkOptions(inner, at, ['mean']);
    parseDuration(o['mean'], `${at}.mean`);
  } else if (form === 'lognormal') {
    const o = checkOptions(inner, at, ['median', 'p99']);
    const median = parseDuration(o['median'], `${at}.median`);
    const p99 = parseDuration(o['p99'], `${at}.p99`);
    if (median <= 0) throw invalidConfig(`${at}.median`, 'a duration > 0', o['median']);
    if (p99 < median) throw invalidConfig(`${at}.p99`, `a duration >= median (${median} ms)`, o['p99']);
  } else if (form === 'empirical') {
    if (!Array.isArray(inner) || inner.length === 0 || inner.length > MAX_EMPIRICAL_SAMPLES) {
      throw invalidConfig(at, `a list of 1 to ${MAX_EMPIRICAL_SAMPLES} samples (ms)`, inner);
    }
    inner.forEach((sample: unknown, index) => parseDuration(typeof sample === 'number' ? sample : Number.NaN, `${at}[${index}]`));
  } else {
    if (!Array.isArray(inner) || inner.length === 0 || inner.length > MAX_MIXTURE_PARTS) {
      throw invalidConfig(at, `a list of 1 to ${MAX_MIXTURE_PARTS} { weight, latency } parts`, inner);
    }
    inner.forEach((part: unknown, index) => {
      const o = checkOptions(part, `${at}[${index}]`, ['weight', 'latency']);
      readNumber(o['weight'], `${at}[${index}].weight`, 0, { min: 0, minExclusive: true });
      if (o['weight'] === undefined) throw invalidConfig(`${at}[${index}].weight`, 'a number > 0', undefined);
      checkLatency(o['latency'], `${at}[${index}].latency`);
    });
  }
}

/** Checks a behaviour (or a timeline's partial one). */
export function checkBehaviour(value: unknown, path: string): void {
  const o = checkOptions(value, path, BEHAVIOUR_KEYS);
  if (o['latency'] !== undefined) checkLatency(o['latency'], `${path}.latency`);
  readNumber(o['servers'], `${path}.servers`, 1, { integer: true, min: 1 });
  readNumber(o['queue'], `${path}.queue`, 0, { integer: true, min: 0 });
  for (const key of ['errorRate', 'resetRate', 'stallRate', 'blackholeRate'] as const) fraction(o[key], `${path}.${key}`);
  if (o['errorStatus'] !== undefined) status(o['errorStatus'], `${path}.errorStatus`);
  readBoolean(o['refused'], `${path}.refused`, false);
  readBoolean(o['cancelOnAbort'], `${path}.cancelOnAbort`, false);
}

/** Checks a backend selector against a service's size and zones. */
export function checkSelector(value: unknown, path: string, instances: number, zones: readonly string[]): void {
  if (value === undefined || value === 'all') return;
  if (Array.isArray(value)) {
    if (value.length === 0) throw invalidConfig(path, 'a non-empty list of backend indices', value);
    value.forEach((index: unknown, i) => readNumber(index, `${path}[${i}]`, 0, { integer: true, min: 0, max: instances - 1 }));
    return;
  }
  if (isOptionsObject(value)) {
    const o = checkOptions(value, path, ['zone']);
    const zone = readString(o['zone'], `${path}.zone`);
    if (zone === undefined || !zones.includes(zone)) throw invalidConfig(`${path}.zone`, `one of the service's zones (${zones.join(', ') || 'none'})`, o['zone']);
    return;
  }
  throw invalidConfig(path, "'all', a list of backend indices or { zone }", value);
}

/** Checks one timeline event; returns its time in ms. */
export function checkTimelineEvent(value: unknown, path: string, durationMs: number, instances: number, zones: readonly string[]): number {
  const o = checkOptions(value, path, TIMELINE_KEYS);
  const at = parseDuration(o['at'], `${path}.at`);
  if (at > durationMs) throw invalidConfig(`${path}.at`, `a time within the scenario's duration (${durationMs} ms)`, o['at']);
  checkSelector(o['backends'] as ScenarioBackendSelector | undefined, `${path}.backends`, instances, zones);
  if (o['set'] !== undefined) checkBehaviour(o['set'], `${path}.set`);
  const flags = (['leave', 'join', 'down', 'up'] as const).filter((key) => readBoolean(o[key], `${path}.${key}`, false));
  if (flags.includes('leave') && flags.includes('join')) throw invalidConfig(`${path}.join`, 'not set together with leave', true);
  if (flags.includes('down') && flags.includes('up')) throw invalidConfig(`${path}.up`, 'not set together with down', true);
  if (o['set'] === undefined && flags.length === 0) throw invalidConfig(path, 'an event that does something: set, leave, join, down or up', value);
  return at;
}

/** Checks a rolling restart. */
export function checkRollingRestart(value: unknown, path: string): void {
  const o = checkOptions(value, path, RESTART_KEYS);
  parseDuration(o['start'], `${path}.start`);
  parseDuration(o['interval'], `${path}.interval`);
  if (o['drain'] !== undefined) parseDuration(o['drain'], `${path}.drain`);
  parseDuration(o['downtime'], `${path}.downtime`);
}

/** Checks a tier's handler; returns the client it calls. */
export function checkHandler(value: unknown, path: string): string {
  const o = checkOptions(value, path, HANDLER_KEYS);
  const call = readString(o['call'], `${path}.call`);
  if (call === undefined) throw invalidConfig(`${path}.call`, 'the name of a client in clients', undefined);
  checkPath(o['path'], `${path}.path`);
  if (o['failureStatus'] !== undefined) status(o['failureStatus'], `${path}.failureStatus`);
  return call;
}

function checkPath(value: unknown, option: string): void {
  const path = readString(value, option);
  if (path !== undefined && !path.startsWith('/')) throw invalidConfig(option, "a path starting with '/'", value);
}

/** Checks a client's load. */
export function checkLoad(value: unknown, path: string): void {
  if (!isOptionsObject(value)) throw invalidConfig(path, "a load { type: 'open' | 'closed', ... }", value);
  const type = readChoice(value['type'], `${path}.type`, ['open', 'closed'], 'open');
  if (value['type'] === undefined) throw invalidConfig(`${path}.type`, "'open' or 'closed'", undefined);
  const o = checkOptions(value, path, type === 'open' ? OPEN_LOAD_KEYS : CLOSED_LOAD_KEYS);
  if (type === 'open') {
    readNumber(o['rate'], `${path}.rate`, 0, { min: 0, minExclusive: true, max: 1e6 });
    if (o['rate'] === undefined) throw invalidConfig(`${path}.rate`, 'user requests per second, > 0', undefined);
  } else {
    readNumber(o['callers'], `${path}.callers`, 1, { integer: true, min: 1, max: 1e6 });
    if (o['callers'] === undefined) throw invalidConfig(`${path}.callers`, 'an integer >= 1', undefined);
    if (o['think'] !== undefined) parseDuration(o['think'], `${path}.think`);
  }
  readNumber(o['fanout'], `${path}.fanout`, 1, { integer: true, min: 1, max: 100_000 });
  checkPath(o['path'], `${path}.path`);
  if (o['start'] !== undefined) parseDuration(o['start'], `${path}.start`);
  if (o['duration'] !== undefined) parseDuration(o['duration'], `${path}.duration`);
}
