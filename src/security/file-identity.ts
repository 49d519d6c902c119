import { readFile, stat } from 'node:fs/promises';
import { wallClockNow, type Clock, type TimerHandle } from '../core/clock.js';
import { parsePositiveDuration, type Duration } from '../core/duration.js';
import { invalidConfig, MeshkitError } from '../core/errors.js';
import { checkOptions, readString } from '../core/options.js';
import { readClock } from '../discovery/read-clock.js';
import { IdentitySource, type Identity, type IdentityMaterial } from './identity.js';
import { checkMaterial } from './material.js';

/** Options of {@link fileIdentity}. */
export interface FileIdentityOptions {
  /** Path of the leaf certificate (PEM; intermediates may follow it). Required. */
  readonly cert: string;
  /** Path of the leaf's private key (PEM). Required. */
  readonly key: string;
  /** Path of the trust bundle (PEM, one or more roots). Required. */
  readonly ca: string;
  /** How often the files are checked for changes (size, mtime, inode). Default `'1s'`. */
  readonly interval?: Duration;
  /**
   * How long `ready()` waits for a first usable set of files (an agent may
   * write them just after the process starts) before it rejects with
   * `ERR_PEER_IDENTITY` (`details.reason: 'not-loaded'`, the last load error
   * as `cause`). The files are still checked after that. Default `'30s'`.
   */
  readonly readyTimeout?: Duration;
  /** Time for the polling timer (tests pass a VirtualClock). Default the system clock. */
  readonly clock?: Clock;
}

const KNOWN = ['cert', 'key', 'ca', 'interval', 'readyTimeout', 'clock'];

/** What identifies one version of a file without reading it. */
async function fileStamp(path: string): Promise<string> {
  const info = await stat(path);
  return `${info.ino}:${info.size}:${info.mtimeMs}`;
}

class FileIdentity extends IdentitySource {
  readonly #paths: readonly [string, string, string];
  readonly #label: string;
  readonly #intervalMs: number;
  readonly #clock: Clock;
  #stamps = '';
  #timer: TimerHandle | undefined;
  #readyTimer: TimerHandle | undefined;
  #lastError: Error | undefined;
  #closed = false;
  #loading: Promise<void> | undefined;

  constructor(paths: readonly [string, string, string], intervalMs: number, readyTimeout: { ms: number; text: string }, clock: Clock) {
    super('file', clock);
    this.#paths = paths;
    this.#label = `fileIdentity(${paths[0]})`;
    this.#intervalMs = intervalMs;
    this.#clock = clock;
    // Kept alive: a process awaiting ready() must see it settle (polling timers are unref'd).
    this.#readyTimer = clock.setTimeout(() => this.#giveUpWaiting(readyTimeout.text), readyTimeout.ms, true);
    this.#check();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#stopWaiting();
    await this.#loading;
    // Settles only a ready() still pending (a loaded or timed-out one stays as it was).
    this.state.abandon(new MeshkitError('ERR_CLIENT_CLOSED', `${this.#label}: closed before the files could be loaded`,
      { reason: 'closed' }, this.#lastError === undefined ? {} : { cause: this.#lastError }));
  }

  #stopWaiting(): void {
    if (this.#readyTimer !== undefined) this.#clock.clearTimeout(this.#readyTimer);
    this.#readyTimer = undefined;
  }

  #giveUpWaiting(readyTimeout: string): void {
    this.#readyTimer = undefined;
    if (this.#closed || this.state.current() !== undefined) return;
    const why = this.#lastError?.message ?? 'the files were not read yet';
    this.state.abandon(new MeshkitError('ERR_PEER_IDENTITY', `${this.#label}: no usable identity within readyTimeout ${readyTimeout}: ${why}`,
      { reason: 'not-loaded', cert: this.#paths[0], key: this.#paths[1], ca: this.#paths[2] },
      { blame: 'local', ...(this.#lastError === undefined ? {} : { cause: this.#lastError }) }));
  }

  #check(): void {
    this.#loading = this.#load().finally(() => {
      this.#loading = undefined;
      if (!this.#closed) this.#timer = this.#clock.setTimeout(() => this.#check(), this.#intervalMs);
    });
  }

  /** Reads the files when any changed; a failure keeps the last good material (writers replace files one at a time). */
  async #load(): Promise<void> {
    const [certPath, keyPath, caPath] = this.#paths;
    try {
      const stamps = (await Promise.all(this.#paths.map(fileStamp))).join('|');
      if (stamps === this.#stamps) return;
      const [cert, key, ca] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8'), readFile(caPath, 'utf8')]);
      const material = checkMaterial(cert, key, [ca], this.#label, wallClockNow(this.#clock));
      if (this.#closed) return;
      this.#stamps = stamps;
      this.#lastError = undefined;
      this.#stopWaiting();
      const current = this.state.current();
      // Rewritten with the same content (a touch, or a refused rotation rolled back): nothing changed for peers.
      if (current !== undefined && current.cert === material.cert && current.key === material.key && current.ca.join('') === material.ca.join('')) {
        this.state.recover();
        return;
      }
      this.state.publish(material);
    } catch (error) {
      if (this.#closed) return;
      // Not remembering the stamps: the same files are checked again next time (a not-yet-valid leaf becomes valid).
      this.#lastError = error instanceof Error ? error : new Error(String(error));
      this.state.fail(this.#lastError);
    }
  }
}

/**
 * An {@link Identity} read from PEM files, as SPIRE, cert-manager or Vault
 * agent write them: the leaf certificate, its key and the trust bundle. The
 * files are checked every `interval` (default 1 s, on the injected clock)
 * and read again when one changed; new material is put in use only once the
 * leaf parses, carries a SPIFFE service ID, matches the key and is valid
 * now by the clock's wall time (not past its not-after, and its not-before
 * reached: no leaf peers would refuse is put in use), so a rotation caught
 * half-way, or a leaf issued ahead of time, keeps the last good identity
 * (marked stale) until a later check. `ready()` rejects when no usable set
 * was found within `readyTimeout` (default 30 s; `ERR_PEER_IDENTITY`,
 * reason `'not-loaded'`) or when the source is closed first
 * (`ERR_CLIENT_CLOSED`). Throws `ERR_INVALID_CONFIG` naming
 * `fileIdentity.<option>`.
 */
export function fileIdentity(options: FileIdentityOptions): Identity {
  const raw = checkOptions(options, 'fileIdentity', KNOWN);
  const paths = ['cert', 'key', 'ca'].map((name) => {
    const path = readString(raw[name], `fileIdentity.${name}`);
    if (path === undefined) throw invalidConfig(`fileIdentity.${name}`, 'the path of a PEM file', undefined);
    return path;
  }) as unknown as [string, string, string];
  const intervalMs = parsePositiveDuration(raw['interval'] ?? '1s', 'fileIdentity.interval');
  const readyTimeout = raw['readyTimeout'] ?? '30s';
  const readyTimeoutMs = parsePositiveDuration(readyTimeout, 'fileIdentity.readyTimeout');
  const clock = readClock(raw['clock'], 'fileIdentity.clock');
  return new FileIdentity(paths, intervalMs, { ms: readyTimeoutMs, text: typeof readyTimeout === 'string' ? readyTimeout : `${readyTimeoutMs}ms` }, clock);
}
