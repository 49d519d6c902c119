/**
 * Full-jitter exponential backoff (AWS Architecture Blog, "Exponential
 * Backoff And Jitter"): a uniform delay in [0, min(cap, base * 2^(n-1))) for
 * the n-th consecutive failure, n counting from 1. Jitter spreads retries and
 * re-polls so that many clients do not arrive in waves.
 */
export function fullJitterBackoff(failures: number, baseMs: number, capMs: number, random: number): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** (Math.max(1, failures) - 1));
  return random * ceiling;
}
