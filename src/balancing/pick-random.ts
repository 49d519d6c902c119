import type { Clock } from '../core/clock.js';

/** 2^32: turns a seed in [0, 1) into 32 bits. */
const TWO_TO_32 = 4_294_967_296;

/** 2^30: draws are 30-bit integers, which V8 keeps unboxed (small integers) even across calls it does not inline. */
const TWO_TO_30 = 1_073_741_824;

/** The Weyl step: an odd constant (2^32 / golden ratio), so the counter visits every 32-bit value once per period. */
const WEYL = 0x9e3779b9 | 0;

/**
 * Probabilities are passed as integers out of this (the largest small
 * integer V8 never boxes, 2^30 - 1): a double argument to a call V8 does not
 * inline would be boxed, an allocation on every pick.
 */
export const CHANCE_SCALE = 2 ** 30 - 1;

/** `p` (clamped to [0, 1]) as a threshold for {@link PickRandom.chance}: 0 never, CHANCE_SCALE always. */
export function chanceThreshold(p: number): number {
  return p >= 1 ? CHANCE_SCALE : p <= 0 ? 0 : Math.round(p * CHANCE_SCALE);
}

/**
 * A balancer's own source of uniform random numbers for picks: a Weyl
 * sequence (a 32-bit counter stepped by an odd constant; period 2^32) passed
 * through murmur3's fmix32 finaliser (as in `hash.ts`), so consecutive draws
 * are unrelated.
 * Seeded once from the client's `Clock.random()` when the balancer is created,
 * so a `VirtualClock` seed still makes every pick reproducible, and clients
 * get independent streams.
 *
 * Why not `clock.random()` on every pick: V8's `Math.random()` returns a
 * freshly allocated heap number on every call, even from optimised code
 * (16 bytes per call, measured by `npm run bench -- balancers`), and picks
 * must allocate nothing. Here the state is one `Int32Array` slot and every
 * step is 32-bit integer arithmetic; every method (private ones too) returns
 * a 30-bit integer or a boolean, which V8 never boxes, so even a call that is
 * not inlined allocates nothing; for the same reason probabilities come in as
 * integer thresholds ({@link chanceThreshold}). Not for anything
 * security-related.
 */
export class PickRandom {
  readonly #state = new Int32Array(1);

  /** `seed` in [0, 1), such as `clock.random()`. */
  constructor(seed: number) {
    this.#state[0] = Math.floor(seed * TWO_TO_32) | 0;
  }

  /** Seeded from `clock.random()` (one draw). */
  static from(clock: Clock): PickRandom {
    return new PickRandom(clock.random());
  }

  /** The next 30 random bits, an integer in [0, 2^30). */
  #bits(): number {
    let h = ((this.#state[0] as number) + WEYL) | 0;
    this.#state[0] = h;
    // fmix32, written out here so that only a 30-bit integer leaves this method (hash.ts's returns 32 bits).
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    return h >>> 2;
  }

  /** A uniform integer in [0, count), for 1 <= count <= 2^30 - 1 (0 for count 0). */
  index(count: number): number {
    return Math.floor((this.#bits() * count) / TWO_TO_30);
  }

  /** A uniform integer in [0, count) other than `not` (which must be in range); 2 <= count <= 2^30. */
  indexBesides(not: number, count: number): number {
    const index = this.index(count - 1);
    return index >= not ? index + 1 : index;
  }

  /** True with probability `threshold / CHANCE_SCALE` (see {@link chanceThreshold}): never for 0, always for CHANCE_SCALE. */
  chance(threshold: number): boolean {
    return this.index(CHANCE_SCALE) < threshold;
  }
}
