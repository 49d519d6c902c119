import { isIPv6 } from 'node:net';
import { invalidConfig } from './errors.js';

/** One instance of a service. Endpoints are frozen: discovery replaces them, never mutates them. */
export interface Endpoint {
  /** Stable identity within a service: `host:port` (IPv6 hosts in brackets). */
  readonly id: string;
  /** IP address or host name. */
  readonly host: string;
  /** TCP port, 1-65535. */
  readonly port: number;
  /** Relative capacity for weighted balancers. Default 1. */
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
  return { host: match[1] as string, port: Number(match[2]) };
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

function checkPort(port: unknown, option: string): number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw invalidConfig(option, 'an integer port from 1 to 65535', port);
  }
  return port;
}

/**
 * Validates one endpoint description and returns a frozen {@link Endpoint}.
 * Throws `ERR_INVALID_CONFIG` naming `option` (for example `endpoints[2].port`),
 * unspecified addresses (`0.0.0.0`, `::`; see {@link isUnspecifiedAddress}) included.
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
  const port = checkPort(raw['port'], `${option}.port`);
  const weight = raw['weight'] ?? 1;
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight <= 0) {
    throw invalidConfig(`${option}.weight`, 'a finite number > 0', weight);
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
  const bareHost = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return Object.freeze({
    id: endpointId(bareHost, port),
    host: bareHost,
    port,
    weight,
    zone: zone as string | undefined,
    tags: tags.length === 0 ? EMPTY_TAGS : Object.freeze([...(tags as string[])]),
    metadata: metadata === EMPTY_METADATA ? EMPTY_METADATA : Object.freeze({ ...(metadata as Record<string, string>) }),
  });
}
