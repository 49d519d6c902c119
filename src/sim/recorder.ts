import type { Client } from '../client/client.js';
import type { AttemptStartMessage, CallEndMessage, EjectionMessage } from '../core/diagnostics.js';
import { subscribe } from '../core/diagnostics.js';
import type { BreakerStateMessage } from '../core/breaker-state.js';
import { parseDuration, MAX_DURATION_MS, type Duration } from '../core/duration.js';
import { invalidArgument, invalidConfig, MeshkitError } from '../core/errors.js';
import { checkOptions, readBoolean, readNumber } from '../core/options.js';
import type { BackendStatsSource } from './backend-stats.js';
import type { SimLoop } from './event-loop.js';
import { errorCodeOf, type UserRequestSink } from './load.js';
import { SampleBuffer } from './percentiles.js';
import { buildReport } from './report-build.js';
import type { BreakerEvent, EjectionEvent, SimReport } from './report.js';
import { sampleSnapshot } from './snapshot-sample.js';

/** Options of {@link SimRecorder}. */
export interface SimRecorderOptions {
  /** Virtual length of the run (ms, or a string such as `'60s'`): the report covers [0, duration). Required. */
  readonly duration: Duration;
  /**
   * Width of a time bucket, ms: backend load and sampled client state are per
   * bucket. It must be the backends' own bucket width (the Simulation's
   * `bucketMs`). Default 1000 (the Simulation's default).
   */
  readonly bucketMs?: number;
  /** The simulated backends whose load the report shows, in the order shown. Default none. */
  readonly backends?: readonly BackendStatsSource[];
  /**
   * Sample each tracked client's `snapshot()` at the end of every bucket
   * (limits, bulkhead, budgets, endpoints in rotation). A snapshot lists
   * every endpoint, so with thousands of endpoints and many clients turn it
   * off for speed. Default true.
   */
  readonly sample?: boolean;
  /**
   * Clients of each track sampled (the first ones tracked): a snapshot costs
   * about 1 ms per 1,000 endpoints, so a fleet of 100 clients over 1,000
   * backends sampled in full would add a minute to a ten-minute run. Each
   * series is the mean over the clients sampled. Default 1.
   */
  readonly sampleClients?: number;
}

/**
 * What a {@link SimRecorder} records of one tracked client (or fleet of
 * clients under one name): it is also the sink its load generator reports
 * user requests to (`openLoop(loop, target, { record: track, ... })`).
 */
export class ClientTrack implements UserRequestSink {
  readonly name: string;
  readonly clients: readonly Client[];
  /** User-request latencies, ms, in completion order. */
  readonly latencies = new SampleBuffer(4096);
  succeeded = 0;
  /** Failed user requests by error code. */
  readonly errors = new Map<string, number>();
  /** Calls ended (`meshkit:call:end`), attempts started, hedges and retries among them. */
  calls = 0;
  attempts = 0;
  hedges = 0;
  retries = 0;
  /** Sampled values per series name, one per bucket end (see {@link SimRecorderOptions.sample}). */
  readonly samples = new Map<string, number[]>();
  /** @internal Set by the recorder: user requests count only while it records, as calls do. */
  recording = false;

  /** @internal Use `recorder.track(name, clients)`. */
  constructor(name: string, clients: readonly Client[]) {
    this.name = name;
    this.clients = clients;
  }

  /** Records one user request (ignored while the recorder is stopped, so that it agrees with the call counts). */
  userRequest(start: number, end: number, error: unknown): void {
    if (!this.recording) return;
    this.latencies.push(end - start);
    if (error === undefined) {
      this.succeeded++;
      return;
    }
    const code = errorCodeOf(error);
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }
}

/** The recorder subscribed to the process-wide channels now, if any. */
let subscribed: SimRecorder | undefined;

/**
 * Records a simulated run for its report: user requests (from the load
 * generators), calls, attempts, hedges and retries (`meshkit:attempt:start`,
 * `meshkit:attempt:end`, `meshkit:call:end`), ejections
 * (`meshkit:health:ejection`) and breaker transitions
 * (`meshkit:breaker:state`) with their virtual times, each tracked client's
 * state sampled every bucket, and the backends' per-bucket load.
 *
 * Only what ends while it records counts: start it before the load, and
 * after the load's duration run the loop on until the user requests in
 * flight have finished (load generators issue none after their duration)
 * before stopping it, or the slowest requests are left out.
 *
 * Channel messages are attributed by the client name (`client(name)`): two
 * tracks may not hold clients of the same name. The channels are
 * process-wide, so only one recorder may be started at a time in a process:
 * `start()` refuses a second until the first is stopped.
 */
export class SimRecorder {
  readonly #loop: SimLoop;
  readonly #duration: number;
  readonly #bucketMs: number;
  readonly #backends: readonly BackendStatsSource[];
  readonly #sample: boolean;
  readonly #sampleClients: number;
  readonly #tracks: ClientTrack[] = [];
  readonly #byName = new Map<string, ClientTrack>();
  /** Attempts in flight per call, for telling hedges from retries; removed when the call ends. */
  readonly #inFlight = new Map<object, number>();
  readonly #ejections: EjectionEvent[] = [];
  readonly #breakers: BreakerEvent[] = [];
  #unsubscribe: (() => void)[] = [];
  #sampled = 0;
  #sampler: unknown = undefined;

  constructor(loop: SimLoop, options: SimRecorderOptions) {
    const checked = checkOptions(options, 'SimRecorder options', ['duration', 'bucketMs', 'backends', 'sample', 'sampleClients']);
    this.#loop = loop;
    if (checked['duration'] === undefined) throw invalidConfig('SimRecorder options.duration', 'the virtual length of the run (ms, or \'60s\')', undefined);
    this.#duration = parseDuration(checked['duration'], 'SimRecorder options.duration');
    this.#bucketMs = readNumber(checked['bucketMs'], 'SimRecorder options.bucketMs', 1000, { min: 1, max: MAX_DURATION_MS });
    const backends = checked['backends'] ?? [];
    if (!Array.isArray(backends) || !backends.every((b) => typeof (b as BackendStatsSource)?.buckets === 'function')) {
      throw invalidConfig('SimRecorder options.backends', 'a list of BackendStatsSource', backends);
    }
    this.#backends = backends as BackendStatsSource[];
    this.#sample = readBoolean(checked['sample'], 'SimRecorder options.sample', true);
    this.#sampleClients = readNumber(checked['sampleClients'], 'SimRecorder options.sampleClients', 1, { integer: true, min: 1 });
  }

  /** The tracked clients, in the order tracked. */
  get tracks(): readonly ClientTrack[] {
    return this.#tracks;
  }

  /**
   * Tracks `clients` (one client, or a fleet reported as one) under `name`;
   * returns the track, which is also the sink to give their load generator.
   * `ERR_INVALID_ARGUMENT` for a name tracked already or a client whose
   * name another track holds.
   */
  track(name: string, clients: Client | readonly Client[]): ClientTrack {
    if (typeof name !== 'string' || name === '') throw invalidArgument('name', 'a non-empty string', name);
    const list = Array.isArray(clients) ? [...(clients as readonly Client[])] : [clients as Client];
    if (list.length === 0 || !list.every((c) => typeof c?.snapshot === 'function' && typeof c.name === 'string')) {
      throw invalidArgument('clients', 'a client or a non-empty list of clients', clients);
    }
    if (this.#tracks.some((t) => t.name === name)) throw invalidArgument('name', 'a name not tracked yet', name);
    for (const c of list) {
      const holder = this.#byName.get(c.name);
      if (holder !== undefined && holder.name !== name) {
        throw invalidArgument('clients', `clients whose names no other track holds (${c.name} is in ${holder.name})`, c.name);
      }
    }
    const track = new ClientTrack(name, list);
    track.recording = this.recording;
    this.#tracks.push(track);
    for (const c of list) this.#byName.set(c.name, track);
    return track;
  }

  /** True while subscribed to the channels. */
  get recording(): boolean {
    return subscribed === this;
  }

  /**
   * Subscribes to the channels and starts sampling. Throws
   * `ERR_INVALID_CONFIG` when another recorder is recording in this process.
   */
  start(): void {
    if (subscribed === this) return;
    if (subscribed !== undefined) {
      throw new MeshkitError('ERR_INVALID_CONFIG', 'Another SimRecorder is recording: the diagnostics channels are process-wide, so stop() it before starting this one',
        { option: 'SimRecorder' });
    }
    subscribed = this;
    this.#unsubscribe = [
      subscribe('attemptStart', (message) => this.#attemptStarted(message)),
      subscribe('attemptEnd', (message) => this.#attemptEnded(message)),
      subscribe('callEnd', (message) => this.#callEnded(message)),
      subscribe('ejection', (message) => this.#ejection(message)),
      subscribe('breakerState', (message) => this.#breakerState(message)),
    ];
    for (const track of this.#tracks) track.recording = true;
    if (this.#sample) this.#scheduleSample();
  }

  /** Unsubscribes from every channel and stops sampling (nothing is left behind); safe to call twice. */
  stop(): void {
    if (this.#sampler !== undefined) this.#loop.cancel(this.#sampler);
    this.#sampler = undefined;
    for (const off of this.#unsubscribe) off();
    this.#unsubscribe = [];
    this.#inFlight.clear();
    for (const track of this.#tracks) track.recording = false;
    if (subscribed === this) subscribed = undefined;
  }

  /** The report of what was recorded so far (stop first for a finished run): plain JSON, see {@link SimReport}. */
  report(scenario: string): SimReport {
    if (typeof scenario !== 'string' || scenario === '') throw invalidArgument('scenario', 'a non-empty scenario name', scenario);
    return buildReport({
      scenario,
      seed: this.#loop.seed,
      durationMs: this.#duration,
      bucketMs: this.#bucketMs,
      tracks: this.#tracks,
      backends: this.#backends,
      ejections: this.#ejections,
      breakers: this.#breakers,
    });
  }

  #attemptStarted(attempt: AttemptStartMessage): void {
    const track = this.#byName.get(attempt.call.service);
    if (track === undefined) return;
    const call = attempt.call;
    const running = this.#inFlight.get(call) ?? 0;
    track.attempts++;
    // Another attempt of the call still running: this one races it.
    if (running > 0) track.hedges++;
    else if (attempt.number > 1) track.retries++;
    this.#inFlight.set(call, running + 1);
  }

  #attemptEnded(attempt: AttemptStartMessage): void {
    const running = this.#inFlight.get(attempt.call);
    if (running !== undefined) this.#inFlight.set(attempt.call, running - 1);
  }

  #callEnded(message: CallEndMessage): void {
    const track = this.#byName.get(message.call.service);
    if (track === undefined) return;
    track.calls++;
    this.#inFlight.delete(message.call);
  }

  #ejection(message: EjectionMessage): void {
    const track = this.#byName.get(message.service);
    if (track === undefined) return;
    this.#ejections.push({
      t: this.#loop.now(), client: track.name, endpoint: message.endpoint.id, ejected: message.ejected, reason: message.reason ?? null,
    });
  }

  #breakerState(message: BreakerStateMessage): void {
    const track = this.#byName.get(message.service);
    if (track === undefined) return;
    this.#breakers.push({ t: this.#loop.now(), client: track.name, breaker: message.name, state: message.state });
  }

  /** Samples at the end of each bucket that ends within the run. */
  #scheduleSample(): void {
    const at = (this.#sampled + 1) * this.#bucketMs;
    if (at > this.#duration) return;
    this.#sampler = this.#loop.at(at, this.#takeSample);
  }

  readonly #takeSample = (): void => {
    this.#sampler = undefined;
    const index = this.#sampled++;
    for (const track of this.#tracks) sampleSnapshot(track.clients.slice(0, this.#sampleClients), track.samples, index);
    this.#scheduleSample();
  };
}
