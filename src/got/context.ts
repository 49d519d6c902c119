import { invalidArgument } from '../core/errors.js';
import { isOptionsObject, nearestKey } from '../core/options.js';

/** Per-request meshkit options, given to got as `context: { meshkit: { ... } }`. */
export interface GotMeshkitContext {
  /** Whether the request may be sent more than once. Default: from the method (GET, PUT, DELETE...) and an `Idempotency-Key` header. */
  readonly idempotent?: boolean;
  /** Routing key for hash-based balancers. Default none. */
  readonly key?: string;
  /** Named subset to send the request to. Default: the client's split. */
  readonly subset?: string;
}

const KEYS: readonly string[] = ['idempotent', 'key', 'subset'];

/**
 * Reads got's `context.meshkit` as per-call options are read: an unknown key
 * (`idempotant`) or a value of the wrong type (`idempotent: 'yes'`) would
 * silently change how the request is retried or routed, so each is
 * `ERR_INVALID_ARGUMENT` naming `context.meshkit.<key>`. Absent: `{}`.
 */
export function readContext(context: Readonly<Record<string, unknown>>, name: string): GotMeshkitContext {
  const value = context[name];
  if (value === undefined) return {};
  if (!isOptionsObject(value)) throw invalidArgument(`context.${name}`, `an options object { ${KEYS.join(', ')} }`, value);
  for (const key of Object.keys(value)) {
    if (KEYS.includes(key)) continue;
    const near = nearestKey(key, KEYS);
    const hint = near === undefined ? `one of ${KEYS.join(', ')}` : `one of ${KEYS.join(', ')} (did you mean \`${near}\`?)`;
    throw invalidArgument(`context.${name}.${key}`, `a known option: ${hint}`, value[key]);
  }
  const { idempotent, key, subset } = value;
  // Truthiness would turn `'false'` into a retried POST.
  if (idempotent !== undefined && typeof idempotent !== 'boolean') throw invalidArgument(`context.${name}.idempotent`, 'true or false', idempotent);
  if (key !== undefined && typeof key !== 'string') throw invalidArgument(`context.${name}.key`, 'a string', key);
  if (subset !== undefined && typeof subset !== 'string') throw invalidArgument(`context.${name}.subset`, 'a string', subset);
  return value as GotMeshkitContext;
}
