import { EventEmitter } from 'node:events';

const EMPTY = new Uint8Array(0);

/** Told when a {@link SimBody} is done (read to the end, dumped or destroyed). */
export interface SimBodyOwner {
  bodyDone(): void;
}

function unusable(): TypeError {
  return new TypeError('Body is unusable: the body has already been read');
}

function aborted(): Error {
  return Object.assign(new Error('Request aborted'), { name: 'AbortError', code: 'UND_ERR_ABORTED' });
}

/**
 * A simulated response body with the surface of undici's `BodyReadable` that
 * meshkit and its callers use: `text()`, `json()`, `bytes()`,
 * `arrayBuffer()`, `blob()`, `dump()`, `bodyUsed`, async iteration, and the
 * stream events (`data`, `end`, `error`, `close`) with `pause()`,
 * `resume()`, `pipe()` and `destroy()`. A complete body (the common case)
 * holds its bytes and costs one small object; a stalled one never produces
 * data and ends only when destroyed (the caller's abort, the body timeout, or
 * the backend going away). Single use, like a real body.
 */
export class SimBody extends EventEmitter {
  readonly #bytes: Uint8Array;
  readonly #stalled: boolean;
  #owner: SimBodyOwner | undefined;
  #used = false;
  #ended = false;
  #destroyed = false;
  #flowing = false;
  #error: Error | undefined = undefined;
  /** Reads waiting on a stalled body. */
  #waiting: ((error: Error) => void)[] | undefined = undefined;

  constructor(bytes: Uint8Array | undefined, stalled: boolean, owner?: SimBodyOwner) {
    super();
    this.#bytes = bytes ?? EMPTY;
    this.#stalled = stalled;
    this.#owner = owner;
  }

  /** True once a read started (or the body was destroyed). */
  get bodyUsed(): boolean {
    return this.#used || this.#destroyed;
  }

  get destroyed(): boolean {
    return this.#destroyed;
  }

  get readableEnded(): boolean {
    return this.#ended;
  }

  /** Never a web stream: as undici's body, read it with the methods here. */
  get body(): undefined {
    return undefined;
  }

  bytes(): Promise<Uint8Array> {
    if (this.bodyUsed) return Promise.reject(unusable());
    this.#used = true;
    if (this.#stalled) return this.#wait();
    this.#end(false);
    return Promise.resolve(this.#bytes);
  }

  async text(): Promise<string> {
    return Buffer.from(await this.bytes()).toString('utf8');
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text()) as unknown;
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = await this.bytes();
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }

  async blob(): Promise<Blob> {
    return new Blob([await this.bytes()]);
  }

  formData(): Promise<never> {
    return Promise.reject(new TypeError('formData() is not supported by undici bodies'));
  }

  /**
   * Discards the body; resolves once it is done. A stalled body is done only
   * when it is destroyed (as undici's waits for its body timeout).
   */
  dump(): Promise<void> {
    if (this.#ended || this.#destroyed) return Promise.resolve();
    this.#used = true;
    if (!this.#stalled) {
      this.#end(false);
      return Promise.resolve();
    }
    return this.#wait().then(undefined, () => undefined) as Promise<void>;
  }

  /** Ends the body with `error` (or as aborted): pending reads reject, `error` (if listened for) and `close` are emitted. */
  destroy(error?: Error): this {
    if (this.#destroyed || this.#ended) return this;
    this.#destroyed = true;
    this.#error = error;
    const waiting = this.#waiting;
    this.#waiting = undefined;
    if (waiting !== undefined) {
      const reason = error ?? aborted();
      for (const reject of waiting) reject(reason);
    }
    this.#release();
    queueMicrotask(() => {
      // As undici's body: an error nobody listens for is not thrown.
      if (error !== undefined && this.listenerCount('error') > 0) this.emit('error', error);
      this.emit('close');
    });
    return this;
  }

  /** Flowing mode: a complete body emits its bytes, then `end` and `close`. */
  resume(): this {
    if (this.#flowing || this.#ended || this.#destroyed) return this;
    this.#flowing = true;
    this.#used = true;
    if (!this.#stalled) queueMicrotask(() => this.#flow());
    return this;
  }

  pause(): this {
    this.#flowing = false;
    return this;
  }

  isPaused(): boolean {
    return !this.#flowing;
  }

  /** Minimal `pipe`: writes the bytes to `destination` and ends it. */
  pipe<T extends NodeJS.WritableStream>(destination: T): T {
    this.on('data', (chunk: Uint8Array) => destination.write(chunk));
    this.once('end', () => destination.end());
    this.resume();
    return destination;
  }

  override on(event: string | symbol, listener: (...args: any[]) => void): this {
    super.on(event, listener);
    // As a Readable: listening for data starts the flow.
    if (event === 'data') this.resume();
    return this;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    if (this.bodyUsed) throw this.#error ?? unusable();
    this.#used = true;
    if (this.#stalled) await this.#wait();
    this.#end(false);
    if (this.#bytes.byteLength > 0) yield this.#bytes;
  }

  #flow(): void {
    if (!this.#flowing || this.#ended || this.#destroyed) return;
    if (this.#bytes.byteLength > 0) this.emit('data', this.#bytes);
    this.#end(true);
  }

  #end(emit: boolean): void {
    if (this.#ended || this.#destroyed) return;
    this.#ended = true;
    this.#release();
    if (emit) {
      this.emit('end');
      this.emit('close');
    } else if (this.listenerCount('end') > 0 || this.listenerCount('close') > 0) {
      queueMicrotask(() => {
        this.emit('end');
        this.emit('close');
      });
    }
  }

  #wait(): Promise<never> {
    if (this.#destroyed) return Promise.reject(this.#error ?? aborted());
    return new Promise<never>((_resolve, reject) => (this.#waiting ??= []).push(reject));
  }

  #release(): void {
    const owner = this.#owner;
    this.#owner = undefined;
    owner?.bodyDone();
  }
}
