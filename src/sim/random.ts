/** A source of uniformly distributed numbers in [0, 1). */
export type RandomSource = () => number;

/**
 * A seeded xoshiro128** generator: fast, 128 bits of state, and the same
 * sequence for the same seed on every machine (32-bit integer arithmetic
 * only). The state is expanded from the seed with splitmix32 so that close
 * seeds give unrelated streams.
 */
export function seededRandom(seed: number): RandomSource {
  let s = seed >>> 0;
  const next32 = (): number => {
    // splitmix32
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = next32();
  let b = next32();
  let c = next32();
  let d = next32();
  if ((a | b | c | d) === 0) a = 1; // the all-zero state is a fixed point
  return () => {
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return result / 4294967296;
  };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * A seed for the stream named `name` under `seed` (FNV-1a of the name mixed
 * with the seed), so that each backend, client and load generator draws from
 * its own stream: adding a client does not change what the others draw.
 */
export function streamSeed(seed: number, name: string): number {
  let hash = 0x811c9dc5 ^ (seed >>> 0);
  for (let index = 0; index < name.length; index++) {
    hash ^= name.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
