import { EtcdLeaseInvalidError, type Etcd3 } from 'etcd3';
import type { Clock, TimerHandle } from '../core/clock.js';
import { parseDuration } from '../core/duration.js';
import { invalidConfig } from '../core/errors.js';
import { checkOptions, isOptionsObject } from '../core/options.js';
import type { HealthCheck, Registrar, Registration, ServiceInstance } from '../registration/registrar.js';
import { connectEtcd } from './connect.js';
import { encodeInstance, instanceId } from './entry.js';
import { defaultPrefix, type EtcdSettings } from './options.js';

/** Sends one keep-alive for `lease` and resolves with the TTL etcd grants (0: the lease is gone). */
async function keepAliveOnce(client: Etcd3, lease: string, timeoutMs: number, clock: Clock): Promise<number> {
  const stream = await client.leaseClient.leaseKeepAlive();
  return new Promise<number>((resolve, reject) => {
    const timer = clock.setTimeout(() => finish(new Error(`etcd did not answer a lease keep-alive within ${timeoutMs} ms`)), timeoutMs);
    let done = false;
    const finish = (error: Error | undefined, ttl = 0): void => {
      if (done) return;
      done = true;
      clock.clearTimeout(timer);
      stream.on('error', () => {}); // cancelling surfaces as a CANCELLED error
      stream.cancel();
      if (error === undefined) resolve(ttl);
      else reject(error);
    };
    stream.on('data', (response) => finish(undefined, Number(response.TTL)));
    stream.on('error', (error) => finish(error));
    stream.on('end', () => finish(new Error('etcd ended the keep-alive stream without an answer')));
    stream.write({ ID: lease });
  });
}

/**
 * One instance written under a lease. meshkit renews the lease every ttl/3
 * on an unref'd timer; if the lease is lost (etcd was down longer than the
 * TTL), the next renewal grants a new one and writes the key again, and
 * goes on writing it at each renewal until a write succeeds.
 */
class LeasedRegistration implements Registration {
  readonly id: string;
  readonly instance: ServiceInstance;
  readonly #settings: EtcdSettings;
  readonly #key: Buffer;
  readonly #value: Buffer;
  readonly #ttlSeconds: number;
  readonly #client: Etcd3;
  #lease = '0';
  /** Whether the key is written under `#lease`: a new lease carries nothing until its put succeeds. */
  #written = false;
  #timer: TimerHandle | undefined = undefined;
  #renewing: Promise<void> | undefined = undefined;
  /** Set by the first deregister(): no renewal starts after it, even if that deregister() fails. */
  #stopped = false;
  #closed: Promise<void> | undefined = undefined;

  constructor(settings: EtcdSettings, instance: ServiceInstance, key: string, value: string, ttlSeconds: number) {
    this.id = instanceId(instance);
    this.instance = instance;
    this.#settings = settings;
    this.#key = Buffer.from(key);
    this.#value = Buffer.from(value);
    this.#ttlSeconds = ttlSeconds;
    this.#client = connectEtcd(settings);
  }

  async write(): Promise<void> {
    const grant = await this.#client.leaseClient.leaseGrant({ TTL: this.#ttlSeconds });
    this.#lease = grant.ID; // before the put: a deregister() racing it must revoke this lease
    this.#written = false;
    await this.#put();
  }

  async #put(): Promise<void> {
    await this.#client.kv.put({ key: this.#key, value: this.#value, lease: this.#lease });
    this.#written = true;
  }

  async open(): Promise<void> {
    try {
      await this.write();
    } catch (error) {
      this.#client.close();
      throw error;
    }
    this.#schedule();
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = this.#settings.clock.setTimeout(() => {
      this.#renewing = this.#renew();
    }, (this.#ttlSeconds * 1000) / 3);
  }

  async #renew(): Promise<void> {
    this.#timer = undefined;
    try {
      const ttl = await keepAliveOnce(this.#client, this.#lease, this.#settings.requestTimeoutMs, this.#settings.clock);
      if (!this.#stopped) {
        if (ttl <= 0) await this.write();
        // The lease lives but a put under it failed (a deadline during an election): the key is still missing.
        else if (!this.#written) await this.#put();
      }
    } catch {
      // etcd unreachable: try again next round; if the lease expired meanwhile, the next round writes the key again.
    }
    this.#renewing = undefined;
    this.#schedule();
  }

  deregister(): Promise<void> {
    this.#closed ??= (async () => {
      this.#stopped = true;
      if (this.#timer !== undefined) this.#settings.clock.clearTimeout(this.#timer);
      this.#timer = undefined;
      try {
        await this.#renewing; // a renewal may be writing the key under a new lease
        // Revoking deletes the key with the lease, in one step.
        await this.#client.leaseClient.leaseRevoke({ ID: this.#lease });
      } catch (error) {
        // A lease that is already gone took the key with it: deregistered all the same.
        if (!(error instanceof EtcdLeaseInvalidError)) {
          // Not cached, and the client stays open: a later deregister() tries again. Renewals stay
          // stopped, so if nobody does, the lease runs out and takes the key with it.
          this.#closed = undefined;
          throw error;
        }
      }
      this.#client.close();
    })();
    return this.#closed;
  }
}

function leaseSeconds(settings: EtcdSettings, check: HealthCheck | undefined): number {
  if (check === undefined) return settings.leaseTtlSeconds;
  if (!isOptionsObject(check) || !('ttl' in check)) {
    throw invalidConfig('check', 'a { ttl } check (etcd keeps registrations under a lease; it does not probe HTTP)', check);
  }
  // deregisterAfter is part of the shared check shape; a lease needs nothing past its TTL.
  checkOptions(check, 'check', ['ttl', 'deregisterAfter']);
  const ms = parseDuration(check.ttl, 'check.ttl');
  if (ms < 1000) throw invalidConfig('check.ttl', 'a duration of at least 1s', check.ttl);
  return Math.ceil(ms / 1000);
}

/** The etcd {@link Registrar}: `register(instance)` writes `<prefix><id>` under a lease meshkit keeps alive. */
export function etcdRegistrar(settings: EtcdSettings): Registrar {
  return Object.freeze({
    kind: 'etcd',
    async register(instance: ServiceInstance, check?: HealthCheck): Promise<Registration> {
      const value = encodeInstance(instance);
      if (typeof instance.service !== 'string' || instance.service === '') {
        throw invalidConfig('instance.service', 'a service name', instance.service);
      }
      if (!settings.defaultPrefix && instance.service !== settings.service) {
        throw invalidConfig('instance.service', `the service this etcd provider watches (${settings.service}) when a prefix is given`, instance.service);
      }
      const prefix = settings.defaultPrefix ? defaultPrefix(instance.service) : settings.prefix;
      const registration = new LeasedRegistration(settings, instance, prefix + instanceId(instance), value, leaseSeconds(settings, check));
      await registration.open();
      return registration;
    },
  });
}
