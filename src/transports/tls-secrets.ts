import { TLS_SECRET_KEYS } from '../core/options.js';

/** What a secret reads as in an error's message and `details`, which end up in logs. */
const REDACTED = '<redacted>';

/**
 * `tls` as an error may show it: the values of its secret keys (`key`,
 * `passphrase`, `pfx`, `session`) replaced by `'<redacted>'`, the other keys
 * as given. A value that is not an object is returned as it is.
 */
export function redactTls(tls: unknown): unknown {
  if (typeof tls !== 'object' || tls === null || Array.isArray(tls)) return tls;
  return Object.fromEntries(Object.entries(tls).map(([key, value]) => [key, TLS_SECRET_KEYS.has(key) && value !== undefined ? REDACTED : value]));
}

/**
 * An object as an error may show it when any of its values may be a secret
 * (TLS material given where an `Identity` belongs): its keys, every value
 * `'<redacted>'`. A string is `'<redacted>'` too (it may be PEM text); any
 * other value is returned as it is.
 */
export function redactValues(value: unknown): unknown {
  if (typeof value === 'string') return REDACTED;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  return Object.fromEntries(Object.keys(value).map((key) => [key, REDACTED]));
}

/** `value` as an error may show it when it is the value of the TLS option `key`. */
export function redactTlsValue(key: string, value: unknown): unknown {
  return TLS_SECRET_KEYS.has(key) && value !== undefined ? REDACTED : value;
}
