import { systemClock, type Clock } from '../core/clock.js';
import type { ServiceSpiffeId } from './spiffe.js';

/** One version of a service's identity: what it presents and what it trusts. */
export interface IdentityMaterial {
  /** The leaf certificate (PEM, intermediates after it when there are any). */
  readonly cert: string;
  /** The leaf's private key (PEM). */
  readonly key: string;
  /** The trust roots (PEM): only peers chaining to one of these are accepted. */
  readonly ca: readonly string[];
  /** The service's own SPIFFE ID, read from the leaf's URI SAN. */
  readonly spiffeId: ServiceSpiffeId;
  /** The leaf's serial number (hex). */
  readonly serialNumber: string;
  /**
   * When the leaf starts being valid (wall-clock time). meshkit's sources
   * always set it (they publish no leaf before it); a source of your own may
   * leave it out, and then it is read from `cert` where it matters.
   */
  readonly notBefore?: Date;
  /** When the leaf stops being valid (wall-clock time: certificates are). */
  readonly notAfter: Date;
  /** Increases by one for every change (rotation, renewal, new roots); 1 for the first. */
  readonly version: number;
}

/** What an {@link Identity} announces to its subscribers. */
export type IdentityEvent =
  | { readonly type: 'updated'; readonly material: IdentityMaterial }
  /** A refresh failed: the last good material stays in use (`stale` is true until the next success). */
  | { readonly type: 'stale'; readonly error: Error };

/** A snapshot of an identity for status pages and metrics. */
export interface IdentityStatus {
  readonly kind: string;
  /** The SPIFFE ID, once loaded. */
  readonly spiffeId: string | undefined;
  /** The leaf's expiry, once loaded. */
  readonly notAfter: Date | undefined;
  /** The last refresh failed; what is in use is the last good material. */
  readonly stale: boolean;
  /** The last refresh error, while stale. */
  readonly lastError: string | undefined;
  readonly version: number;
}

/**
 * A service's identity for mutual TLS: a leaf certificate and key, the trust
 * roots, and the SPIFFE ID the leaf carries, kept current by its source
 * (`connectIdentity` from Consul, `fileIdentity` from PEM files) and
 * announcing each change. Clients use it for new connections (those open
 * keep theirs); servers swap their TLS context.
 */
export interface Identity {
  /** `consul-connect`, `file`, or your own source's name. */
  readonly kind: string;
  /**
   * The clock the source runs on: whether the leaf has expired is decided
   * by its wall time (`wallNow`, see `wallClockNow`). Default the system clock.
   */
  readonly clock?: Clock;
  /** The material in use; undefined until the first load (see {@link Identity.ready}). */
  current(): IdentityMaterial | undefined;
  /**
   * Resolves with the first material, or rejects when the source gives up:
   * closed first (`fileIdentity`: `ERR_CLIENT_CLOSED`), or no usable material
   * within the source's bound (`fileIdentity`'s `readyTimeout`:
   * `ERR_PEER_IDENTITY`, reason `'not-loaded'`).
   */
  ready(): Promise<IdentityMaterial>;
  /** Calls `listener` on every change and every failed refresh; returns the unsubscribe function. */
  subscribe(listener: (event: IdentityEvent) => void): () => void;
  /** A snapshot for status and metrics. */
  status(): IdentityStatus;
  /** Stops refreshing and releases timers and connections. */
  close(): Promise<void>;
}

/**
 * The bookkeeping every identity source shares: the current material, the
 * listeners, the first-load promise and the staleness flag. Sources call
 * {@link IdentityState.publish} and {@link IdentityState.fail}.
 * @internal
 */
export class IdentityState {
  readonly kind: string;
  #material: IdentityMaterial | undefined = undefined;
  #error: Error | undefined = undefined;
  readonly #listeners = new Set<(event: IdentityEvent) => void>();
  readonly #ready: Promise<IdentityMaterial>;
  #resolveReady!: (material: IdentityMaterial) => void;
  #rejectReady!: (error: Error) => void;

  constructor(kind: string) {
    this.kind = kind;
    this.#ready = new Promise((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    // A source closed before anyone waited must not leave an unhandled rejection.
    this.#ready.catch(() => undefined);
  }

  current(): IdentityMaterial | undefined {
    return this.#material;
  }

  ready(): Promise<IdentityMaterial> {
    return this.#ready;
  }

  /** Puts new material in use (its version is assigned here) and tells the listeners. */
  publish(material: Omit<IdentityMaterial, 'version'>): IdentityMaterial {
    const published = Object.freeze({ ...material, ca: Object.freeze([...material.ca]), version: (this.#material?.version ?? 0) + 1 });
    this.#material = published;
    this.#error = undefined;
    this.#resolveReady(published);
    this.#emit({ type: 'updated', material: published });
    return published;
  }

  /** A refresh failed: keep the last good material, mark it stale, tell the listeners. */
  fail(error: Error): void {
    this.#error = error;
    this.#emit({ type: 'stale', error });
  }

  /** A refresh succeeded without changing anything (the files rewritten as they were): no longer stale. */
  recover(): void {
    this.#error = undefined;
  }

  /** The source gave up before a first load. */
  abandon(error: Error): void {
    this.#rejectReady(error);
  }

  subscribe(listener: (event: IdentityEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  status(): IdentityStatus {
    const material = this.#material;
    return Object.freeze({
      kind: this.kind,
      spiffeId: material?.spiffeId.uri,
      notAfter: material?.notAfter,
      stale: this.#error !== undefined,
      lastError: this.#error?.message,
      version: material?.version ?? 0,
    });
  }

  #emit(event: IdentityEvent): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch {
        // A listener's bug must not stop the others or the source.
      }
    }
  }
}

/**
 * An identity source on an {@link IdentityState}: the reads and subscription
 * every source answers the same way. Sources extend it and publish to
 * `state`.
 * @internal
 */
export abstract class IdentitySource implements Identity {
  readonly kind: string;
  readonly clock: Clock;
  protected readonly state: IdentityState;

  protected constructor(kind: string, clock: Clock = systemClock) {
    this.kind = kind;
    this.clock = clock;
    this.state = new IdentityState(kind);
  }

  current(): IdentityMaterial | undefined {
    return this.state.current();
  }

  ready(): Promise<IdentityMaterial> {
    return this.state.ready();
  }

  subscribe(listener: (event: IdentityEvent) => void): () => void {
    return this.state.subscribe(listener);
  }

  status(): IdentityStatus {
    return this.state.status();
  }

  abstract close(): Promise<void>;
}
