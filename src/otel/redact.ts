import { invalidConfig } from '../core/errors.js';

/** What a redacted value reads as (the semantic conventions' choice). */
export const REDACTED = 'REDACTED';

/**
 * Query parameters the OpenTelemetry HTTP semantic conventions require
 * instrumentations to redact in `url.full` (signed-URL secrets).
 */
export const SEMCONV_REDACTED_QUERY_PARAMS: readonly string[] = Object.freeze(['AWSAccessKeyId', 'Signature', 'sig', 'X-Goog-Signature']);

/**
 * Signed-URL secrets beyond the conventions' list, always redacted too: AWS
 * Signature Version 4 presigned URLs carry the signature, the credential
 * scope and a session token in the query (`Signature` and `sig`, in the list
 * above, match `signature` and `SIG` as well: names match without regard to case).
 */
export const SIGNED_URL_QUERY_PARAMS: readonly string[] = Object.freeze(['X-Amz-Signature', 'X-Amz-Credential', 'X-Amz-Security-Token']);

/** meshkit's default extra list: common bearer secrets, keys and session ids passed in query strings. */
export const DEFAULT_REDACTED_QUERY_PARAMS: readonly string[] = Object.freeze([
  'token', 'access_token', 'refresh_token', 'id_token', 'api_key', 'api-key', 'apikey', 'key', 'password', 'secret',
  'client_secret', 'jwt', 'session',
]);

/** Every list above, lower-cased: what {@link redactUrl} redacts when given no names (openTelemetry()'s default too). */
const DEFAULT_NAMES: ReadonlySet<string> = new Set(
  [...SEMCONV_REDACTED_QUERY_PARAMS, ...SIGNED_URL_QUERY_PARAMS, ...DEFAULT_REDACTED_QUERY_PARAMS].map((name) => name.toLowerCase()),
);

const AMPERSAND = 0x26;
const EQUALS = 0x3d;

/** A query parameter name as a server would read it: `+` is a space, `%xx` decoded (when well formed), lower-cased. */
function decodedName(raw: string): string {
  // Most names have nothing to decode: skip the replace and the decoder for them.
  if (raw.indexOf('%') === -1 && raw.indexOf('+') === -1) return raw.toLowerCase();
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' ')).toLowerCase();
  } catch {
    return raw.toLowerCase();
  }
}

/**
 * True when a (decoded, lower-cased) parameter name is sensitive: the name
 * itself, or with brackets as qs, PHP and Rails read them (`token[]`,
 * `api_key[0]`, `user[password]`, `a[b][c]`), the part before the first `[`
 * or any bracketed part.
 */
function sensitiveName(name: string, names: ReadonlySet<string>): boolean {
  if (names.has(name)) return true;
  let open = name.indexOf('[');
  if (open === -1) return false;
  if (open > 0 && names.has(name.slice(0, open))) return true;
  while (open !== -1) {
    const close = name.indexOf(']', open + 1);
    if (close === -1) return false;
    if (close > open + 1 && names.has(name.slice(open + 1, close))) return true;
    open = name.indexOf('[', close + 1);
  }
  return false;
}

/**
 * Replaces the values of sensitive query parameters with `REDACTED`, keeping
 * every name and the order; `query` is what follows `?`, without it.
 * `names` must be lower-cased (openTelemetry()'s resolved options are); a
 * name matches whatever its case in the query, percent-decoded, and with
 * brackets (see `sensitiveName`). Returns `query` itself when nothing matched.
 */
export function redactQuery(query: string, names: ReadonlySet<string>): string {
  // One pass, and a new string only once a value is replaced: this runs for every call span.
  let out: string | undefined;
  let copied = 0;
  let nameStart = 0;
  let eq = -1;
  for (let i = 0; i <= query.length; i++) {
    const code = i === query.length ? AMPERSAND : query.charCodeAt(i);
    if (code === EQUALS) {
      if (eq === -1) eq = i;
    } else if (code === AMPERSAND) {
      if (eq !== -1 && sensitiveName(decodedName(query.slice(nameStart, eq)), names)) {
        out = `${out ?? ''}${query.slice(copied, eq + 1)}${REDACTED}`;
        copied = i;
      }
      nameStart = i + 1;
      eq = -1;
    }
  }
  return out === undefined ? query : `${out}${query.slice(copied)}`;
}

/** A path with its query (`/a?b=c#d`) with sensitive query values redacted (`names` lower-cased); the fragment is dropped (never sent). */
export function redactPath(path: string, names: ReadonlySet<string>): string {
  const hash = path.indexOf('#');
  const bare = hash === -1 ? path : path.slice(0, hash);
  const q = bare.indexOf('?');
  if (q === -1) return bare;
  return `${bare.slice(0, q + 1)}${redactQuery(bare.slice(q + 1), names)}`;
}

/** Lower-cased copies of the name lists given to {@link redactUrl}, with the entries they were made from. */
const lowered = new WeakMap<object, { readonly from: readonly string[]; readonly names: ReadonlySet<string> }>();

/**
 * `names` lower-cased, made once per list and reused while the list holds the
 * same entries in the same order (checked each time, without allocating:
 * a Set changed after a first use is read again).
 */
function lowerCased(names: ReadonlySet<string> | readonly string[]): ReadonlySet<string> {
  if (typeof names !== 'object' || names === null || typeof (names as Iterable<unknown>)[Symbol.iterator] !== 'function') {
    throw invalidConfig('redactUrl.names', 'a Set or an array of query parameter names', names);
  }
  const cached = lowered.get(names);
  if (cached !== undefined) {
    let i = 0;
    let same = true;
    for (const name of names) {
      if (cached.from[i++] !== name) {
        same = false;
        break;
      }
    }
    if (same && i === cached.from.length) return cached.names;
  }
  const from = [...names];
  if (!from.every((name) => typeof name === 'string')) {
    throw invalidConfig('redactUrl.names', 'a Set or an array of query parameter names', names);
  }
  const entry = { from, names: new Set(from.map((name) => name.toLowerCase())) };
  lowered.set(names, entry);
  return entry.names;
}

/**
 * An absolute URL made safe for `url.full`: credentials become
 * `REDACTED:REDACTED@` (as the semantic conventions ask) and the values of
 * sensitive query parameters `REDACTED`; the fragment is dropped. Text that
 * is not an absolute URL is treated as a path.
 *
 * `names` defaults to meshkit's own lists, as `openTelemetry()` redacts by
 * default: {@link SEMCONV_REDACTED_QUERY_PARAMS},
 * {@link SIGNED_URL_QUERY_PARAMS} and {@link DEFAULT_REDACTED_QUERY_PARAMS}.
 * Names match without regard to case (in `names` and in the URL),
 * percent-decoded, and through brackets: `token[]=`, `api_key[0]=` and
 * `user[password]=` are redacted when `token`, `api_key` or `password` is a
 * sensitive name. Throws `ERR_INVALID_CONFIG` when `names` is not a Set or an
 * array of strings.
 */
export function redactUrl(url: string, names: ReadonlySet<string> | readonly string[] = DEFAULT_NAMES): string {
  const sensitive = names === DEFAULT_NAMES ? DEFAULT_NAMES : lowerCased(names);
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(url);
  if (scheme === null) return redactPath(url, sensitive);
  const authorityStart = scheme[0].length;
  let authorityEnd = url.length;
  for (const stop of ['/', '?', '#']) {
    const at = url.indexOf(stop, authorityStart);
    if (at !== -1 && at < authorityEnd) authorityEnd = at;
  }
  let authority = url.slice(authorityStart, authorityEnd);
  const at = authority.lastIndexOf('@');
  if (at !== -1) authority = `${REDACTED}:${REDACTED}@${authority.slice(at + 1)}`;
  return `${url.slice(0, authorityStart)}${authority}${redactPath(url.slice(authorityEnd), sensitive)}`;
}
