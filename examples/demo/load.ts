// Drives the same closed-loop traffic through any client: a fixed number of
// requests, a fixed number of concurrent workers, and a wall-clock budget so the
// demo cannot run away whatever the client does.
import { performance } from 'node:perf_hooks';

/** What one logical request ended as: "200", "503", or an error code such as "ERR_TIMEOUT". */
export type Outcome = string;

export interface Sample {
  readonly ok: boolean;
  readonly ms: number;
  readonly outcome: Outcome;
}

export interface LoadOptions {
  readonly requests: number;
  readonly concurrency: number;
  /** Stop starting new requests after this long; requests in flight still finish. */
  readonly budgetMs: number;
}

/** `send` resolves to an outcome and must not throw; `ok` is "the caller got a 200". */
export async function runLoad(send: () => Promise<Outcome>, opts: LoadOptions): Promise<Sample[]> {
  const samples: Sample[] = [];
  const stopAt = performance.now() + opts.budgetMs;
  let started = 0;
  const worker = async (): Promise<void> => {
    while (started < opts.requests && performance.now() < stopAt) {
      started += 1;
      const t0 = performance.now();
      const outcome = await send();
      samples.push({ ok: outcome === '200', ms: performance.now() - t0, outcome });
    }
  };
  const workers = Math.min(opts.concurrency, opts.requests);
  await Promise.all(Array.from({ length: workers }, worker));
  return samples;
}

/** Turns anything thrown into a short outcome label: an error code when there is one. */
export function outcomeOf(err: unknown): Outcome {
  if (typeof err === 'object' && err !== null) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const cause = (err as { cause?: { code?: unknown } }).cause;
    if (typeof cause?.code === 'string') return cause.code;
    const name = (err as { name?: unknown }).name;
    if (typeof name === 'string') return name;
  }
  return 'error';
}
