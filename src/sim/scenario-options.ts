import { parseDuration, parsePositiveDuration } from '../core/duration.js';
import { invalidConfig } from '../core/errors.js';
import { checkOptions, isOptionsObject, readBoolean, readChoice, readNumber, readString } from '../core/options.js';
import { latencySampler, type LatencySpec } from './latency.js';
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

function fraction(value: unknown, option: string): void {
  readNumber(value, option, 0, { min: 0, max: 1 });
}

function status(value: unknown, option: string): void {
  readNumber(value, option, 503, { integer: true, min: 100, max: 599 });
}

/** Checks a behaviour (or a timeline's partial one). */
export function checkBehaviour(value: unknown, path: string): void {
  const o = checkOptions(value, path, BEHAVIOUR_KEYS);
  // The engine's own validator: one check per option, errors naming the full path.
  if (o['latency'] !== undefined) latencySampler(o['latency'] as LatencySpec, `${path}.latency`);
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

/**
 * Checks a client's load. Its window must lie within the scenario's
 * `durationMs`: a load starting at or after the end would send nothing, and
 * one running past it would be cut, both without a word.
 */
export function checkLoad(value: unknown, path: string, durationMs: number): void {
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
  const start = o['start'] === undefined ? 0 : parseDuration(o['start'], `${path}.start`);
  if (start >= durationMs) throw invalidConfig(`${path}.start`, `a time before the scenario's end (${durationMs} ms)`, o['start']);
  if (o['duration'] !== undefined) {
    const duration = parsePositiveDuration(o['duration'], `${path}.duration`);
    if (start + duration > durationMs) {
      throw invalidConfig(`${path}.duration`, `at most ${durationMs - start} ms: the window ends by the scenario's end (${durationMs} ms); omit it to run to the end`, o['duration']);
    }
  }
}
