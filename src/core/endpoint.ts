import { isIPv4, isIPv6 } from 'node:net';
import { invalidConfig } from './errors.js';

/** One instance of a service. Endpoints are frozen: discovery replaces them, never mutates them. */
export interface Endpoint {
  /** Stable identity within a service: `host:port` (IPv6 hosts in brackets), from the canonical host. */
  readonly id: string;
  /**
   * IP address or host name, in canonical form: IPv4 in dotted decimal, IPv6
   * compressed and lower case without brackets (an IPv4-mapped address as
   * its IPv4 form), a host name in lower case without a final dot.
   */
  readonly host: string;
  /** TCP port, 1-65535. */
  readonly port: number;
  /** Relative capacity for weighted balancers, from {@link MIN_ENDPOINT_WEIGHT} to {@link MAX_ENDPOINT_WEIGHT}. Default 1. */
  readonly weight: number;
  /** Locality (zone or rack) for zone-aware routing; undefined when unknown. */
  readonly zone: string | undefined;
  /** Free-form labels from discovery (for subsets such as `v2`). Default none. */
  readonly tags: readonly string[];
  /** Key/value metadata from discovery. Default empty. */
  readonly metadata: Readonly<Record<string, string>>;
}

/** An endpoint described as an object (the form registries store). */
export interface EndpointObject {
  readonly host: string;
  readonly port: number;
  readonly weight?: number;
  readonly zone?: string;
  readonly tags?: readonly string[];
  readonly metadata?: Readonly<Record<string, string>>;
}

/** What a resolver or user may give for an endpoint: `'host:port'`, or an {@link EndpointObject}. */
export type EndpointInput = string | EndpointObject;

/**
 * The smallest endpoint weight, 1e-6. Far smaller weights (denormals) make
 * `1 / weight` infinite in weighted balancers, so such an entry is refused.
 */
export const MIN_ENDPOINT_WEIGHT = 1e-6;
/** The largest endpoint weight, 1e6: sums of weights stay exact enough for weighted picks. */
export const MAX_ENDPOINT_WEIGHT = 1e6;

const EMPTY_TAGS: readonly string[] = Object.freeze([]);
const EMPTY_METADATA: Readonly<Record<string, string>> = Object.freeze({});

/** `host:port`, with IPv6 literals bracketed so the id is also a valid URL authority. */
export function endpointId(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function parseHostPort(text: string, option: string): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(text);
  const plain = bracketed === null ? /^([^:\s]+):(\d+)$/.exec(text) : null;
  const match = bracketed ?? plain;
  if (match === null) throw invalidConfig(option, "'host:port' (IPv6 as '[::1]:port')", text);
  // Brackets kept: they say "an IPv6 address", which the host check holds the text to.
  return { host: bracketed === null ? match[1] as string : `[${match[1] as string}]`, port: Number(match[2]) };
}

/** Characters of an IPv4 address in any spelling a connect accepts (`0`, `0x0.0`, `000.0.0.0`, a final dot). */
const IPV4_LIKE = /^[0-9a-fx.]+$/i;

/** The host as the WHATWG URL parser (and so undici) reads it: IPv4 in dotted decimal, IPv6 compressed. */
function canonicalHost(host: string): string | undefined {
  try {
    return new URL(`http://${host}/`).hostname;
  } catch {
    return undefined;
  }
}

/**
 * True for an address that means "this host" rather than a remote instance:
 * `0.0.0.0` in any spelling a connect accepts (`0`, `0.0`, `0x0.0.0.0`,
 * `000.0.0.0`), `::` in any spelling (`::0`, `0:0:0:0:0:0:0:0`, with or
 * without brackets or a zone), and the IPv4-mapped `::ffff:0.0.0.0`. A
 * connection to one lands on the local host, so such an endpoint is refused.
 */
export function isUnspecifiedAddress(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (bare.includes(':')) {
    const address = bare.split('%', 1)[0] as string; // a zone (`::%eth0`) does not change the address
    if (!isIPv6(address)) return false;
    const canonical = canonicalHost(`[${address}]`);
    return canonical === '[::]' || canonical === '[::ffff:0:0]';
  }
  return IPV4_LIKE.test(bare) && canonicalHost(bare) === '0.0.0.0';
}

/** A host-name label: letters, digits, '-' and '_' (names such as Docker's `my_db` resolve), no '-' at either end, 1-63 characters. */
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;
/** A last label the URL parser reads as a number (`1`, `0x7f`): the whole host is then an IPv4 address, or invalid. */
const NUMERIC_LABEL = /^(?:\d+|0x[0-9a-f]*)$/;
const NAME_EXPECTED = 'an IP address or a host name (letters, digits, "-", "_" and "." in labels of 1-63 characters, 253 in all)';

/** A valid IPv6 address, compressed as the URL parser writes it; an IPv4-mapped one (`::ffff:a.b.c.d`) as its IPv4 form. */
function canonicalIPv6(address: string): string {
  const hostname = (canonicalHost(`[${address}]`) ?? `[${address}]`).slice(1, -1);
  // The mapped form reaches the same IPv4 instance: one spelling, one id, one share of the traffic.
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(hostname);
  if (mapped === null) return hostname;
  const high = parseInt(mapped[1] as string, 16);
  const low = parseInt(mapped[2] as string, 16);
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}

/**
 * The canonical form of a host, or `ERR_INVALID_CONFIG` naming `option`: an
 * IPv4 address (any spelling the URL parser reads, such as `127.1`, becomes
 * dotted decimal), an IPv6 address (brackets optional, no zone), or a host
 * name (lower case, one final dot dropped). Anything else would fail every
 * call at the transport instead of being left out here.
 */
function checkHost(host: string, option: string): string {
  const bracketed = host.startsWith('[') && host.endsWith(']');
  const bare = bracketed ? host.slice(1, -1) : host;
  if (bare.includes(':')) {
    if (bare.includes('%')) {
      throw invalidConfig(option, 'an IPv6 address without a zone (a URL cannot carry "%eth0"; use a routable address or a name)', host);
    }
    if (isIPv6(bare)) return canonicalIPv6(bare);
    const onePort = !bracketed && /^[^:[\]]+:\d*$/.test(host);
    throw invalidConfig(option, onePort ? 'a host without ":port" (the port goes in port)' : 'a valid IPv6 address', host);
  }
  if (bracketed) throw invalidConfig(option, 'an IPv6 address inside brackets', host);
  const name = (host.endsWith('.') ? host.slice(0, -1) : host).toLowerCase();
  const labels = name.split('.');
  if (NUMERIC_LABEL.test(labels[labels.length - 1] as string)) {
    const address = canonicalHost(name);
    if (address === undefined || !isIPv4(address)) throw invalidConfig(option, 'a valid IPv4 address', host);
    return address;
  }
  if (name.length > 253 || !labels.every((label) => LABEL.test(label))) throw invalidConfig(option, NAME_EXPECTED, host);
  return name;
}

function checkPort(port: unknown, option: string): number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw invalidConfig(option, 'an integer port from 1 to 65535', port);
  }
  return port;
}

/**
 * Validates one endpoint description and returns a frozen {@link Endpoint}
 * with its host in canonical form, so that every spelling of one instance
 * (`::1` and `0:0:0:0:0:0:0:1`, `::ffff:127.0.0.1` and `127.0.0.1`,
 * `LOCALHOST` and `localhost`) has one id. Throws `ERR_INVALID_CONFIG` naming
 * `option` (for example `endpoints[2].port`): a host that is not an IPv4
 * address, an IPv6 address without a zone, or a host name (`10.0.0.1:9999`,
 * `fe80::1%eth0`, `a/b`); an unspecified address (`0.0.0.0`, `::`; see
 * {@link isUnspecifiedAddress}); a port outside 1-65535; a weight outside
 * {@link MIN_ENDPOINT_WEIGHT}-{@link MAX_ENDPOINT_WEIGHT} (default 1).
 */
export function toEndpoint(input: EndpointInput, option: string): Endpoint {
  const raw: Record<string, unknown> =
    typeof input === 'string' ? parseHostPort(input.trim(), option) : (input as unknown as Record<string, unknown>);
  if (raw === null || typeof raw !== 'object') throw invalidConfig(option, "'host:port' or { host, port }", input);
  const host = raw['host'];
  if (typeof host !== 'string' || host.trim() === '' || /[\s/?#@]/.test(host)) {
    throw invalidConfig(`${option}.host`, 'a non-empty host name or IP address', host);
  }
  if (isUnspecifiedAddress(host)) {
    throw invalidConfig(`${option}.host`, 'the address of an instance (0.0.0.0 and :: mean "this host": calls would land here)', host);
  }
  const canonical = checkHost(host, `${option}.host`);
  const port = checkPort(raw['port'], `${option}.port`);
  const weight = raw['weight'] ?? 1;
  if (typeof weight !== 'number' || !(weight >= MIN_ENDPOINT_WEIGHT && weight <= MAX_ENDPOINT_WEIGHT)) {
    throw invalidConfig(`${option}.weight`, `a number from ${MIN_ENDPOINT_WEIGHT} to ${MAX_ENDPOINT_WEIGHT}`, weight);
  }
  const zone = raw['zone'];
  if (zone !== undefined && (typeof zone !== 'string' || zone === '')) {
    throw invalidConfig(`${option}.zone`, 'a non-empty string', zone);
  }
  const tags = raw['tags'] ?? EMPTY_TAGS;
  if (!Array.isArray(tags) || !tags.every((tag) => typeof tag === 'string')) {
    throw invalidConfig(`${option}.tags`, 'an array of strings', tags);
  }
  const metadata = raw['metadata'] ?? EMPTY_METADATA;
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)
    || !Object.values(metadata).every((v) => typeof v === 'string')) {
    throw invalidConfig(`${option}.metadata`, 'an object of string values', metadata);
  }
  return Object.freeze({
    id: endpointId(canonical, port),
    host: canonical,
    port,
    weight,
    zone: zone as string | undefined,
    tags: tags.length === 0 ? EMPTY_TAGS : Object.freeze([...(tags as string[])]),
    metadata: metadata === EMPTY_METADATA ? EMPTY_METADATA : Object.freeze({ ...(metadata as Record<string, string>) }),
  });
}
