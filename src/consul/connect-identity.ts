import { fullJitterBackoff } from '../core/backoff.js';
import { wallClockNow, type TimerHandle } from '../core/clock.js';
import { MeshkitError } from '../core/errors.js';
import { checkOptions } from '../core/options.js';
import { IdentitySource, type Identity, type IdentityMaterial } from '../security/identity.js';
import { checkMaterial } from '../security/material.js';
import { ConnectHttp, type AgentAnswer } from './connect-http.js';
import { resolveConsulOptions, type ConsulOptions, type ResolvedConsulOptions } from './options.js';
import { nextIndex } from './parse.js';

/** Options of {@link connectIdentity}: the service whose leaf to fetch, and how to reach the agent. */
export type ConnectIdentityOptions = Pick<ConsulOptions, 'service' | 'address' | 'datacenter' | 'token' | 'tls' | 'wait' | 'minInterval' | 'backoff' | 'clock'>;

const KNOWN = ['service', 'address', 'datacenter', 'token', 'tls', 'wait', 'minInterval', 'backoff', 'clock'];

/** Past Consul's wait/16 jitter plus this, the agent is not answering. */
const ANSWER_MARGIN_MS = 5_000;

interface LeafAnswer {
  readonly cert: string;
  readonly key: string;
}

function record(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${what}: expected a JSON object, got ${typeof value}`);
  return value as Record<string, unknown>;
}

function parseLeaf(body: unknown, label: string): LeafAnswer {
  const leaf = record(body, `${label} leaf`);
  const cert = leaf['CertPEM'];
  const key = leaf['PrivateKeyPEM'];
  if (typeof cert !== 'string' || typeof key !== 'string') throw new Error(`${label} leaf: CertPEM and PrivateKeyPEM missing`);
  return { cert, key };
}

/** Every active and retiring root (with intermediates): during a CA rotation peers may still chain to the old one. */
function parseRoots(body: unknown, label: string): string[] {
  const roots = record(body, `${label} roots`)['Roots'];
  if (!Array.isArray(roots) || roots.length === 0) throw new Error(`${label} roots: no Roots in the answer`);
  const pems: string[] = [];
  for (const root of roots) {
    const entry = record(root, `${label} roots[]`);
    if (typeof entry['RootCert'] === 'string') pems.push(entry['RootCert']);
    if (Array.isArray(entry['IntermediateCerts'])) pems.push(...entry['IntermediateCerts'].filter((pem): pem is string => typeof pem === 'string'));
  }
  return pems;
}

/** One blocking-query loop over an agent endpoint: index/wait, a floor between polls, backoff after errors. */
class BlockingLoop {
  readonly #options: ResolvedConsulOptions;
  readonly #http: ConnectHttp;
  readonly #path: string;
  readonly #accept: (body: unknown) => void;
  readonly #reject: (error: Error) => void;
  #index: bigint | undefined = undefined;
  #failures = 0;
  #timer: TimerHandle | undefined = undefined;
  #stopped = false;
  #running: Promise<void> | undefined = undefined;

  constructor(options: ResolvedConsulOptions, http: ConnectHttp, path: string, accept: (body: unknown) => void, reject: (error: Error) => void) {
    this.#options = options;
    this.#http = http;
    this.#path = path;
    this.#accept = accept;
    this.#reject = reject;
  }

  start(): void {
    this.#running = this.#poll();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#options.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  async #poll(): Promise<void> {
    const { clock, waitMs, minIntervalMs, backoffBaseMs, backoffCapMs } = this.#options;
    const startedAt = clock.now();
    const blocking = this.#index !== undefined;
    const query: Record<string, string> = blocking ? { index: String(this.#index), wait: `${Math.ceil(waitMs)}ms` } : {};
    let delay: number;
    try {
      const answer: AgentAnswer = await this.#http.request('GET', this.#path, query, blocking ? waitMs + waitMs / 16 + ANSWER_MARGIN_MS : ANSWER_MARGIN_MS * 2);
      if (this.#stopped) return;
      if (answer.status !== 200) throw new Error(`GET ${this.#path} answered ${answer.status}: ${String(answer.body).slice(0, 200)}`);
      this.#accept(answer.body);
      this.#index = nextIndex(answer.index, this.#index);
      this.#failures = 0;
      delay = Math.max(0, startedAt + minIntervalMs - clock.now());
    } catch (error) {
      if (this.#stopped) return;
      this.#index = undefined;
      this.#failures += 1;
      this.#reject(error instanceof Error ? error : new Error(String(error)));
      delay = Math.max(fullJitterBackoff(this.#failures, backoffBaseMs, backoffCapMs, clock.random()), startedAt + minIntervalMs - clock.now());
    }
    if (this.#stopped) return;
    this.#timer = clock.setTimeout(() => {
      this.#timer = undefined;
      this.#running = this.#poll();
    }, delay);
  }
}

class ConnectIdentity extends IdentitySource {
  readonly #http: ConnectHttp;
  readonly #loops: BlockingLoop[];
  readonly #label: string;
  #leaf: LeafAnswer | undefined = undefined;
  #roots: string[] | undefined = undefined;

  constructor(options: ResolvedConsulOptions) {
    super('consul-connect', options.clock);
    this.#label = `connectIdentity(${options.service})`;
    this.#http = new ConnectHttp(options);
    const fail = (error: Error): void => this.state.fail(new Error(`${this.#label}: ${error.message}`, { cause: error }));
    this.#loops = [
      new BlockingLoop(options, this.#http, '/v1/agent/connect/ca/roots', (body) => {
        this.#roots = parseRoots(body, this.#label);
        this.#combine();
      }, fail),
      new BlockingLoop(options, this.#http, `/v1/agent/connect/ca/leaf/${encodeURIComponent(options.service)}`, (body) => {
        this.#leaf = parseLeaf(body, this.#label);
        this.#combine();
      }, fail),
    ];
    for (const loop of this.#loops) loop.start();
  }

  /** Publishes leaf + roots once both are known and either changed; bad material throws (the loop counts a failure). */
  #combine(): void {
    const leaf = this.#leaf;
    const roots = this.#roots;
    if (leaf === undefined || roots === undefined) return;
    const current = this.state.current();
    if (current !== undefined && current.cert === leaf.cert && current.ca.join('') === roots.join('')) return;
    // An agent serving an expired leaf (its CA unreachable) must not replace one still valid: checkMaterial refuses it.
    const material = checkMaterial(leaf.cert, leaf.key, roots, this.#label, wallClockNow(this.clock));
    this.state.publish(material);
  }

  async close(): Promise<void> {
    const stopping = this.#loops.map((loop) => loop.stop());
    this.#http.close();
    await Promise.all(stopping);
    // Settles only a ready() still pending, with the same typed error as a file identity closed early.
    this.state.abandon(new MeshkitError('ERR_CLIENT_CLOSED', `${this.#label}: closed before the first leaf arrived`, { reason: 'closed' }));
  }
}

/**
 * The service's {@link Identity} from Consul Connect: the leaf certificate
 * from the local agent's `/v1/agent/connect/ca/leaf/<service>` and the trust
 * roots from `/v1/agent/connect/ca/roots`, each kept current with blocking
 * queries. The agent renews the leaf before it expires and re-signs it when
 * the CA rotates; each new leaf or root set is announced. While the agent is
 * unreachable the last good identity stays in use and `status().stale` is
 * true (listeners get a `stale` event per failed poll, retried with
 * full-jitter backoff); an expired leaf is never put in use. All roots the
 * agent lists are trusted, so peers still on the old CA keep working
 * through a rotation.
 *
 * Options are those of `consul()` that reach the agent (`address` default
 * `http://127.0.0.1:8500`, `token`, `tls`, `datacenter`, `wait` default
 * `'30s'`, `minInterval` default `'250ms'`, `backoff` default
 * `{ base: '500ms', cap: '15s' }`, `clock`); `service` is required. Throws
 * `ERR_INVALID_CONFIG` naming `connectIdentity.<option>`.
 */
export function connectIdentity(options: ConnectIdentityOptions): Identity {
  checkOptions(options, 'connectIdentity', KNOWN);
  return new ConnectIdentity(resolveConsulOptions(options as ConsulOptions));
}
