import { MAX_DURATION_MS, parseDuration, type Duration } from '../core/duration.js';
import { invalidConfig } from '../core/errors.js';
import { checkOptions, isOptionsObject, readNumber } from '../core/options.js';
import type { RandomSource } from './random.js';

/**
 * A latency distribution, in milliseconds (or duration strings such as
 * `'300ms'`, `'2s'`):
 * - a bare duration, or `{ fixed }`: always that;
 * - `{ uniform: { min, max } }`: uniform between the two;
 * - `{ exponential: { mean } }`: memoryless service times (an M/M/c queue);
 * - `{ lognormal: { median, p99 } }`: the usual shape of service latency,
 *   given by two percentiles (`p99` > `median` > 0);
 * - `{ empirical: [...] }`: each sample one of the listed values, uniformly;
 * - `{ mixture: [{ weight, latency }, ...] }`: one of the component
 *   distributions, picked with probability proportional to its weight (a
 *   rare slow tail: `[{ weight: 0.99, latency: 10 }, { weight: 0.01, latency: '1s' }]`).
 *
 * Every sample is clamped to [0, {@link MAX_DURATION_MS}]. A mixture has at
 * most 64 parts and nests at most 8 deep; an empirical list holds at most
 * 1,000,000 samples.
 */
export type LatencySpec =
  | Duration
  | { readonly fixed: Duration }
  | { readonly uniform: { readonly min: Duration; readonly max: Duration } }
  | { readonly exponential: { readonly mean: Duration } }
  | { readonly lognormal: { readonly median: Duration; readonly p99: Duration } }
  | { readonly empirical: readonly Duration[] }
  | { readonly mixture: readonly { readonly weight: number; readonly latency: LatencySpec }[] };

/** Draws one latency in ms from a random stream (one or two draws per sample: see {@link latencySampler}). */
export type LatencySampler = (random: RandomSource) => number;

const KINDS = ['fixed', 'uniform', 'exponential', 'lognormal', 'empirical', 'mixture'] as const;

/** The standard normal quantile of 0.99. */
const Z99 = 2.3263478740408408;

/** Mixtures nest at most this deep (a spec is data, possibly read from a file). */
const MAX_DEPTH = 8;

/** Most parts a mixture may have, and most samples an empirical distribution may list. */
const MAX_MIXTURE_PARTS = 64;
const MAX_EMPIRICAL_SAMPLES = 1_000_000;

/**
 * Validates `spec` and returns a sampler for it. Throws `ERR_INVALID_CONFIG`
 * naming the bad part under `option` (`latency.lognormal.p99`,
 * `latency.mixture[1].weight`), an unknown kind with the nearest known one.
 */
export function latencySampler(spec: LatencySpec, option = 'latency'): LatencySampler {
  return build(spec, option, 0);
}

function build(spec: unknown, option: string, depth: number): LatencySampler {
  if (typeof spec === 'number' || typeof spec === 'string') return constant(parseDuration(spec, option));
  const given = checkOptions(spec, option, KINDS);
  const kinds = Object.keys(given);
  if (kinds.length !== 1) throw invalidConfig(option, `exactly one of ${KINDS.join(', ')}`, spec);
  const kind = kinds[0] as (typeof KINDS)[number];
  const value = given[kind];
  const at = `${option}.${kind}`;
  switch (kind) {
    case 'fixed':
      return constant(parseDuration(value, at));
    case 'uniform': {
      const o = checkOptions(value, at, ['min', 'max']);
      const min = parseDuration(o['min'], `${at}.min`);
      const max = parseDuration(o['max'], `${at}.max`);
      if (max < min) throw invalidConfig(`${at}.max`, `a duration >= min (${min} ms)`, o['max']);
      const width = max - min;
      return (random) => min + width * random();
    }
    case 'exponential': {
      const o = checkOptions(value, at, ['mean']);
      const mean = parseDuration(o['mean'], `${at}.mean`);
      // Inverse CDF; 1 - u is in (0, 1], so the log is finite.
      return (random) => clamp(-mean * Math.log(1 - random()));
    }
    case 'lognormal': {
      const o = checkOptions(value, at, ['median', 'p99']);
      const median = parseDuration(o['median'], `${at}.median`);
      if (median <= 0) throw invalidConfig(`${at}.median`, 'a duration > 0', o['median']);
      const p99 = parseDuration(o['p99'], `${at}.p99`);
      if (p99 <= median) throw invalidConfig(`${at}.p99`, `a duration > median (${median} ms)`, o['p99']);
      const mu = Math.log(median);
      const sigma = (Math.log(p99) - mu) / Z99;
      return (random) => clamp(Math.exp(mu + sigma * normalQuantile(random())));
    }
    case 'empirical': {
      if (!Array.isArray(value) || value.length === 0 || value.length > MAX_EMPIRICAL_SAMPLES) {
        throw invalidConfig(at, `a list of 1 to ${MAX_EMPIRICAL_SAMPLES} durations`, value);
      }
      const samples = Float64Array.from(value as unknown[], (sample, index) => parseDuration(sample, `${at}[${index}]`));
      const n = samples.length;
      return (random) => samples[Math.floor(random() * n)] as number;
    }
    case 'mixture':
      return mixture(value, at, depth);
  }
}

function mixture(value: unknown, at: string, depth: number): LatencySampler {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_MIXTURE_PARTS) {
    throw invalidConfig(at, `a list of 1 to ${MAX_MIXTURE_PARTS} { weight, latency } parts`, value);
  }
  if (depth >= MAX_DEPTH) throw invalidConfig(at, `mixtures nested at most ${MAX_DEPTH} deep`, '<nested mixture>');
  const parts = (value as unknown[]).map((part, index) => {
    const where = `${at}[${index}]`;
    if (!isOptionsObject(part)) throw invalidConfig(where, 'a { weight, latency } object', part);
    const o = checkOptions(part, where, ['weight', 'latency']);
    const weight = readNumber(o['weight'], `${where}.weight`, undefined, { min: 0 });
    if (weight === undefined) throw invalidConfig(`${where}.weight`, 'a number >= 0', undefined);
    if (o['latency'] === undefined) throw invalidConfig(`${where}.latency`, 'a latency spec', undefined);
    return { weight, sampler: build(o['latency'], `${where}.latency`, depth + 1) };
  });
  const total = parts.reduce((sum, part) => sum + part.weight, 0);
  if (!(total > 0)) throw invalidConfig(at, 'weights that add up to more than 0', parts.map((part) => part.weight));
  const cumulative = new Float64Array(parts.length);
  let sum = 0;
  parts.forEach((part, index) => {
    sum += part.weight / total;
    cumulative[index] = sum;
  });
  cumulative[parts.length - 1] = 1; // rounding must never leave a draw past the last part
  const samplers = parts.map((part) => part.sampler);
  return (random) => {
    const u = random();
    let index = 0;
    while ((cumulative[index] as number) <= u) index++;
    return (samplers[index] as LatencySampler)(random);
  };
}

function constant(ms: number): LatencySampler {
  return () => ms;
}

function clamp(ms: number): number {
  return ms > MAX_DURATION_MS ? MAX_DURATION_MS : ms < 0 ? 0 : ms;
}

// Acklam's rational approximation of the standard normal quantile (relative error < 1.2e-9).
const A = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239] as const;
const B = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1] as const;
const C = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783] as const;
const D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416] as const;
const P_LOW = 0.02425;

/** The standard normal quantile of `u` in [0, 1) (0 is read as the smallest positive double). */
export function normalQuantile(u: number): number {
  const p = u <= 0 ? Number.MIN_VALUE : u;
  if (p < P_LOW) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5]) / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1);
  }
  if (p <= 1 - P_LOW) {
    const q = p - 0.5;
    const r = q * q;
    return (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1);
  }
  const q = Math.sqrt(-2 * Math.log(1 - p));
  return -(((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5]) / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1);
}
