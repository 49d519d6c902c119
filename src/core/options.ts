import { invalidConfig } from './errors.js';
import { warnUnverifiedTls } from './tls-warning.js';

/**
 * The one options kit: every factory and builder method checks its options
 * object here, so an unknown key is always `ERR_INVALID_CONFIG` naming the
 * key and the nearest known one ("did you mean `perTry`?"), and types are
 * checked the same way everywhere.
 */

/** Edit distance between two short keys (Levenshtein), for the "did you mean" hint. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j] as number;
      row[j] = Math.min(above + 1, (row[j - 1] as number) + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length] as number;
}

/** The known key closest to `key` (case-insensitive first), or undefined when none is close. */
export function nearestKey(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  const sameLetters = known.find((candidate) => candidate.toLowerCase() === lower);
  if (sameLetters !== undefined) return sameLetters;
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(key.length / 3)) + 1;
  for (const candidate of known) {
    const d = distance(lower, candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** True for a plain object (not null, not an array, not a function). */
export function isOptionsObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks that `value` is an options object whose own keys are all in
 * `known`. Throws `ERR_INVALID_CONFIG` naming `option` when it is not an
 * object, or `option.key` with the nearest known key when a key is unknown.
 * Keys whose value is `undefined` are checked too: a typo is a typo. Every
 * value is read once here, so a getter that throws is `ERR_INVALID_CONFIG`
 * naming its key (what it threw as `cause`), not a raw error from whichever
 * reader comes later.
 */
export function checkOptions(value: unknown, option: string, known: readonly string[]): Readonly<Record<string, unknown>> {
  if (!isOptionsObject(value)) {
    throw invalidConfig(option, known.length === 0 ? 'no options (it takes none)' : `an options object { ${known.join(', ')} }`, value);
  }
  for (const key of Object.keys(value)) {
    let given: unknown;
    try {
      given = value[key];
    } catch (error) {
      throw invalidConfig(`${option}.${key}`, 'a value that can be read', 'a getter that threw', { cause: error });
    }
    if (known.includes(key)) continue;
    if (known.length === 0) throw invalidConfig(`${option}.${key}`, 'no options (it takes none)', given);
    const near = nearestKey(key, known);
    const hint = near === undefined ? `one of ${known.join(', ')}` : `one of ${known.join(', ')} (did you mean \`${near}\`?)`;
    throw invalidConfig(`${option}.${key}`, `a known option: ${hint}`, given);
  }
  return value;
}

/** A boolean option; `fallback` when undefined. */
export function readBoolean(value: unknown, option: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw invalidConfig(option, 'true or false', value);
  return value;
}

/** A non-empty string option; `fallback` when undefined. */
export function readString(value: unknown, option: string, fallback: string): string;
export function readString(value: unknown, option: string, fallback?: undefined): string | undefined;
export function readString(value: unknown, option: string, fallback?: string): string | undefined {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value === '') throw invalidConfig(option, 'a non-empty string', value);
  return value;
}

/** Bounds for {@link readNumber}. */
export interface NumberBounds {
  readonly min?: number;
  readonly max?: number;
  /** Only whole numbers. Default false. */
  readonly integer?: boolean;
  /** `min` itself is not allowed (a ratio in (0, 1]). Default false. */
  readonly minExclusive?: boolean;
}

/** A finite number option within `bounds`; `fallback` when undefined. */
export function readNumber(value: unknown, option: string, fallback: number, bounds?: NumberBounds): number;
export function readNumber(value: unknown, option: string, fallback: undefined, bounds?: NumberBounds): number | undefined;
export function readNumber(value: unknown, option: string, fallback: number | undefined, bounds: NumberBounds = {}): number | undefined {
  if (value === undefined) return fallback;
  const { min = -Infinity, max = Infinity, integer = false, minExclusive = false } = bounds;
  const ok = typeof value === 'number' && Number.isFinite(value) && (!integer || Number.isInteger(value))
    && (minExclusive ? value > min : value >= min) && value <= max;
  if (!ok) {
    const kind = integer ? 'an integer' : 'a number';
    const low = min === -Infinity ? '' : ` ${minExclusive ? '>' : '>='} ${min}`;
    const high = max === Infinity ? '' : `${low === '' ? '' : ' and'} <= ${max}`;
    throw invalidConfig(option, `${kind}${low}${high}`, value);
  }
  return value;
}

/** A function option; `fallback` when undefined. */
export function readFunction<F extends (...args: never[]) => unknown>(value: unknown, option: string, fallback?: F): F | undefined {
  if (value === undefined) return fallback;
  if (typeof value !== 'function') throw invalidConfig(option, 'a function', value);
  return value as F;
}

/** One of `choices`; `fallback` when undefined. */
export function readChoice<T extends string>(value: unknown, option: string, choices: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    throw invalidConfig(option, `one of ${choices.map((c) => `'${c}'`).join(', ')}`, value);
  }
  return value as T;
}

/** PEM text or DER bytes, or a list of them (Node's TLS `ca`, `cert`, `key`). */
function isPemMaterial(value: unknown): boolean {
  const one = (v: unknown): boolean => typeof v === 'string' || v instanceof Uint8Array
    || (isOptionsObject(v) && ('pem' in v || 'buf' in v));
  return one(value) || (Array.isArray(value) && value.length > 0 && value.every(one));
}

/** The TLS options meshkit passes on to Node (`tls.connect`), each with its check. */
const TLS_CHECKS: Readonly<Record<string, (value: unknown) => boolean>> = {
  ca: isPemMaterial,
  cert: isPemMaterial,
  key: isPemMaterial,
  pfx: isPemMaterial,
  passphrase: (v) => typeof v === 'string',
  servername: (v) => typeof v === 'string' && v !== '',
  rejectUnauthorized: (v) => typeof v === 'boolean',
  minVersion: (v) => typeof v === 'string' && /^TLSv1(\.[0-3])?$/.test(v),
  maxVersion: (v) => typeof v === 'string' && /^TLSv1(\.[0-3])?$/.test(v),
  ciphers: (v) => typeof v === 'string',
  ecdhCurve: (v) => typeof v === 'string',
  ALPNProtocols: (v) => Array.isArray(v) && v.every((p) => typeof p === 'string' || p instanceof Uint8Array),
  checkServerIdentity: (v) => typeof v === 'function',
  session: (v) => v instanceof Uint8Array,
};

const TLS_EXPECTED: Readonly<Record<string, string>> = {
  ca: 'PEM text or bytes, or a non-empty list of them', cert: 'PEM text or bytes, or a non-empty list of them',
  key: 'PEM text or bytes, or a non-empty list of them', pfx: 'PFX bytes, or a non-empty list of them',
  passphrase: 'a string', servername: 'a non-empty host name', rejectUnauthorized: 'true or false',
  minVersion: "'TLSv1.2' or 'TLSv1.3'", maxVersion: "'TLSv1.2' or 'TLSv1.3'", ciphers: 'an OpenSSL cipher list string',
  ecdhCurve: 'a curve name string', ALPNProtocols: 'a list of protocol names', checkServerIdentity: 'a function',
  session: 'session bytes',
};

/** The TLS option names {@link readTlsOptions} accepts. */
export const TLS_OPTION_KEYS: readonly string[] = Object.freeze(Object.keys(TLS_CHECKS));

/** TLS options whose values are secrets (a private key, its passphrase, a PKCS#12 bundle, a session ticket): never shown in an error. */
export const TLS_SECRET_KEYS: ReadonlySet<string> = new Set(['key', 'passphrase', 'pfx', 'session']);

/**
 * Validates TLS options (`ca`, `cert`, `key`, `pfx`, `passphrase`,
 * `servername`, `rejectUnauthorized`, `minVersion`, `maxVersion`, `ciphers`,
 * `ecdhCurve`, `ALPNProtocols`, `checkServerIdentity`, `session`): unknown
 * keys and wrong types are `ERR_INVALID_CONFIG`; `key` without `cert` (or
 * the reverse) too. Errors never show a secret: an unknown key's value is
 * `'<hidden>'`, and a `key`, `passphrase`, `pfx` or `session` of the wrong
 * type reads `'<redacted>'`. `rejectUnauthorized: false` emits the process warning
 * `MESHKIT_TLS_UNVERIFIED` (once per process). Returns a frozen copy;
 * undefined when `value` is.
 */
export function readTlsOptions(value: unknown, option: string): Readonly<Record<string, unknown>> | undefined {
  if (value === undefined) return undefined;
  // Errors end up in logs: a mistyped key (`kye`) may hold a private key, so unknown keys are named with
  // their values hidden, a string given for the whole object may be PEM text, and a secret of the wrong
  // type is shown redacted.
  if (isOptionsObject(value)) checkOptions(Object.fromEntries(Object.keys(value).map((key) => [key, '<hidden>'])), option, TLS_OPTION_KEYS);
  const tls = checkOptions(typeof value === 'string' ? '<hidden>' : value, option, TLS_OPTION_KEYS);
  for (const [key, v] of Object.entries(tls)) {
    if (v === undefined) continue;
    if (!(TLS_CHECKS[key] as (value: unknown) => boolean)(v)) {
      throw invalidConfig(`${option}.${key}`, TLS_EXPECTED[key] as string, TLS_SECRET_KEYS.has(key) ? '<redacted>' : v);
    }
  }
  // Wherever TLS options are read (transport, health checks, Consul), turning verification off is said once.
  if (tls['rejectUnauthorized'] === false) warnUnverifiedTls(`${option}.rejectUnauthorized`);
  if ((tls['key'] === undefined) !== (tls['cert'] === undefined)) {
    const missing = tls['key'] === undefined ? 'key' : 'cert';
    throw invalidConfig(`${option}.${missing}`, `set together with ${missing === 'key' ? 'cert' : 'key'} (a client certificate needs both)`, undefined);
  }
  return Object.freeze({ ...tls });
}
