import { invalidConfig } from '../core/errors.js';

/**
 * Checks a balancer's options argument: undefined or a plain object whose
 * keys are all in `known`. A misspelt option fails loudly instead of being
 * silently ignored. Errors name `balancer.<option>`.
 */
export function readOptions(options: unknown, known: readonly string[]): Readonly<Record<string, unknown>> {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw invalidConfig('balancer', 'an options object', options);
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw invalidConfig(`balancer.${key}`, known.length === 0 ? 'no options' : `one of ${known.join(', ')}`, (options as Record<string, unknown>)[key]);
    }
  }
  return options as Readonly<Record<string, unknown>>;
}

/** An integer option in [min, max]; `fallback` when undefined. */
export function integerOption(value: unknown, option: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidConfig(`balancer.${option}`, `an integer from ${min} to ${max}`, value);
  }
  return value;
}

/** A number option >= min (Infinity allowed only when `infinite` is true); `fallback` when undefined. */
export function numberOption(value: unknown, option: string, min: number, fallback: number, infinite = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value < min || (!infinite && !Number.isFinite(value))) {
    throw invalidConfig(`balancer.${option}`, `a ${infinite ? '' : 'finite '}number >= ${min}`, value);
  }
  return value;
}
