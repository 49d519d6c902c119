import { EventEmitter } from 'node:events';
import type { Clock, TimerHandle } from '../core/clock.js';

/**
 * One bucket-rotation timer shared by every circuit breaker with the same
 * clock and bucket length. opossum (its `rotateBucketController` option)
 * listens for `'rotate'` on this emitter instead of arming its own
 * `setInterval` per breaker, so 10,000 breakers cost one timer, not 10,000.
 *
 * The timer runs while at least one breaker holds the rotation and stops
 * when the last one releases it; it is re-armed on each tick through
 * `clock.setTimeout` (unref'd by the system clock), so a virtual clock drives
 * it in tests.
 * @internal
 */
export class SharedRotation extends EventEmitter {
  readonly clock: Clock;
  /** Length of one bucket, ms: every breaker on this rotation rotates together. */
  readonly bucketMs: number;
  #users = 0;
  #timer: TimerHandle | undefined = undefined;
  readonly #tick = (): void => {
    // Re-arm first: a throwing listener must not stop the rotation of the others.
    this.#timer = this.clock.setTimeout(this.#tick, this.bucketMs);
    this.emit('rotate');
  };

  constructor(clock: Clock, bucketMs: number) {
    super();
    this.clock = clock;
    this.bucketMs = bucketMs;
    // One listener per breaker: thousands are expected, not a leak.
    this.setMaxListeners(0);
  }

  /** Breakers holding this rotation. */
  get users(): number {
    return this.#users;
  }

  /** True while the shared timer is armed. */
  get running(): boolean {
    return this.#timer !== undefined;
  }

  /** @internal */
  acquire(): void {
    if (this.#users++ === 0) this.#timer = this.clock.setTimeout(this.#tick, this.bucketMs);
  }

  /** @internal Returns true when this was the last user (the timer is now stopped). */
  release(): boolean {
    if (this.#users === 0) return false;
    if (--this.#users > 0) return false;
    if (this.#timer !== undefined) this.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    return true;
  }
}

const rotations = new Map<Clock, Map<number, SharedRotation>>();

/** Takes a share of the rotation for `clock` and `bucketMs`, starting its timer if it is the first. @internal */
export function acquireRotation(clock: Clock, bucketMs: number): SharedRotation {
  let byLength = rotations.get(clock);
  if (byLength === undefined) rotations.set(clock, (byLength = new Map()));
  let rotation = byLength.get(bucketMs);
  if (rotation === undefined) byLength.set(bucketMs, (rotation = new SharedRotation(clock, bucketMs)));
  rotation.acquire();
  return rotation;
}

/** Gives back a share; the last one stops the timer and forgets the rotation. @internal */
export function releaseRotation(rotation: SharedRotation): void {
  if (!rotation.release()) return;
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
