import { createHash, type Hash } from 'node:crypto';

const functionIds = new WeakMap<object, number>();
let nextFunctionId = 1;

/** Feeds `value` to `hash` in one unambiguous form: bytes by content, object keys sorted, functions by identity. */
function feed(hash: Hash, value: unknown, path: Set<unknown> = new Set()): void {
  if (value instanceof Uint8Array) {
    hash.update(`bytes:${value.byteLength}:`).update(value);
  } else if (path.has(value)) {
    hash.update('cycle;'); // options do not loop, but a loop must not overflow the stack
  } else if (Array.isArray(value)) {
    path.add(value);
    hash.update(`array:${value.length}[`);
    for (const item of value) feed(hash, item, path);
    hash.update(']');
    path.delete(value);
  } else if (typeof value === 'function') {
    // A function cannot be compared by content (a TLS checkServerIdentity): equal only to itself.
    let id = functionIds.get(value);
    if (id === undefined) functionIds.set(value, (id = nextFunctionId++));
    hash.update(`function:${id};`);
  } else if (typeof value === 'object' && value !== null) {
    path.add(value);
    const keys = Object.keys(value).filter((key) => (value as Record<string, unknown>)[key] !== undefined).sort();
    hash.update(`object:${keys.length}{`);
    for (const key of keys) {
      hash.update(`${JSON.stringify(key)}=`);
      feed(hash, (value as Record<string, unknown>)[key], path);
    }
    hash.update('}');
    path.delete(value);
  } else {
    hash.update(`${typeof value}:${String(value).length}:${String(value)};`);
  }
}

/**
 * A SHA-256 fingerprint (hex) of credentials and TLS material, for the keys
 * of shared watches: clients that differ in a password, token, certificate
 * or key must never share a watch (one would see what the other may read),
 * yet the key is shown in status and errors, so it carries only this hash,
 * never the secret. Bytes count by content, object keys in any order,
 * functions by identity. `undefined` fingerprints as the empty string.
 */
export function fingerprint(value: unknown): string {
  if (value === undefined) return '';
  const hash = createHash('sha256');
  feed(hash, value);
  return hash.digest('hex');
}
