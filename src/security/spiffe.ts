import { X509Certificate } from 'node:crypto';

/**
 * SPIFFE IDs in the form Consul Connect gives services:
 * `spiffe://<trust-domain>/ns/<namespace>/dc/<datacenter>/svc/<service>`.
 */
export interface ServiceSpiffeId {
  /** Lower-cased (trust domains are host names). */
  readonly trustDomain: string;
  readonly namespace: string;
  readonly datacenter: string;
  readonly service: string;
  /** The ID as a URI, as given. */
  readonly uri: string;
}

// Per SPIFFE, the scheme and the trust domain compare without case, the path exactly:
// `spiffe://TD/ns/...` is the same ID as `spiffe://td/ns/...`, `/NS/.../SVC/x` is not.
const SCHEME = /^spiffe:\/\//i;
const TRUST_DOMAIN = /^spiffe:\/\/([a-z0-9._-]+)(?:\/|$)/i;
const SERVICE_PATH = /^\/ns\/([^/\s]+)\/dc\/([^/\s]+)\/svc\/([^/\s]+)$/;

/**
 * The trust domain of any SPIFFE ID (`spiffe://<trust-domain>[/<path>]`),
 * lower-cased; undefined when `uri` is not one (another scheme, an empty
 * trust domain, a port or user part).
 */
export function spiffeTrustDomain(uri: string): string | undefined {
  return TRUST_DOMAIN.exec(uri)?.[1]?.toLowerCase();
}

/** Parses a Consul service SPIFFE ID; undefined for anything else (an agent ID, a SPIRE workload path, `/NS/...` in another case). */
export function parseServiceSpiffeId(uri: string): ServiceSpiffeId | undefined {
  const trustDomain = spiffeTrustDomain(uri);
  if (trustDomain === undefined) return undefined;
  const match = SERVICE_PATH.exec(uri.slice('spiffe://'.length + trustDomain.length));
  if (match === null) return undefined;
  const [, namespace, datacenter, service] = match as unknown as [string, string, string, string];
  return Object.freeze({ trustDomain, namespace, datacenter, service, uri });
}

/** The SPIFFE ID of `service` in the same trust domain, namespace and datacenter as `own`. */
export function serviceSpiffeId(own: ServiceSpiffeId, service: string): string {
  return `spiffe://${own.trustDomain}/ns/${own.namespace}/dc/${own.datacenter}/svc/${service}`;
}

/**
 * The entries of Node's `subjectaltname` text (`DNS:a, URI:spiffe://...`).
 * Node quotes a value that contains a comma or a quote and escapes the comma
 * (`\u002c`), so `', '` only ever separates entries: a crafted SAN cannot
 * pass for two.
 */
function sanEntries(subjectAltName: string | undefined): string[] {
  return subjectAltName === undefined || subjectAltName === '' ? [] : subjectAltName.split(', ');
}

/** The URI SANs of a certificate that Node did not have to quote (the quoted ones are no usable URI). */
export function uriSans(subjectAltName: string | undefined): string[] {
  return sanEntries(subjectAltName).filter((entry) => entry.startsWith('URI:') && !entry.startsWith('URI:"')).map((entry) => entry.slice(4));
}

/**
 * The SPIFFE ID of a certificate: its one URI SAN, when that is a
 * `spiffe://` URI. Undefined when the certificate has no URI SAN or more
 * than one (SPIFFE allows exactly one, so a `spiffe://` URI beside an
 * `https://` one is refused too).
 */
export function spiffeUriOf(subjectAltName: string | undefined): string | undefined {
  const uris = sanEntries(subjectAltName).filter((entry) => entry.startsWith('URI:'));
  if (uris.length !== 1) return undefined;
  const uri = (uris[0] as string).slice(4);
  return SCHEME.test(uri) ? uri : undefined;
}

/** What a leaf certificate says about itself: its SPIFFE ID, serial and validity. */
export interface LeafFacts {
  readonly spiffeId: ServiceSpiffeId | undefined;
  readonly serialNumber: string;
  readonly validFrom: Date;
  readonly validTo: Date;
}

/** Reads the first certificate of a PEM chain (throws on malformed PEM). */
export function leafFacts(certPem: string): LeafFacts {
  const cert = new X509Certificate(certPem);
  const uri = spiffeUriOf(cert.subjectAltName);
  return {
    spiffeId: uri === undefined ? undefined : parseServiceSpiffeId(uri),
    serialNumber: cert.serialNumber,
    validFrom: new Date(cert.validFrom),
    validTo: new Date(cert.validTo),
  };
}
