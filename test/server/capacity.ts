import http from 'node:http';
import { call, type Answer } from './http-call.js';

/**
 * A service with limited true concurrency: `workers` slots, each busy for
 * `serviceMs` per request; requests beyond that wait in a FIFO queue (as they
 * would for a thread pool or a database connection pool). Its capacity is
 * `workers * 1000 / serviceMs` requests per second.
 */
export function workerPool(workers: number, serviceMs: number): { run(): Promise<void>; readonly busy: number; readonly queued: number } {
  let busy = 0;
  const queue: (() => void)[] = [];
  const release = (): void => {
    const next = queue.shift();
    if (next === undefined) busy--;
    else next();
  };
  return {
    get busy() {
      return busy;
    },
    get queued() {
      return queue.length;
    },
    async run() {
      if (busy < workers) busy++;
      else await new Promise<void>((resolve) => queue.push(resolve));
      await new Promise((resolve) => setTimeout(resolve, serviceMs));
      release();
    },
  };
}

/** Sends `count` requests, `concurrency` at a time (well under capacity): the unloaded latency. */
export async function unloaded(url: string, count: number, concurrency: number, agent: http.Agent): Promise<Answer[]> {
  const answers: Answer[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) {
      next++;
      answers.push(await call(url, { agent }));
    }
  }));
  return answers;
}

/**
 * Open-loop load: `rate` requests per second for `durationMs`, sent on
 * schedule whether or not earlier ones were answered (as independent callers
 * do; a closed loop would slow down with the server and hide overload).
 */
export async function openLoop(url: string, rate: number, durationMs: number, agent: http.Agent): Promise<Answer[]> {
  const pending: Promise<Answer>[] = [];
  const started = performance.now();
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const elapsed = performance.now() - started;
      const due = Math.min(Math.floor((elapsed * rate) / 1000), Math.floor((durationMs * rate) / 1000));
      while (pending.length < due) pending.push(call(url, { agent }));
      if (elapsed >= durationMs) {
        clearInterval(tick);
        resolve();
      }
    }, 2);
  });
  return Promise.all(pending);
}

/** What a set of closed-loop callers got. */
export interface LoopResult {
  ok: number;
  refused: number;
  other: number;
}

/**
 * Closed-loop load: `callers` callers, each sending its next request as soon
 * as it has the answer to the last, for `durationMs`. A refused caller (503)
 * pauses `refusedPauseMs` before trying again, as a client honouring a short
 * back-off would (without it a refused caller would spin on 1 ms refusals).
 */
export async function closedLoop(
  url: string, callers: number, durationMs: number, agent: http.Agent,
  options: { headers?: http.OutgoingHttpHeaders; refusedPauseMs?: number } = {},
): Promise<LoopResult> {
  const result: LoopResult = { ok: 0, refused: 0, other: 0 };
  const end = performance.now() + durationMs;
  const pause = options.refusedPauseMs ?? 20;
  await Promise.all(Array.from({ length: callers }, async () => {
    while (performance.now() < end) {
      const answer = await call(url, { agent, ...(options.headers === undefined ? {} : { headers: options.headers }) });
      if (answer.status === 200) result.ok++;
      else if (answer.status === 503) {
        result.refused++;
        await new Promise((resolve) => setTimeout(resolve, pause));
      } else result.other++;
    }
  }));
  return result;
}

/**
 * A caller that sends one request every `everyMs` for `durationMs` without
 * waiting for answers (each with `headers`); resolves with every answer's status.
 */
export async function everyInterval(url: string, everyMs: number, durationMs: number, agent: http.Agent, headers: http.OutgoingHttpHeaders): Promise<number[]> {
  const sent: Promise<number>[] = [];
  const end = performance.now() + durationMs;
  while (performance.now() < end) {
    sent.push(call(url, { agent, headers }).then((a) => a.status));
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return Promise.all(sent);
}

/** Calls `sample()` every `everyMs` until `until` settles; returns the samples. */
export async function watch<T>(until: Promise<unknown>, everyMs: number, sample: () => T): Promise<T[]> {
  const samples: T[] = [sample()];
  let done = false;
  const stop = (): void => {
    done = true;
  };
  until.then(stop, stop);
  while (!done) {
    await new Promise((resolve) => setTimeout(resolve, everyMs));
    samples.push(sample());
  }
  return samples;
}
