import { readFile, stat } from 'node:fs/promises';
import { wallClockNow, type Clock, type TimerHandle } from '../core/clock.js';
import { parsePositiveDuration, type Duration } from '../core/duration.js';
import { invalidConfig } from '../core/errors.js';
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
  /** Time for the polling timer (tests pass a VirtualClock). Default the system clock. */
  readonly clock?: Clock;
}

const KNOWN = ['cert', 'key', 'ca', 'interval', 'clock'];

/** What identifies one version of a file without reading it. */
async function fileStamp(path: string): Promise<string> {
  const info = await stat(path);
  return `${info.ino}:${info.size}:${info.mtimeMs}`;
}

class FileIdentity extends IdentitySource {
  readonly #paths: readonly [string, string, string];
  readonly #intervalMs: number;
  readonly #clock: Clock;
  #stamps = '';
  #timer: TimerHandle | undefined;
  #closed = false;
  #loading: Promise<void> | undefined;

  constructor(paths: readonly [string, string, string], intervalMs: number, clock: Clock) {
    super('file', clock);
    this.#paths = paths;
    this.#intervalMs = intervalMs;
    this.#clock = clock;
    this.#check();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#loading;
    this.state.abandon(new Error('fileIdentity: closed before the files could be loaded'));
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
      const material = checkMaterial(cert, key, [ca], `fileIdentity(${certPath})`, wallClockNow(this.#clock));
      if (this.#closed) return;
      this.#stamps = stamps;
      const current = this.state.current();
      // Rewritten with the same content (a touch): nothing changed for peers.
      if (current !== undefined && current.cert === material.cert && current.key === material.key && current.ca.join('') === material.ca.join('')) return;
      this.state.publish(material);
    } catch (error) {
      if (!this.#closed) this.state.fail(error instanceof Error ? error : new Error(String(error)));
    }
  }
}

/**
 * An {@link Identity} read from PEM files, as SPIRE, cert-manager or Vault
 * agent write them: the leaf certificate, its key and the trust bundle. The
 * files are checked every `interval` (default 1 s, on the injected clock)
 * and read again when one changed; new material is put in use only once the
 * leaf parses, carries a SPIFFE service ID, matches the key and is not
 * past its not-after (an expired leaf is never put in use), so a
 * rotation caught half-way keeps the last good identity (marked stale) until
 * the next check. Throws `ERR_INVALID_CONFIG` naming `fileIdentity.<option>`.
 */
export function fileIdentity(options: FileIdentityOptions): Identity {
  const raw = checkOptions(options, 'fileIdentity', KNOWN);
  const paths = ['cert', 'key', 'ca'].map((name) => {
    const path = readString(raw[name], `fileIdentity.${name}`);
    if (path === undefined) throw invalidConfig(`fileIdentity.${name}`, 'the path of a PEM file', undefined);
    return path;
  }) as unknown as [string, string, string];
  const intervalMs = parsePositiveDuration(raw['interval'] ?? '1s', 'fileIdentity.interval');
  const clock = readClock(raw['clock'], 'fileIdentity.clock');
  return new FileIdentity(paths, intervalMs, clock);
}
