import type { Clock, TimerHandle } from '../core/clock.js';

/** Called on every tick of a {@link SharedRotation}: the listener drops its window's oldest bucket. */
export type RotationListener = () => void;

/**
 * One bucket-rotation timer shared by every breaker (service-level and
 * per-endpoint) with the same clock and bucket length: each breaker's rolling
 * window listens on it instead of arming a timer of its own, so 10,000
 * breakers cost one timer, not 10,000.
 *
 * The timer runs while at least one breaker holds the rotation and stops
 * when the last one releases it; it is re-armed on each tick through
 * `clock.setTimeout` (unref'd by the system clock), so a virtual clock drives
 * it in tests.
 * @internal
 */
export class SharedRotation {
  readonly clock: Clock;
  /** Length of one bucket, ms: every breaker on this rotation rotates together. */
  readonly bucketMs: number;
  readonly #listeners = new Set<RotationListener>();
  #timer: TimerHandle | undefined = undefined;
  readonly #tick = (): void => {
    // Re-arm first: a throwing listener must not stop the rotation of the others.
    this.#timer = this.clock.setTimeout(this.#tick, this.bucketMs);
    for (const listener of this.#listeners) listener();
  };

  constructor(clock: Clock, bucketMs: number) {
    this.clock = clock;
    this.bucketMs = bucketMs;
  }

  /** Breakers holding this rotation. */
  get users(): number {
    return this.#listeners.size;
  }

  /** True while the shared timer is armed. */
  get running(): boolean {
    return this.#timer !== undefined;
  }

  /** @internal Adds a breaker's listener, arming the timer for the first one. */
  acquire(listener: RotationListener): void {
    if (this.#listeners.has(listener)) return;
    this.#listeners.add(listener);
    if (this.#listeners.size === 1) this.#timer = this.clock.setTimeout(this.#tick, this.bucketMs);
  }

  /** @internal Removes a listener; returns true when it was the last (the timer is now stopped). */
  release(listener: RotationListener): boolean {
    if (!this.#listeners.delete(listener) || this.#listeners.size > 0) return false;
    if (this.#timer !== undefined) this.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    return true;
  }
}

const rotations = new Map<Clock, Map<number, SharedRotation>>();

/** Adds `listener` to the rotation for `clock` and `bucketMs`, starting its timer if it is the first. @internal */
export function acquireRotation(clock: Clock, bucketMs: number, listener: RotationListener): SharedRotation {
  let byLength = rotations.get(clock);
  if (byLength === undefined) rotations.set(clock, (byLength = new Map()));
  let rotation = byLength.get(bucketMs);
  if (rotation === undefined) byLength.set(bucketMs, (rotation = new SharedRotation(clock, bucketMs)));
  rotation.acquire(listener);
  return rotation;
}

/** Removes `listener`; the last one stops the timer and forgets the rotation. @internal */
export function releaseRotation(rotation: SharedRotation, listener: RotationListener): void {
  if (!rotation.release(listener)) return;
  const byLength = rotations.get(rotation.clock);
  if (byLength?.get(rotation.bucketMs) !== rotation) return;
  byLength.delete(rotation.bucketMs);
  if (byLength.size === 0) rotations.delete(rotation.clock);
}

/** What the shared rotations are doing, for tests and status pages. */
export interface RotationInfo {
  /** Bucket length in ms. */
  readonly bucketMs: number;
  /** Breakers sharing this rotation's timer. */
  readonly breakers: number;
  /** Whether its timer is armed. */
  readonly running: boolean;
}

/** Lists the live shared rotations: one timer each. */
export function breakerRotations(): RotationInfo[] {
  const out: RotationInfo[] = [];
  for (const byLength of rotations.values()) {
    for (const rotation of byLength.values()) out.push({ bucketMs: rotation.bucketMs, breakers: rotation.users, running: rotation.running });
  }
  return out;
}
