import { invalidArgument, invalidConfig } from '../core/errors.js';
import { HEADER_EXPECTATION, headerValues } from '../core/header-values.js';
import { checkOptions, isOptionsObject } from '../core/options.js';
import type { HttpHeaders, HttpRequest } from '../transports/http-types.js';
import type { QueryParameters, RequestDefaults, RequestOptions } from './request-options.js';

/** {@link RequestDefaults} checked once by the builder. */
export interface ResolvedRequestDefaults {
  /** `''` or a prefix starting with `/`, without a trailing `/`. */
  readonly basePath: string;
  /** Default headers as a flat `[name, value, ...]` list, names in lower case. */
  readonly headers: readonly string[];
}

/** Validates `.defaults()` options: `ERR_INVALID_CONFIG` naming `defaults.basePath` or `defaults.headers.<name>`. */
export function resolveRequestDefaults(options: RequestDefaults): ResolvedRequestDefaults {
  const raw = checkOptions(options, 'defaults', ['basePath', 'headers']);
  const base = raw['basePath'];
  if (base !== undefined && (typeof base !== 'string' || base.charCodeAt(0) !== 47 || base.startsWith('//') || /[?#\s]/.test(base))) {
    throw invalidConfig('defaults.basePath', "a path starting with '/' without '?', '#' or spaces, such as '/api/v1'", base);
  }
  const headers: string[] = [];
  const given = raw['headers'];
  if (given !== undefined) {
    if (!isOptionsObject(given)) throw invalidConfig('defaults.headers', 'an object of header values', given);
    for (const [name, value] of Object.entries(given)) {
      const values = headerValues(name, value);
      if (values === undefined) throw invalidConfig(`defaults.headers.${name}`, HEADER_EXPECTATION, value);
      for (const v of values) headers.push(name.toLowerCase(), v);
    }
  }
  return Object.freeze({ basePath: base === undefined ? '' : base.replace(/\/+$/, ''), headers: Object.freeze(headers) });
}

/** The names set by `headers` (lower case). */
function headerNames(headers: HttpHeaders | Headers | undefined): Set<string> {
  const names = new Set<string>();
  if (headers === undefined) return names;
  if (headers instanceof Headers) headers.forEach((_, name) => names.add(name));
  else if (Array.isArray(headers)) for (let i = 0; i < headers.length; i += 2) names.add(String(headers[i]).toLowerCase());
  else for (const [name, value] of Object.entries(headers)) if (value !== undefined) names.add(name.toLowerCase());
  return names;
}

/** `headers` plus every default header the call did not set itself, as a flat list. */
export function withDefaultHeaders(headers: HttpHeaders | undefined, defaults: readonly string[], extra?: readonly string[]): HttpHeaders | undefined {
  if (defaults.length === 0 && extra === undefined) return headers;
  const own = headerNames(headers);
  const flat: string[] = [];
  for (const list of extra === undefined ? [defaults] : [extra, defaults]) {
    for (let i = 0; i < list.length; i += 2) {
      const name = list[i] as string;
      if (!own.has(name)) flat.push(name, list[i + 1] as string);
    }
    if (list === extra) for (let i = 0; i < list.length; i += 2) own.add(list[i] as string);
  }
  if (Array.isArray(headers)) flat.push(...headers);
  else if (headers !== undefined) {
    for (const [name, value] of Object.entries(headers)) {
      if (Array.isArray(value)) for (const v of value) flat.push(name, v);
      else if (value !== undefined) flat.push(name, value);
    }
  }
  return flat;
}

function scalar(value: unknown): value is string | number | boolean | bigint {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint';
}

/** `?a=1&b=x` for `query` (`''` for none); `ERR_INVALID_ARGUMENT` naming `options.query.<name>` for a value that is not a scalar or a list of them. */
export function queryString(query: QueryParameters | URLSearchParams): string {
  let params: URLSearchParams;
  if (query instanceof URLSearchParams) params = query;
  else {
    if (!isOptionsObject(query)) throw invalidArgument('options.query', 'an object of query values or URLSearchParams', query);
    params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) {
      if (value === undefined) continue;
      const values: readonly unknown[] = Array.isArray(value) ? value : [value];
      if (!values.every(scalar)) throw invalidArgument(`options.query.${name}`, 'a string, number, boolean or bigint, or a list of them', value);
      for (const v of values) params.append(name, String(v));
    }
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

/** Appends `query` to a path that may have a query already. */
function withQuery(path: string, query: string): string {
  if (query === '') return path;
  return path.includes('?') ? `${path}&${query.slice(1)}` : `${path}${query}`;
}

const JSON_CONTENT_TYPE: readonly string[] = Object.freeze(['content-type', 'application/json']);

/**
 * The request `request(options)` sends when it uses `query`, `json` or the
 * client's defaults: base path, query and JSON body applied, default headers
 * merged. Throws `ERR_INVALID_ARGUMENT` for a bad path, query or JSON body.
 */
export function shapeRequest(options: RequestOptions, defaults: ResolvedRequestDefaults | undefined): HttpRequest {
  const path = options.path ?? '/';
  if (typeof path !== 'string' || path.charCodeAt(0) !== 47 /* / */) throw invalidArgument('options.path', "a path starting with '/'", path);
  let body = options.body;
  let extra: readonly string[] | undefined;
  if (options.json !== undefined) {
    if (body !== undefined) throw invalidArgument('options.body', 'no body alongside json (json is the body)', '<body>');
    let text: string | undefined;
    try {
      text = JSON.stringify(options.json);
    } catch (error) {
      throw invalidArgument('options.json', 'a value JSON.stringify accepts', options.json, { cause: error });
    }
    if (typeof text !== 'string') throw invalidArgument('options.json', 'a value JSON.stringify accepts', options.json);
    body = text;
    extra = JSON_CONTENT_TYPE;
  }
  const query = options.query === undefined ? '' : queryString(options.query);
  return {
    path: withQuery(`${defaults?.basePath ?? ''}${path}`, query),
    method: options.method,
    headers: withDefaultHeaders(options.headers, defaults?.headers ?? [], extra),
    body,
  };
}
