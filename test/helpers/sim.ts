import type { Client } from '../../src/index.js';
import { isMeshkitError, type MeshkitError } from '../../src/core/errors.js';
import type { Simulation } from '../../src/sim/simulation.js';
import type { RequestOptions } from '../../src/client/request-options.js';

/** What one simulated call ended with. */
export interface SimCallResult {
  /** Virtual time the call started. */
  readonly startedAt: number;
  /** Virtual time the call (headers and body) ended. */
  readonly endedAt: number;
  readonly status: number | undefined;
  readonly body: string | undefined;
  /** The error the call (or its body) failed with, when it is meshkit's. */
  readonly error: MeshkitError | undefined;
  /** Any other error its body failed with (undici's own, as a real body gives). */
  readonly foreign: (Error & { code?: string }) | undefined;
}

/**
 * Fires one call of `caller` at each virtual time in `times`; each reads its
 * body as text. Returns the results array, filled in as calls end (in the
 * order they end).
 */
export function fireAt(sim: Simulation, caller: Client, times: readonly number[], request: RequestOptions = {}): SimCallResult[] {
  const results: SimCallResult[] = [];
  for (const time of times) {
    sim.at(time, () => {
      const startedAt = sim.now();
      const end = (status: number | undefined, body: string | undefined, error: unknown): void => {
        const meshkit = isMeshkitError(error) ? error : undefined;
        if (error !== undefined && meshkit === undefined && !(error instanceof Error)) throw new Error(`a call failed with a non-error: ${String(error)}`);
        results.push({ startedAt, endedAt: sim.now(), status, body, error: meshkit, foreign: meshkit === undefined ? error as Error | undefined : undefined });
      };
      caller.request({ path: '/', ...request }).then(
        (response) => response.body.text().then((text) => end(response.statusCode, text, undefined), (error: unknown) => end(response.statusCode, undefined, error)),
        (error: unknown) => end(undefined, undefined, error),
      );
    });
  }
  return results;
}

/** `count` times `gap` ms apart from `start`. */
export function every(gap: number, count: number, start = 0): number[] {
  return Array.from({ length: count }, (_, index) => start + index * gap);
}

/** Closes `clients` while the simulation runs (close may wait on virtual timers). */
export async function closeInSim(sim: Simulation, ...clients: Client[]): Promise<void> {
  let closed = false;
  const closing = Promise.all(clients.map((c) => c.close())).finally(() => {
    closed = true;
    sim.loop.stop();
  });
  while (!closed) await sim.run(sim.now() + 60_000);
  await closing;
}
