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
