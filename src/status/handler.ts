import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { snapshotAll } from '../client/registry.js';
import type { ClientSnapshot } from '../client/snapshot.js';
import { wallClockNow, type TimerHandle } from '../core/clock.js';
import { boundedSnapshots, clientKeys, statusDocument, type StatusDocument } from './document.js';
import { hostAllowed } from './allowed-host.js';
import { safeJson } from './escape.js';
import { statusErrorReporter } from './errors.js';
import { LatencyHistory } from './history.js';
import { resolveStatusHandler, type StatusHandlerOptions, type StatusHandlerSettings } from './options.js';
import { renderPage } from './page.js';

/** A Node request handler serving the status page; also an Express middleware (it calls `next` for other paths). */
export interface StatusHandler {
  (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): void;
  /** The resolved settings. */
  readonly settings: StatusHandlerSettings;
  /** True while the sampling timer is armed. */
  readonly sampling: boolean;
  /** The document `snapshot.json` serves now (taking a sample, as a request would). */
  document(): StatusDocument;
  /** Stops the sampling timer and forgets the history; requests are still answered. Idempotent. */
  close(): void;
  [Symbol.dispose](): void;
}

const MISDIRECTED = 'misdirected request: this status page answers only the host names it allows (see allowedHosts)\n';

const COMMON_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/**
 * A read-only HTTP handler for a live status page of meshkit clients:
 * `GET <basePath>/` serves the page (one self-contained HTML document: inline
 * CSS and JS, no external assets, under a nonce-based Content-Security-Policy)
 * and `GET <basePath>/snapshot.json` the data it polls: each client's
 * `snapshot()`, bounded (`maxClients`, `maxEndpoints`), with recent latency
 * samples per endpoint. `HEAD` works too; any other method gets 405 with
 * `Allow: GET, HEAD`; other paths call `next()` when given one (Express), else 404.
 * A request for either whose `Host` is not an IP literal, `localhost`,
 * `*.localhost` or one of `allowedHosts` (default none) gets 421 Misdirected
 * Request: that is what keeps a web page in a local browser from reading it
 * through DNS rebinding, even with the handler bound to 127.0.0.1. A request
 * without `Host` (HTTP/1.0) is answered only from a loopback address.
 *
 * History: one unref'd timer samples every endpoint's latency estimate every
 * `sampleInterval` (default 1 s) into a ring of `historySize` (default 60) per
 * endpoint, so the page shows a trend as soon as it opens. The timer starts
 * with the handler, stops by itself at a tick that finds no open client, and
 * starts again on the next request; `close()` stops it for good. Requests for
 * `snapshot.json` also take a sample (at most one per half interval).
 *
 * It changes nothing and exposes no secrets, but it does reveal endpoint
 * addresses and discovery error messages: mount it on an internal port (see
 * docs/status-page.md). When it cannot build its answer (a throwing `clients`
 * function or `snapshot()`), it answers 500 `status unavailable` and reports
 * the error on `meshkit:status:error` (`statusErrorChannel`) and, the
 * first time, as a process warning (`MESHKIT_STATUS_ERROR`); the error's
 * message never reaches the response.
 *
 * Defaults: every live client (`snapshotAll()`), `basePath` `''`, `title`
 * `'meshkit status'`, `refreshInterval` 1 s, `sampleInterval` 1 s,
 * `historySize` 60, `maxEndpoints` 500, `maxClients` 100, `allowedHosts` `[]`. Throws
 * `ERR_INVALID_CONFIG` naming `status.<option>`.
 */
export function statusHandler(options: StatusHandlerOptions = {}): StatusHandler {
  const settings = resolveStatusHandler(options);
  const source = options.clients;
  const history = new LatencyHistory(settings.historySize);
  const sampleGapMs = (settings.sampleIntervalMs ?? settings.refreshMs) / 2;
  let lastSampleAt = Number.NEGATIVE_INFINITY;
  const clock = settings.clock;
  let timer: TimerHandle | undefined;
  let closed = false;
  const report = statusErrorReporter();

  const read = (): ClientSnapshot[] => {
    if (source === undefined) return snapshotAll();
    const list = typeof source === 'function' ? source() : source;
    return list.map((client) => client.snapshot());
  };

  const sample = (shown: readonly ClientSnapshot[], keys: readonly string[], now: number): void => {
    if (now - lastSampleAt < sampleGapMs) return;
    lastSampleAt = now;
    history.record(shown, keys, now);
  };

  const stopTimer = (): void => {
    if (timer !== undefined) clock.clearTimeout(timer);
    timer = undefined;
  };

  const tick = (): void => {
    // Re-armed first, as an interval would be: a throwing `clients` function below must not stop the sampler.
    timer = clock.setTimeout(tick, settings.sampleIntervalMs!);
    let all: ClientSnapshot[];
    try {
      all = read();
    } catch {
      return; // a throwing `clients` function: the next request reports it
    }
    if (all.every((s) => s.closed)) {
      // Nothing to watch: stop, and forget; the next request starts again.
      stopTimer();
      history.clear();
      return;
    }
    const shown = boundedSnapshots(all, settings);
    sample(shown, clientKeys(shown), wallClockNow(clock));
  };

  const startTimer = (): void => {
    if (closed || timer !== undefined || settings.sampleIntervalMs === undefined) return;
    // Never what keeps a process alive (the clock's timers are unref'd); re-armed by each tick.
    timer = clock.setTimeout(tick, settings.sampleIntervalMs);
  };

  const document = (): StatusDocument => {
    const all = read();
    const shown = boundedSnapshots(all, settings);
    const keys = clientKeys(shown);
    const now = wallClockNow(clock);
    sample(shown, keys, now);
    return statusDocument(all, shown, keys, history, settings, now);
  };

  const handler = ((req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): void => {
    const url = req.url ?? '/';
    const query = url.search(/[?#]/);
    const path = query === -1 ? url : url.slice(0, query);
    const base = settings.basePath;
    const rest = base === '' ? path : path === base || path.startsWith(`${base}/`) ? path.slice(base.length) : undefined;
    const route = rest === '' || rest === '/' || rest === '/index.html' ? 'page' : rest === '/snapshot.json' ? 'json' : undefined;
    if (route === undefined) {
      if (next !== undefined) next();
      else send(req, res, 404, { 'content-type': 'text/plain; charset=utf-8' }, 'not found\n');
      return;
    }
    if (!hostAllowed(req, settings.allowedHosts)) {
      // A name that is not this machine's or listed: likely DNS rebinding. Constant text, never the Host itself.
      send(req, res, 421, { 'content-type': 'text/plain; charset=utf-8' }, MISDIRECTED);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(req, res, 405, { 'content-type': 'text/plain; charset=utf-8', allow: 'GET, HEAD' }, 'method not allowed: this status page is read-only\n');
      return;
    }
    startTimer();
    try {
      if (route === 'json') {
        send(req, res, 200, { 'content-type': 'application/json; charset=utf-8' }, safeJson(document()));
        return;
      }
      const nonce = randomBytes(16).toString('base64');
      send(req, res, 200, {
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy':
          `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; img-src 'self' data:; `
          + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        'x-frame-options': 'DENY',
      }, renderPage({ title: settings.title, refreshMs: settings.refreshMs, nonce }));
    } catch (error) {
      // A throwing `clients` function or snapshot: answer, never crash the server it is mounted on, and
      // never echo the error (it may carry addresses or secrets): it goes to the channel and, once, a warning.
      report(error, path);
      send(req, res, 500, { 'content-type': 'text/plain; charset=utf-8' }, 'status unavailable\n');
    }
  }) as StatusHandler;

  Object.defineProperties(handler, {
    settings: { value: settings, enumerable: true },
    sampling: { get: () => timer !== undefined, enumerable: true },
  });
  handler.document = document;
  handler.close = (): void => {
    closed = true;
    stopTimer();
    history.clear();
  };
  handler[Symbol.dispose] = handler.close;
  startTimer();
  return handler;
}

function send(req: IncomingMessage, res: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  if (res.headersSent) return;
  const bytes = Buffer.from(body, 'utf8');
  res.writeHead(status, { ...COMMON_HEADERS, ...headers, 'content-length': String(bytes.length) });
  res.end(req.method === 'HEAD' ? undefined : bytes);
}
