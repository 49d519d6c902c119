import { invalidConfig } from './errors.js';

/** A duration: milliseconds as a number, or a string such as `'250ms'`, `'2s'`, `'1m30s'`. */
export type Duration = number | string;

/**
 * The longest duration meshkit accepts for anything that can reach a timer:
 * Node's timer limit, 2^31 - 1 ms (about 24.8 days). A longer timer fires at
 * once (with a `TimeoutOverflowWarning`), so a longer value is refused.
 */
export const MAX_DURATION_MS = 2 ** 31 - 1;

const TOO_LONG = `a duration <= ${MAX_DURATION_MS} ms (about 24.8 days, Node's timer limit)`;

const UNIT_MS: Readonly<Record<string, number>> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d+)?)(us|ms|s|m|h)/y;

/**
 * Parses a {@link Duration} to milliseconds. Units: `us`, `ms`, `s`, `m`, `h`;
 * parts may be chained (`'1m30s'`). A bare number is milliseconds.
 * Throws `ERR_INVALID_CONFIG` naming `option` for anything else, negatives
 * included, and for anything over {@link MAX_DURATION_MS}.
 */
export function parseDuration(value: unknown, option: string): number {
  const ms = parseUnbounded(value, option);
  if (ms > MAX_DURATION_MS) throw invalidConfig(option, TOO_LONG, value);
  return ms;
}

/**
 * Like {@link parseDuration}, but an explicit `Infinity` (the number, or the
 * string `'Infinity'`) means "no bound": for options where a bound is optional.
 */
export function parseDurationOrInfinity(value: unknown, option: string): number {
  if (value === Infinity || value === 'Infinity') return Infinity;
  return parseDuration(value, option);
}

function parseUnbounded(value: unknown, option: string): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw invalidConfig(option, 'a finite duration >= 0', value);
    return value;
  }
  if (typeof value !== 'string') throw invalidConfig(option, "a duration such as 250 or '250ms'", value);
  const text = value.trim();
  if (text === '') throw invalidConfig(option, "a duration such as 250 or '250ms'", value);
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const start = PART.lastIndex;
    const match = PART.exec(text);
    if (match === null || match.index !== start) {
      throw invalidConfig(option, "a duration with units us, ms, s, m or h (e.g. '250ms', '2s')", value);
    }
    total += Number(match[1]) * (UNIT_MS[match[2] as string] as number);
  }
  return total;
}

/** Parses a duration that must be strictly positive (timeouts, intervals). */
export function parsePositiveDuration(value: unknown, option: string): number {
  const ms = parseDuration(value, option);
  if (ms <= 0) throw invalidConfig(option, 'a duration > 0', value);
  return ms;
}
