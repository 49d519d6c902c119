import { invalidConfig } from '../../core/errors.js';
import { checkOptions } from '../../core/options.js';

/**
 * Option readers shared by the adaptive-concurrency policy and its limit
 * algorithms. Every error is `ERR_INVALID_CONFIG` naming `<owner>.<option>`.
 * @internal
 */

/**
 * Checks an options argument: undefined (no options) or a plain object whose
 * keys are all in `known` (through the options kit: an unknown key is named
 * with the nearest known one).
 */
export function readOptions(owner: string, options: unknown, known: readonly string[]): Readonly<Record<string, unknown>> {
  return options === undefined ? {} : checkOptions(options, owner, known);
}

/** An integer in [min, max]; `fallback` when undefined. */
export function integerOption(value: unknown, option: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidConfig(option, `an integer from ${min} to ${max}`, value);
  }
  return value;
}

/**
 * A finite number in the range given by `min`/`max`; `minOpen`/`maxOpen`
 * exclude the bound. `fallback` when undefined.
 */
export function numberOption(
  value: unknown, option: string, fallback: number,
  min: number, max: number, minOpen = false, maxOpen = false,
): number {
  if (value === undefined) return fallback;
  if (
    typeof value !== 'number' || !Number.isFinite(value)
    || (minOpen ? value <= min : value < min) || (maxOpen ? value >= max : value > max)
  ) {
    const low = `${minOpen ? '>' : '>='} ${min}`;
    const high = max === Infinity ? '' : ` and ${maxOpen ? '<' : '<='} ${max}`;
    throw invalidConfig(option, `a number ${low}${high}`, value);
  }
  return value;
}

/**
 * A per-limit function option: a fixed integer (>= `min`) or a function of
 * the current integer limit. Returns the function form either way; the
 * function's results are checked where they are used.
 */
export function limitFunctionOption(
  value: unknown, option: string, min: number, fallback: (limit: number) => number,
): (limit: number) => number {
  if (value === undefined) return fallback;
  if (typeof value === 'function') return value as (limit: number) => number;
  if (typeof value === 'number' && Number.isFinite(value) && value >= min) return () => value;
  throw invalidConfig(option, `a number >= ${min} or a function of the current limit`, value);
}

/** Validates `minLimit <= initialLimit <= maxLimit` once each is read. */
export function checkLimitRange(owner: string, minLimit: number, initialLimit: number, maxLimit: number): void {
  if (minLimit > maxLimit) throw invalidConfig(`${owner}.minLimit`, `an integer <= ${owner}.maxLimit (${maxLimit})`, minLimit);
  if (initialLimit < minLimit || initialLimit > maxLimit) {
    throw invalidConfig(`${owner}.initialLimit`, `an integer from ${owner}.minLimit (${minLimit}) to ${owner}.maxLimit (${maxLimit})`, initialLimit);
  }
}

/** Largest limit any algorithm accepts; keeps arithmetic exact and error messages short. */
export const MAX_LIMIT = 1_000_000;

/**
 * RTTs at or below zero (an instant answer, a coarse clock) carry no
 * queueing information but would divide by zero; algorithms use at least this (1 us).
 */
export const MIN_RTT_MS = 0.001;
