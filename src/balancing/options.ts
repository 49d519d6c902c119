import { invalidConfig } from '../core/errors.js';
import { checkOptions } from '../core/options.js';

/**
 * Checks a balancer's options argument: undefined or a plain object whose
 * keys are all in `known` (through the options kit: a misspelt option fails
 * loudly, naming the nearest known one, instead of being silently ignored).
 * Errors name `balancer.<option>`; `known` empty for balancers without options.
 */
export function readOptions(options: unknown, known: readonly string[]): Readonly<Record<string, unknown>> {
  return options === undefined ? {} : checkOptions(options, 'balancer', known);
}

/** The options of a balancer that takes none: anything given is refused with `ERR_INVALID_CONFIG`. */
export type NoOptions = Readonly<Record<string, never>>;

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
