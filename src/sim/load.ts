import { MAX_DURATION_MS, parseDuration, type Duration } from '../core/duration.js';
import { invalidConfig } from '../core/errors.js';
import { checkOptions, readNumber } from '../core/options.js';
import type { SimLoop } from './event-loop.js';
import type { RandomSource } from './random.js';

/**
 * One call of a user request: issues it and settles when it is done. For
 * HTTP, read or dump the body inside it (`() => client.request({ path:
 * '/' }).then((r) => r.body.dump())`), so that a body that stalls counts
 * against the call.
 */
export type CallTarget = () => Promise<unknown>;

/** Where a load generator reports each finished user request (a {@link ClientTrack} of a `SimRecorder`, or your own). */
export interface UserRequestSink {
  /** Names the random stream of open-loop arrivals (`load:<name>`). */
  readonly name: string;
  /**
   * One user request ended: started at `start`, ended at `end` (virtual ms);
   * `error` is undefined on success, else the first failure of its calls.
   */
  userRequest(start: number, end: number, error: unknown): void;
}

/** Options shared by {@link openLoop} and {@link closedLoop}. */
export interface LoadOptions {
  /** Where every user request is reported. Required. */
  readonly record: UserRequestSink;
  /** Virtual time the load starts at (ms, or a string such as `'5s'`). Default 0. */
  readonly start?: Duration;
  /** How long user requests keep being issued (ms, or `'60s'`); those in flight at the end finish on their own. Required. */
  readonly duration: Duration;
  /** Parallel calls per user request: it is done when all are, and succeeds when all succeed. Default 1. */
  readonly fanout?: number;
}

/** Options of {@link openLoop}. */
export interface OpenLoopOptions extends LoadOptions {
  /** Mean user requests per second, arriving as a Poisson process. Required. */
  readonly rate: number;
}

/** Options of {@link closedLoop}. */
export interface ClosedLoopOptions extends LoadOptions {
  /** Callers, each with one user request in flight at a time. Required. */
  readonly callers: number;
  /** Pause of a caller between the end of one user request and the next, ms. Default 0. */
  readonly thinkMs?: number;
}

/** A running load generator. */
export interface LoadRun {
  /** User requests issued so far. */
  readonly issued: number;
  /** User requests finished so far. */
  readonly completed: number;
  /** User requests in flight now. */
  readonly inFlight: number;
  /** Issues no further user request (those in flight finish). */
  stop(): void;
}

const LOAD_KEYS = ['record', 'start', 'duration', 'fanout'] as const;
/** A bound on rates and counts that keeps a typo from queueing billions of events. */
const MAX_RATE = 10_000_000;
const MAX_FANOUT = 100_000;

/** The error code a user request failed with: a MeshkitError's code, another error's string `code`, else `ERROR`. */
export function errorCodeOf(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') return code;
  }
  return 'ERROR';
}

interface ResolvedLoad {
  readonly record: UserRequestSink;
  readonly start: number;
  readonly end: number;
  readonly fanout: number;
}

function readLoad(checked: Readonly<Record<string, unknown>>, option: string): ResolvedLoad {
  const record = checked['record'] as UserRequestSink | undefined;
  if (typeof record !== 'object' || record === null || typeof record.userRequest !== 'function' || typeof record.name !== 'string') {
    throw invalidConfig(`${option}.record`, 'a sink { name, userRequest(start, end, error) } (recorder.track(...))', record);
  }
  const start = checked['start'] === undefined ? 0 : parseDuration(checked['start'], `${option}.start`);
  if (checked['duration'] === undefined) throw invalidConfig(`${option}.duration`, 'a duration (ms, or a string such as \'60s\')', undefined);
  const duration = parseDuration(checked['duration'], `${option}.duration`);
  const fanout = readNumber(checked['fanout'], `${option}.fanout`, 1, { integer: true, min: 1, max: MAX_FANOUT });
  return { record, start, end: start + duration, fanout };
}

/** Called when a user request ends, by the generator that issued it. */
type Finished = (request: UserRequest) => void;

/**
 * One user request: `fanout` calls in parallel. Its two settle handlers are
 * made once per user request and shared by its calls.
 */
class UserRequest {
  readonly started: number;
  #pending: number;
  #error: unknown = undefined;
  #failed = false;
  readonly #loop: SimLoop;
  readonly #sink: UserRequestSink;
  readonly #finished: Finished;

  constructor(loop: SimLoop, sink: UserRequestSink, finished: Finished, target: CallTarget, fanout: number) {
    this.#loop = loop;
    this.#sink = sink;
    this.#finished = finished;
    this.started = loop.now();
    this.#pending = fanout;
    const succeeded = (): void => this.#settle(false, undefined);
    const failed = (error: unknown): void => this.#settle(true, error);
    for (let index = 0; index < fanout; index++) {
      let call: Promise<unknown>;
      try {
        call = target();
      } catch (error) {
        failed(error);
        continue;
      }
      if (call === null || typeof (call as { then?: unknown })?.then !== 'function') succeeded();
      else call.then(succeeded, failed);
    }
  }

  #settle(failed: boolean, error: unknown): void {
    if (failed && !this.#failed) {
      this.#failed = true;
      this.#error = error ?? new Error('a call failed without an error');
    }
    if (--this.#pending > 0) return;
    try {
      this.#sink.userRequest(this.started, this.#loop.now(), this.#error);
    } catch (error) {
      // A sink that throws fails the run (SimLoop.run rejects with it), not a promise nobody handles.
      this.#loop.after(0, () => {
        throw error;
      });
    }
    this.#finished(this);
  }
}

/** Counts shared by both generators. */
class Counters {
  issued = 0;
  completed = 0;
  stopped = false;
  get inFlight(): number {
    return this.issued - this.completed;
  }
}

/**
 * Open-loop load: user requests arrive as a Poisson process at `rate` per
 * second from `start` for `duration` ms, whatever happens to earlier ones
 * (the way independent users arrive). Inter-arrival times are exponential,
 * drawn from the loop's stream `load:<record.name>`. Each user request is
 * `fanout` parallel calls of `target`; every one is reported to `record`.
 * A call that throws or rejects fails its user request and nothing else: no
 * rejection is left unhandled. Options are checked (`ERR_INVALID_CONFIG`).
 */
export function openLoop(loop: SimLoop, target: CallTarget, options: OpenLoopOptions): LoadRun {
  if (typeof target !== 'function') throw invalidConfig('openLoop target', 'a function issuing one call', target);
  const checked = checkOptions(options, 'openLoop options', [...LOAD_KEYS, 'rate']);
  const rate = readNumber(checked['rate'], 'openLoop options.rate', undefined, { min: 0, max: MAX_RATE, minExclusive: true });
  if (rate === undefined) throw invalidConfig('openLoop options.rate', 'a number of user requests per second > 0', undefined);
  const { record, start, end, fanout } = readLoad(checked, 'openLoop options');
  const random: RandomSource = loop.random(`load:${record.name}`);
  const meanGapMs = 1000 / rate;
  const counters = new Counters();
  const finished: Finished = () => {
    counters.completed++;
  };
  // 1 - u is in (0, 1], so the logarithm is finite.
  const gap = (): number => -Math.log(1 - random()) * meanGapMs;
  let next = start + gap();
  const arrive = (): void => {
    if (counters.stopped) return;
    counters.issued++;
    new UserRequest(loop, record, finished, target, fanout);
    next += gap();
    if (next < end) loop.at(next, arrive);
  };
  if (next < end) loop.at(next, arrive);
  return runOf(counters);
}

/**
 * Closed-loop load: `callers` callers from `start`, each issuing a user
 * request, waiting for it to end, pausing `thinkMs`, and again, until
 * `duration` ms have passed (a user request in flight then finishes). So
 * exactly `callers` user requests are in flight while the load runs, and
 * a slower system receives fewer. A caller whose user request ended in the
 * very instant it started waits at least 1 ms before the next, so a client
 * that fails fast cannot hold virtual time still. Each user request is
 * `fanout` parallel calls of `target`, reported to `record`.
 */
export function closedLoop(loop: SimLoop, target: CallTarget, options: ClosedLoopOptions): LoadRun {
  if (typeof target !== 'function') throw invalidConfig('closedLoop target', 'a function issuing one call', target);
  const checked = checkOptions(options, 'closedLoop options', [...LOAD_KEYS, 'callers', 'thinkMs']);
  const callers = readNumber(checked['callers'], 'closedLoop options.callers', undefined, { integer: true, min: 1, max: MAX_RATE });
  if (callers === undefined) throw invalidConfig('closedLoop options.callers', 'an integer >= 1', undefined);
  const thinkMs = readNumber(checked['thinkMs'], 'closedLoop options.thinkMs', 0, { min: 0, max: MAX_DURATION_MS });
  const { record, start, end, fanout } = readLoad(checked, 'closedLoop options');
  const counters = new Counters();
  const issue = (): void => {
    if (counters.stopped || loop.now() >= end) return;
    counters.issued++;
    new UserRequest(loop, record, finished, target, fanout);
  };
  const finished: Finished = (request) => {
    counters.completed++;
    const pause = thinkMs === 0 && loop.now() === request.started ? 1 : thinkMs;
    if (loop.now() + pause < end) loop.after(pause, issue);
  };
  if (start < end) for (let caller = 0; caller < callers; caller++) loop.at(start, issue);
  return runOf(counters);
}

function runOf(counters: Counters): LoadRun {
  return {
    get issued() {
      return counters.issued;
    },
    get completed() {
      return counters.completed;
    },
    get inFlight() {
      return counters.inFlight;
    },
    stop() {
      counters.stopped = true;
    },
  };
}
