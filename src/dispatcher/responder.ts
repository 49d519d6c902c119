import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';

/** What a governed exchange offers its handler: undici's request controls. */
export interface ExchangeControls extends Dispatcher.DispatchController {
  abort(reason?: Error): void;
}

/**
 * The handler of one dispatch, seen through one interface whichever of
 * undici's two handler APIs it speaks: the callbacks Node 20's and Node 24's
 * `fetch` and `undici.request` pass (`onConnect`, `onHeaders`, `onData`,
 * `onComplete`, `onError`) or undici 7's controller API (`onRequestStart`,
 * `onResponseStart`, `onResponseData`, `onResponseEnd`, `onResponseError`)
 * that interceptors composed with `compose()` receive. `headers` and `data`
 * return false when the handler wants the body paused.
 */
export interface Responder {
  start(controls: ExchangeControls): void;
  headers(statusCode: number, headers: IncomingHttpHeaders, statusText: string): boolean;
  data(chunk: Buffer): boolean;
  end(trailers: IncomingHttpHeaders): void;
  error(error: Error): void;
}

/** undici's raw header form, `[name, value, name, value, ...]` as Buffers, from parsed headers. */
function rawHeaders(headers: IncomingHttpHeaders): Buffer[] {
  const raw: Buffer[] = [];
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value === undefined) continue;
    // latin1 both ways: undici decodes header bytes as latin1, so the bytes go back unchanged.
    if (Array.isArray(value)) for (const item of value) raw.push(Buffer.from(name, 'latin1'), Buffer.from(item, 'latin1'));
    else raw.push(Buffer.from(name, 'latin1'), Buffer.from(value, 'latin1'));
  }
  return raw;
}

type LegacyHandler = Required<Pick<Dispatcher.DispatchHandler, 'onError'>> & Dispatcher.DispatchHandler;

/** The callback API: `abort` and `resume` are functions handed to the handler. */
class LegacyResponder implements Responder {
  readonly #handler: LegacyHandler;
  #controls: ExchangeControls | undefined;

  constructor(handler: LegacyHandler) {
    this.#handler = handler;
  }

  start(controls: ExchangeControls): void {
    this.#controls = controls;
    this.#handler.onConnect?.((reason?: Error) => controls.abort(reason));
  }

  headers(statusCode: number, headers: IncomingHttpHeaders, statusText: string): boolean {
    const controls = this.#controls as ExchangeControls;
    this.#handler.onResponseStarted?.();
    return this.#handler.onHeaders?.(statusCode, rawHeaders(headers), () => controls.resume(), statusText) !== false;
  }

  data(chunk: Buffer): boolean {
    return this.#handler.onData?.(chunk) !== false;
  }

  end(trailers: IncomingHttpHeaders): void {
    this.#handler.onComplete?.(rawHeaders(trailers) as unknown as string[]);
  }

  error(error: Error): void {
    this.#handler.onError(error);
  }
}

/** undici 7's controller API: the exchange is the controller; pausing is `controller.pause()`. */
class ControllerResponder implements Responder {
  readonly #handler: Dispatcher.DispatchHandler;
  #controls: ExchangeControls | undefined;

  constructor(handler: Dispatcher.DispatchHandler) {
    this.#handler = handler;
  }

  start(controls: ExchangeControls): void {
    this.#controls = controls;
    this.#handler.onRequestStart?.(controls, {});
  }

  headers(statusCode: number, headers: IncomingHttpHeaders, statusText: string): boolean {
    const controls = this.#controls as ExchangeControls;
    this.#handler.onResponseStart?.(controls, statusCode, headers, statusText);
    return !controls.paused;
  }

  data(chunk: Buffer): boolean {
    const controls = this.#controls as ExchangeControls;
    this.#handler.onResponseData?.(controls, chunk);
    return !controls.paused;
  }

  end(trailers: IncomingHttpHeaders): void {
    this.#handler.onResponseEnd?.(this.#controls as ExchangeControls, trailers);
  }

  error(error: Error): void {
    this.#handler.onResponseError?.(this.#controls as ExchangeControls, error);
  }
}

/**
 * The responder for `handler`: undici 7's controller API when the handler
 * has `onRequestStart` or `onResponseStart`, else the callback API. Returns
 * undefined for an object that speaks neither (a callback handler needs at
 * least `onError`).
 */
export function responderFor(handler: Dispatcher.DispatchHandler): Responder | undefined {
  if (handler === null || typeof handler !== 'object') return undefined;
  if (typeof handler.onRequestStart === 'function' || typeof handler.onResponseStart === 'function') return new ControllerResponder(handler);
  // undici's own upgrade and CONNECT handlers have only onConnect, onUpgrade and onError.
  if (typeof handler.onError === 'function') return new LegacyResponder(handler as LegacyHandler);
  return undefined;
}
