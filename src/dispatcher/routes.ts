import { Client } from '../client/client.js';
import { invalidConfig, MeshkitError } from '../core/errors.js';
import { checkOptions, isOptionsObject } from '../core/options.js';

/**
 * Decides whether a request to `origin` (`'http://orders'`,
 * `'http://orders.internal:8080'`, as `URL.origin` spells it, a trailing dot
 * of the host removed) is governed. One that throws fails that request with
 * `ERR_INVALID_CONFIG` (blame `local`, what it threw as `cause`).
 */
export type OriginPredicate = (origin: string) => boolean;

/** One route: requests whose origin matches go through `client`. */
export interface DispatcherRoute {
  /**
   * An origin (`'http://orders'`, `'https://orders.internal:8443'`; a path
   * is not allowed) matched exactly, case, default ports and one trailing
   * dot of the host folded (`'http://ORDERS.:80'` is `'http://orders'`), or
   * a predicate given each request's origin so folded. Required.
   */
  readonly origin: string | OriginPredicate;
  /** The meshkit client that sends matching requests (its endpoints, policies, telemetry). Required. */
  readonly client: Client;
}

/**
 * The routes of a dispatcher: an object of origin => client, or a list of
 * {@link DispatcherRoute} (needed for predicates). Exact origins are tried
 * first, then predicates in order.
 */
export type DispatcherRoutes = Readonly<Record<string, Client>> | readonly DispatcherRoute[];

/** A predicate route: the predicate, its client, and the option that gave it (for errors). */
type PredicateRoute = readonly [OriginPredicate, Client, string];

/** Which client, if any, governs a request to an origin. */
export class RouteTable {
  readonly #exact: ReadonlyMap<string, Client>;
  readonly #predicates: readonly PredicateRoute[];

  constructor(exact: ReadonlyMap<string, Client>, predicates: readonly PredicateRoute[]) {
    this.#exact = exact;
    this.#predicates = predicates;
  }

  /**
   * The client for `origin` (a string or URL as undici's dispatch options
   * carry it); undefined sends it to the fallback. A predicate that throws
   * gives the `ERR_INVALID_CONFIG` that request fails with: neither routed
   * nor sent on ungoverned, since it might have been the route.
   */
  lookup(origin: string | URL | undefined): Client | MeshkitError | undefined {
    if (origin === undefined || origin === null) return undefined;
    // fetch and undici pass URL.origin, already canonical: one map lookup. Other spellings are parsed once.
    let key = typeof origin === 'string' ? origin : origin.origin;
    let client = this.#exact.get(key);
    if (client !== undefined) return client;
    const canonical = canonicalOrigin(key);
    if (canonical === undefined) return undefined;
    if (canonical !== key) {
      key = canonical;
      client = this.#exact.get(key);
      if (client !== undefined) return client;
    }
    for (const [matches, routed, option] of this.#predicates) {
      try {
        if (matches(key)) return routed;
      } catch (thrown) {
        return predicateFailed(option, key, thrown);
      }
    }
    return undefined;
  }
}

/** The error a request fails with when a route predicate threw on its origin. */
function predicateFailed(option: string, origin: string, thrown: unknown): MeshkitError {
  const what = thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown);
  return new MeshkitError('ERR_INVALID_CONFIG', `Invalid option ${option}: the route predicate threw on ${origin} (${what})`, {
    option, expected: 'a function (origin) => boolean that does not throw', origin,
  }, { cause: thrown });
}

/**
 * `URL.origin` of `url` with one trailing dot of the host removed
 * (`orders.` is the same DNS name as `orders`, so it must not escape its
 * route).
 */
function foldedOrigin(url: URL): string {
  const host = url.hostname;
  if (!host.endsWith('.')) return url.origin;
  return `${url.protocol}//${host.slice(0, -1)}${url.port === '' ? '' : `:${url.port}`}`;
}

/** `URL.origin` of `text` (lower-case host, default port dropped, a trailing dot removed), or undefined when it is not an http(s) origin. */
function canonicalOrigin(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  return url.protocol === 'http:' || url.protocol === 'https:' ? foldedOrigin(url) : undefined;
}

/** Checks an origin string given as a route; the error names `option`. */
function routeOrigin(text: string, option: string): string {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  const bare = url !== undefined && (url.pathname === '/' || url.pathname === '') && url.search === '' && url.hash === ''
    && url.username === '' && url.password === '';
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || !bare) {
    throw invalidConfig(option, "an http(s) origin such as 'http://orders' or 'http://orders.internal:8080' (no path)", text);
  }
  return foldedOrigin(url);
}

function routeClient(value: unknown, option: string): Client {
  if (!(value instanceof Client)) throw invalidConfig(option, 'a meshkit Client (client(name)...build())', value);
  return value;
}

/** Validates `routes` (the error names `option.<key>`) and builds the table. */
export function resolveRoutes(routes: unknown, option: string): RouteTable {
  const exact = new Map<string, Client>();
  const predicates: PredicateRoute[] = [];
  const addExact = (text: string, client: Client, where: string): void => {
    const origin = routeOrigin(text, where);
    if (exact.has(origin)) throw invalidConfig(where, `an origin given once (${origin} is routed twice)`, text);
    exact.set(origin, client);
  };
  if (Array.isArray(routes)) {
    routes.forEach((route: unknown, index) => {
      const where = `${option}[${index}]`;
      const checked = checkOptions(route, where, ['origin', 'client']);
      const client = routeClient(checked['client'], `${where}.client`);
      const origin = checked['origin'];
      if (typeof origin === 'function') predicates.push([origin as OriginPredicate, client, `${where}.origin`]);
      else if (typeof origin === 'string') addExact(origin, client, `${where}.origin`);
      else throw invalidConfig(`${where}.origin`, "an origin string ('http://orders') or a function (origin) => boolean", origin);
    });
  } else if (isOptionsObject(routes)) {
    for (const [origin, client] of Object.entries(routes)) {
      addExact(origin, routeClient(client, `${option}.${origin}`), `${option}.${origin}`);
    }
  } else {
    throw invalidConfig(option, "{ 'http://orders': client } or [{ origin, client }, ...]", routes);
  }
  if (exact.size === 0 && predicates.length === 0) throw invalidConfig(option, 'at least one route', routes);
  return new RouteTable(exact, predicates);
}
