import { BlockList, isIP } from 'node:net';
import type { Endpoint } from '../core/endpoint.js';
import { invalidConfig } from '../core/errors.js';
import { readString } from '../core/options.js';
import type { EndpointFilter } from './endpoint-filter.js';

const EXPECTED = "a CIDR block such as '127.0.0.0/8' or '::1/128' (or a single address)";

/** Adds one `address/prefix` (or a bare address) to `list`; returns it written out in full. */
function addBlock(list: BlockList, text: string, option: string): string {
  const slash = text.lastIndexOf('/');
  const address = slash === -1 ? text : text.slice(0, slash);
  // A zone (fe80::1%eth0) names an interface, not part of a block.
  const family = address.includes('%') ? 0 : isIP(address);
  if (family === 0) throw invalidConfig(option, EXPECTED, text);
  const bits = family === 4 ? 32 : 128;
  const prefixText = slash === -1 ? String(bits) : text.slice(slash + 1);
  const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : Number.NaN;
  if (!(prefix >= 0 && prefix <= bits)) throw invalidConfig(option, `${EXPECTED}, with a prefix length from 0 to ${bits}`, text);
  list.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
  return `${address}/${prefix}`;
}

/**
 * An {@link EndpointFilter} that allows only endpoints whose host is an IP
 * address inside one of `cidrs` (IPv4 and IPv6; an IPv4-mapped IPv6 address
 * such as `::ffff:10.0.0.1` counts as its IPv4 address; a bare address is a
 * block of one). Host names are refused: where they point is not known
 * without resolving them. Validated at once: `ERR_INVALID_CONFIG` naming
 * the bad block (`allowCidrs[1]`).
 *
 * @example
 * consul({ service: 'orders', endpointFilter: allowCidrs(['10.20.0.0/16', 'fd00::/8']) })
 */
export function allowCidrs(cidrs: readonly string[]): EndpointFilter {
  if (!Array.isArray(cidrs) || cidrs.length === 0) throw invalidConfig('allowCidrs', `a non-empty array of ${EXPECTED}s`, cidrs);
  const list = new BlockList();
  const blocks = cidrs.map((cidr: unknown, index) => {
    const option = `allowCidrs[${index}]`;
    const text = readString(cidr, option);
    if (text === undefined) throw invalidConfig(option, EXPECTED, cidr);
    return addBlock(list, text.trim(), option);
  });
  const allow = (endpoint: Endpoint): boolean => {
    const host = endpoint.host.split('%', 1)[0] as string; // a zone (fe80::1%eth0) is not part of the address
    const family = isIP(host);
    return family !== 0 && list.check(host, family === 4 ? 'ipv4' : 'ipv6');
  };
  // The name shows in the error of each refused endpoint.
  Object.defineProperty(allow, 'name', { value: `allowCidrs(${blocks.join(', ')})` });
  return allow;
}
