import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import https from 'node:https';
import { isIP, type AddressInfo } from 'node:net';
import type http from 'node:http';
import type { TLSSocket } from 'node:tls';

/**
 * Certificates made in the test with node:crypto alone (no openssl binary):
 * a small DER encoder for X.509 v3 with ECDSA P-256 keys, enough for a CA,
 * server certificates (SANs for loopback and host names) and client
 * certificates for mutual TLS.
 */

/** A certificate and its private key, both PEM. */
export interface TlsMaterial {
  readonly cert: string;
  readonly key: string;
}

/** What {@link CertificateAuthority.issue} puts in a certificate. */
export interface IssueOptions {
  readonly commonName: string;
  /** DNS names, IP addresses and URIs (`spiffe://...`) for the subjectAltName. Default none. */
  readonly altNames?: readonly string[];
  /** `server` (serverAuth), `client` (clientAuth) or `both` (a mesh leaf, as Consul issues). */
  readonly usage: 'server' | 'client' | 'both';
  /** Start of validity. Default an hour ago. */
  readonly notBefore?: Date;
  /** End of validity (a past date makes an already-expired certificate). Default a day from now. */
  readonly notAfter?: Date;
}

/** A CA that signs certificates for one test. */
export interface CertificateAuthority extends TlsMaterial {
  issue(options: IssueOptions): TlsMaterial;
}

// DER: tag, length, content.
function der(tag: number, content: Buffer): Buffer {
  const n = content.length;
  let length: Buffer;
  if (n < 0x80) length = Buffer.from([n]);
  else {
    const bytes: number[] = [];
    for (let rest = n; rest > 0; rest >>= 8) bytes.unshift(rest & 0xff);
    length = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), length, content]);
}

const sequence = (...parts: Buffer[]): Buffer => der(0x30, Buffer.concat(parts));
const set = (...parts: Buffer[]): Buffer => der(0x31, Buffer.concat(parts));
const octets = (content: Buffer): Buffer => der(0x04, content);
const bits = (content: Buffer, unused = 0): Buffer => der(0x03, Buffer.concat([Buffer.from([unused]), content]));
const utf8 = (text: string): Buffer => der(0x0c, Buffer.from(text, 'utf8'));
const explicit = (n: number, content: Buffer): Buffer => der(0xa0 | n, content);
const TRUE = der(0x01, Buffer.from([0xff]));

function integer(bytes: Buffer): Buffer {
  return der(0x02, (bytes[0] as number) & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
}

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number) as [number, number, ...number[]];
  const out = [40 * a + b];
  for (const arc of rest) {
    const chunk = [arc & 0x7f];
    for (let v = arc >>> 7; v > 0; v >>>= 7) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return der(0x06, Buffer.from(out));
}

function time(date: Date): Buffer {
  // UTCTime (YYMMDDHHMMSSZ) for the years certificates here use.
  const text = date.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
  return der(0x17, Buffer.from(text, 'ascii'));
}

const ECDSA_WITH_SHA256 = sequence(oid('1.2.840.10045.4.3.2'));
const name = (commonName: string): Buffer => sequence(set(sequence(oid('2.5.4.3'), utf8(commonName))));

function extension(id: string, value: Buffer, critical = false): Buffer {
  return sequence(oid(id), ...(critical ? [TRUE] : []), octets(value));
}

/** The subjectKeyIdentifier: SHA-1 of the public key's point (RFC 5280, method 1). */
function keyId(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: 'jwk' });
  const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x as string, 'base64url'), Buffer.from(jwk.y as string, 'base64url')]);
  return createHash('sha1').update(point).digest();
}

function altName(value: string): Buffer {
  // A URI SAN (SPIFFE IDs): uniformResourceIdentifier [6].
  if (/^[a-z][a-z0-9+.-]*:\/\//.test(value)) return der(0x86, Buffer.from(value, 'ascii'));
  if (isIP(value) === 4) return der(0x87, Buffer.from(value.split('.').map(Number)));
  if (isIP(value) !== 0) throw new Error(`test PKI: only IPv4 addresses are supported, got ${value}`);
  return der(0x82, Buffer.from(value, 'ascii'));
}

interface Subject {
  readonly commonName: string;
  readonly publicKey: KeyObject;
  readonly extensions: readonly Buffer[];
}

interface Validity {
  readonly notBefore?: Date | undefined;
  readonly notAfter?: Date | undefined;
}

function certificate(subject: Subject, issuer: { commonName: string; privateKey: KeyObject; keyId: Buffer }, validity: Validity = {}): string {
  const now = Date.now();
  const notBefore = validity.notBefore ?? new Date(now - 3_600_000);
  const notAfter = validity.notAfter ?? new Date(now + 86_400_000);
  const tbs = sequence(
    explicit(0, integer(Buffer.from([2]))),
    integer(Buffer.concat([Buffer.from([0x01]), randomBytes(15)])),
    ECDSA_WITH_SHA256,
    name(issuer.commonName),
    sequence(time(notBefore), time(notAfter)),
    name(subject.commonName),
    subject.publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, sequence(
      extension('2.5.29.14', octets(keyId(subject.publicKey))),
      extension('2.5.29.35', sequence(der(0x80, issuer.keyId))),
      ...subject.extensions,
    )),
  );
  const signature = sign('sha256', tbs, issuer.privateKey);
  const body = sequence(tbs, ECDSA_WITH_SHA256, bits(signature)).toString('base64');
  return `-----BEGIN CERTIFICATE-----\n${body.match(/.{1,64}/g)?.join('\n')}\n-----END CERTIFICATE-----\n`;
}

const keyPair = (): { publicKey: KeyObject; privateKey: KeyObject } => generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const pem = (privateKey: KeyObject): string => privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;

/** A self-signed CA (basicConstraints CA, keyCertSign), valid from an hour ago for a day. */
export function createCertificateAuthority(commonName = 'meshkit test CA'): CertificateAuthority {
  const { publicKey, privateKey } = keyPair();
  const issuer = { commonName, privateKey, keyId: keyId(publicKey) };
  const cert = certificate({
    commonName,
    publicKey,
    extensions: [
      extension('2.5.29.19', sequence(TRUE), true),
      // digitalSignature, keyCertSign, cRLSign
      extension('2.5.29.15', bits(Buffer.from([0x86]), 1), true),
    ],
  }, issuer);
  return {
    cert,
    key: pem(privateKey),
    issue(options: IssueOptions): TlsMaterial {
      const leaf = keyPair();
      const usages = options.usage === 'both' ? ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'] : [options.usage === 'server' ? '1.3.6.1.5.5.7.3.1' : '1.3.6.1.5.5.7.3.2'];
      const altNames = options.altNames ?? [];
      return {
        cert: certificate({
          commonName: options.commonName,
          publicKey: leaf.publicKey,
          extensions: [
            extension('2.5.29.19', sequence(), true),
            extension('2.5.29.15', bits(Buffer.from([0x80]), 7), true), // digitalSignature
            extension('2.5.29.37', sequence(...usages.map(oid))),
            ...(altNames.length === 0 ? [] : [extension('2.5.29.17', sequence(...altNames.map(altName)))]),
          ],
        }, issuer, { notBefore: options.notBefore, notAfter: options.notAfter }),
        key: pem(leaf.privateKey),
      };
    },
  };
}

/** A CA, a server certificate for 127.0.0.1 and `localhost` (and `extraNames`), and a client certificate. */
export interface TestPki {
  readonly ca: CertificateAuthority;
  readonly server: TlsMaterial;
  readonly client: TlsMaterial;
}

export function createTestPki(extraNames: readonly string[] = []): TestPki {
  const ca = createCertificateAuthority();
  return {
    ca,
    server: ca.issue({ commonName: 'meshkit test server', altNames: ['127.0.0.1', 'localhost', ...extraNames], usage: 'server' }),
    client: ca.issue({ commonName: 'meshkit test client', usage: 'client' }),
  };
}

/** One request an {@link HttpsUpstream} received. */
export interface HttpsRequestRecord {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  /** The client certificate's common name, when the client presented one the server verified. */
  readonly clientCommonName: string | undefined;
}

/** A real HTTPS server on 127.0.0.1 with a request log. */
export interface HttpsUpstream {
  readonly port: number;
  /** `127.0.0.1:<port>`. */
  readonly address: string;
  readonly server: https.Server;
  readonly requests: HttpsRequestRecord[];
  /** TLS handshakes the server refused (an unknown or missing client certificate), by error code. */
  readonly refusedHandshakes: string[];
  /** Answers requests; default: 200 `ok <port>` (and /health answers 200 `up`). */
  handler: ((req: http.IncomingMessage, res: http.ServerResponse) => void) | undefined;
  close(): Promise<void>;
}

/** Options of {@link startHttpsUpstream}. */
export interface HttpsUpstreamOptions {
  /** The server's certificate and key. */
  readonly server: TlsMaterial;
  /** Require a client certificate signed by this CA (mutual TLS). Default: no client certificate asked for. */
  readonly clientCa?: string;
}

/** Starts an HTTPS upstream on a free loopback port. */
export async function startHttpsUpstream(options: HttpsUpstreamOptions): Promise<HttpsUpstream> {
  const mutual = options.clientCa !== undefined;
  const server = https.createServer({
    cert: options.server.cert,
    key: options.server.key,
    ...(mutual ? { ca: options.clientCa, requestCert: true, rejectUnauthorized: true } : {}),
  });
  const upstream: HttpsUpstream = {
    port: 0,
    address: '',
    server,
    requests: [],
    refusedHandshakes: [],
    handler: undefined,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const socket = req.socket as TLSSocket;
    const peer = socket.authorized ? socket.getPeerCertificate() : undefined;
    const commonName = peer?.subject?.CN;
    upstream.requests.push({
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      clientCommonName: Array.isArray(commonName) ? commonName[0] : commonName,
    });
    if (upstream.handler !== undefined) {
      upstream.handler(req, res);
      return;
    }
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(req.url === '/health' ? 'up' : `ok ${upstream.port}`);
  });
  server.on('tlsClientError', (error: NodeJS.ErrnoException) => {
    upstream.refusedHandshakes.push(error.code ?? error.message);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  Object.assign(upstream, { port, address: `127.0.0.1:${port}` });
  return upstream;
}
