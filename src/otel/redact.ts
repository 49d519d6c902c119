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

function decodedName(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' ')).toLowerCase();
  } catch {
    return raw.toLowerCase();
  }
}

/**
 * Replaces the values of sensitive query parameters (`names`, lower-cased)
 * with `REDACTED`, keeping every name and the order; `query` is what follows
 * `?`, without it. Returns `query` itself when nothing matched.
 */
export function redactQuery(query: string, names: ReadonlySet<string>): string {
  if (query === '') return query;
  const parts = query.split('&');
  let changed = false;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string;
    const eq = part.indexOf('=');
    const name = eq === -1 ? part : part.slice(0, eq);
    if (eq !== -1 && names.has(decodedName(name))) {
      parts[i] = `${name}=${REDACTED}`;
      changed = true;
    }
  }
  return changed ? parts.join('&') : query;
}

/** A path with its query (`/a?b=c#d`) with sensitive query values redacted; the fragment is dropped (never sent). */
export function redactPath(path: string, names: ReadonlySet<string>): string {
  const hash = path.indexOf('#');
  const bare = hash === -1 ? path : path.slice(0, hash);
  const q = bare.indexOf('?');
  if (q === -1) return bare;
  return `${bare.slice(0, q + 1)}${redactQuery(bare.slice(q + 1), names)}`;
}

/**
 * An absolute URL made safe for `url.full`: credentials become
 * `REDACTED:REDACTED@` (as the semantic conventions ask) and sensitive
 * query values `REDACTED`. Text that is not an absolute URL is treated as a
 * path.
 */
export function redactUrl(url: string, names: ReadonlySet<string>): string {
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(url);
  if (scheme === null) return redactPath(url, names);
  const authorityStart = scheme[0].length;
  let authorityEnd = url.length;
  for (const stop of ['/', '?', '#']) {
    const at = url.indexOf(stop, authorityStart);
    if (at !== -1 && at < authorityEnd) authorityEnd = at;
  }
  let authority = url.slice(authorityStart, authorityEnd);
  const at = authority.lastIndexOf('@');
  if (at !== -1) authority = `${REDACTED}:${REDACTED}@${authority.slice(at + 1)}`;
  return `${url.slice(0, authorityStart)}${authority}${redactPath(url.slice(authorityEnd), names)}`;
}
