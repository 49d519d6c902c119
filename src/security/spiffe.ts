import { X509Certificate } from 'node:crypto';

/**
 * SPIFFE IDs in the form Consul Connect gives services:
 * `spiffe://<trust-domain>/ns/<namespace>/dc/<datacenter>/svc/<service>`.
 */
export interface ServiceSpiffeId {
  readonly trustDomain: string;
  readonly namespace: string;
  readonly datacenter: string;
  readonly service: string;
  /** The ID as a URI. */
  readonly uri: string;
}

const SERVICE_ID = /^spiffe:\/\/([a-z0-9._-]+)\/ns\/([^/\s]+)\/dc\/([^/\s]+)\/svc\/([^/\s]+)$/i;

/** Parses a Consul service SPIFFE ID; undefined for anything else (an agent ID, a SPIRE workload path). */
export function parseServiceSpiffeId(uri: string): ServiceSpiffeId | undefined {
  const match = SERVICE_ID.exec(uri);
  if (match === null) return undefined;
  const [, trustDomain, namespace, datacenter, service] = match as unknown as [string, string, string, string, string];
  return Object.freeze({ trustDomain: trustDomain.toLowerCase(), namespace, datacenter, service, uri });
}

/** The SPIFFE ID of `service` in the same trust domain, namespace and datacenter as `own`. */
export function serviceSpiffeId(own: ServiceSpiffeId, service: string): string {
  return `spiffe://${own.trustDomain}/ns/${own.namespace}/dc/${own.datacenter}/svc/${service}`;
}

/**
 * The URI SANs of a certificate, from Node's `subjectaltname` text
 * (`DNS:a, URI:spiffe://...`). Node quotes a value that contains a comma or
 * a quote, so such a value never comes out as a plain `URI:` entry here: a
 * crafted SAN cannot pass for two.
 */
export function uriSans(subjectAltName: string | undefined): string[] {
  if (subjectAltName === undefined || subjectAltName === '') return [];
  return subjectAltName.split(', ').filter((entry) => entry.startsWith('URI:') && !entry.startsWith('URI:"')).map((entry) => entry.slice(4));
}

/** The one SPIFFE URI SAN of a certificate, or undefined when it has none (or several, which SPIFFE forbids). */
export function spiffeUriOf(subjectAltName: string | undefined): string | undefined {
  const ids = uriSans(subjectAltName).filter((uri) => uri.startsWith('spiffe://'));
  return ids.length === 1 ? ids[0] : undefined;
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
