import { isIPv4, isIPv6 } from 'node:net';
import type { IncomingMessage } from 'node:http';

/**
 * A host name as the status handler compares it: lower-cased, without one
 * trailing dot (`Status.Internal.` and `status.internal` are the same name).
 */
export function normalHostName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/** The host part of a `Host` value (`name`, `name:port`, `[v6]`, `[v6]:port`), or undefined when it is malformed. */
function hostPart(value: string): string | undefined {
  if (value.startsWith('[')) {
    const close = value.indexOf(']');
    if (close === -1 || !isPort(value, close + 1)) return undefined;
    return value.slice(0, close + 1);
  }
  const colon = value.indexOf(':');
  if (colon === -1) return value;
  // One colon at most outside brackets: an unbracketed IPv6 address is not a valid Host.
  return isPort(value, colon) ? value.slice(0, colon) : undefined;
}

/** True when `value` from `at` is empty or `:` followed by digits only. */
function isPort(value: string, at: number): boolean {
  if (at === value.length) return true;
  if (value.charCodeAt(at) !== 0x3a) return false;
  for (let i = at + 1; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x30 || code > 0x39) return false;
  }
  return true;
}

/** True for an address of the loopback interface, as `socket.remoteAddress` gives it (IPv4-mapped IPv6 included). */
function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return address === '::1' || (v4.startsWith('127.') && isIPv4(v4));
}

/**
 * True when a request may see the status page by the name it used: `Host`
 * (or HTTP/2's `:authority`) is an IP literal (IPv4, or bracketed IPv6),
 * `localhost` or a name under `.localhost`, or one of `allowed` (normalised
 * with {@link normalHostName}); the port never counts. Such a check is what
 * stops DNS rebinding: a page on a host name its owner controls can point
 * that name at 127.0.0.1, but the browser still sends that name, and an IP
 * literal or `localhost` cannot be re-pointed. A request with no Host at all
 * (HTTP/1.0; browsers always send one) is allowed from a loopback socket only.
 */
export function hostAllowed(req: IncomingMessage, allowed: ReadonlySet<string>): boolean {
  const header = req.headers.host ?? req.headers[':authority'];
  const value = typeof header === 'string' ? header : undefined;
  if (value === undefined || value === '') return isLoopbackAddress(req.socket?.remoteAddress);
  const host = hostPart(value);
  if (host === undefined || host === '') return false;
  if (host.startsWith('[')) return isIPv6(host.slice(1, -1));
  const name = normalHostName(host);
  if (isIPv4(name) || name === 'localhost' || (name.length > 10 && name.endsWith('.localhost'))) return true;
  return allowed.has(name);
}
