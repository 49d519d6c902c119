import { parseDuration, type Duration } from '../core/duration.js';
import { invalidConfig } from '../core/errors.js';
import { checkOptions, isOptionsObject, readBoolean } from '../core/options.js';
import type { SimBackend } from './backend.js';
import { resolveBehaviour, type SimBehaviour } from './backend-behaviour.js';
import type { SimLoop } from './event-loop.js';
import type { SimResolver } from './resolver.js';

/**
 * One change to a simulated service at virtual time `at`, applied to the
 * instances listed in `backends` (default all), in this order: `leave`
 * discovery, go `down`, `set` a behaviour, come `up`, `join` discovery.
 */
export interface SimTimelineEntry {
  /** When, from the start of the run. */
  readonly at: Duration;
  /** Indices of the instances it applies to, or `'all'`. Default `'all'`. */
  readonly backends?: readonly number[] | 'all';
  /** Behaviour changes from then on (see `SimBackend.set`). Default none. */
  readonly set?: SimBehaviour;
  /** Leave discovery. Default false. */
  readonly leave?: boolean;
  /** The process goes away: requests held reset, connections refused. Default false. */
  readonly down?: boolean;
  /** The process is back. Default false. */
  readonly up?: boolean;
  /** Join discovery (again). Default false. */
  readonly join?: boolean;
}

const ENTRY_KEYS = ['at', 'backends', 'set', 'leave', 'down', 'up', 'join'];

interface TimelineTarget {
  readonly backends: readonly SimBackend[];
  readonly resolver: SimResolver;
}

/**
 * Validates a service's timeline and returns the function that schedules it
 * on `loop`. Throws `ERR_INVALID_CONFIG` naming `<option>[i].<field>`; a
 * behaviour is checked against every instance it applies to.
 */
export function scheduleTimeline(value: unknown, option: string, service: TimelineTarget, loop: SimLoop): () => void {
  if (value === undefined) return () => {};
  if (!Array.isArray(value)) throw invalidConfig(option, 'an array of { at, backends?, set?, leave?, down?, up?, join? }', value);
  const steps = (value as unknown[]).map((entry, index) => {
    const where = `${option}[${index}]`;
    if (!isOptionsObject(entry)) throw invalidConfig(where, 'a { at, ... } object', entry);
    const o = checkOptions(entry, where, ENTRY_KEYS);
    const at = parseDuration(o['at'], `${where}.at`);
    const targets = readTargets(o['backends'], `${where}.backends`, service.backends);
    const set = o['set'] as SimBehaviour | undefined;
    // Checked now, against each target's behaviour at the start: a typo fails before the run, not in the middle of it.
    if (set !== undefined) for (const backend of targets) resolveBehaviour(set, backend.behaviour, `${where}.set`);
    const flags = {
      leave: readBoolean(o['leave'], `${where}.leave`, false),
      down: readBoolean(o['down'], `${where}.down`, false),
      up: readBoolean(o['up'], `${where}.up`, false),
      join: readBoolean(o['join'], `${where}.join`, false),
    };
    return { at, targets, set, ...flags };
  });
  return () => {
    for (const step of steps) {
      loop.at(step.at, () => {
        for (const backend of step.targets) {
          if (step.leave) service.resolver.leave(backend);
          if (step.down) backend.down();
          if (step.set !== undefined) backend.set(step.set);
          if (step.up) backend.up();
          if (step.join) service.resolver.join(backend);
        }
      });
    }
  };
}

function readTargets(value: unknown, option: string, backends: readonly SimBackend[]): readonly SimBackend[] {
  if (value === undefined || value === 'all') return backends;
  if (!Array.isArray(value) || value.length === 0) throw invalidConfig(option, "'all' or a non-empty array of instance indices", value);
  return (value as unknown[]).map((index, position) => {
    const backend = typeof index === 'number' && Number.isInteger(index) ? backends[index] : undefined;
    if (backend === undefined) throw invalidConfig(`${option}[${position}]`, `an instance index from 0 to ${backends.length - 1}`, index);
    return backend;
  });
}
