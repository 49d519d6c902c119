import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { latencySampler, normalQuantile, type LatencySpec } from '../../src/sim/latency.js';
import { seededRandom } from '../../src/sim/random.js';

const N = 100_000;

function samples(spec: LatencySpec, seed = 1): Float64Array {
  const sample = latencySampler(spec);
  const random = seededRandom(seed);
  const out = new Float64Array(N);
  for (let index = 0; index < N; index++) out[index] = sample(random);
  return out.sort();
}

function quantile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

function mean(values: Float64Array): number {
  let sum = 0;
  for (const value of values) sum += value;
  return sum / values.length;
}

function near(actual: number, expected: number, relative: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= relative * expected, `${what}: ${actual} is not within ${relative * 100} % of ${expected}`);
}

describe('latencySampler', () => {
  it('gives a fixed latency for a number, a duration string and { fixed }', () => {
    const random = seededRandom(3);
    assert.equal(latencySampler(25)(random), 25);
    assert.equal(latencySampler('2s')(random), 2000);
    assert.equal(latencySampler({ fixed: '300ms' })(random), 300);
  });

  it('draws uniform latencies over [min, max]', () => {
    const sorted = samples({ uniform: { min: 10, max: 30 } });
    assert.ok((sorted[0] as number) >= 10 && (sorted[N - 1] as number) <= 30);
    near(quantile(sorted, 0.5), 20, 0.02, 'median');
    near(quantile(sorted, 0.9), 28, 0.02, 'p90');
  });

  it('draws exponential latencies with the mean asked for', () => {
    const sorted = samples({ exponential: { mean: 50 } });
    near(mean(sorted), 50, 0.02, 'mean');
    near(quantile(sorted, 0.5), 50 * Math.LN2, 0.03, 'median');
  });

  it('draws lognormal latencies whose median and p99 are the ones given', () => {
    const sorted = samples({ lognormal: { median: 20, p99: 400 } });
    near(quantile(sorted, 0.5), 20, 0.03, 'median');
    near(quantile(sorted, 0.99), 400, 0.06, 'p99');
    assert.ok((sorted[0] as number) > 0);
  });

  it('draws empirical latencies from the list, each about equally often', () => {
    const sorted = samples({ empirical: [5, '10ms', 20, 40] });
    const counts = new Map<number, number>();
    for (const value of sorted) counts.set(value, (counts.get(value) ?? 0) + 1);
    assert.deepEqual([...counts.keys()].sort((a, b) => a - b), [5, 10, 20, 40]);
    for (const count of counts.values()) near(count, N / 4, 0.03, 'share');
  });

  it('mixes components by weight (a rare slow tail)', () => {
    const sorted = samples({ mixture: [{ weight: 99, latency: 10 }, { weight: 1, latency: { uniform: { min: 1000, max: 2000 } } }] });
    const slow = sorted.filter((value) => value >= 1000).length;
    near(slow, N / 100, 0.1, 'slow share');
    assert.equal(quantile(sorted, 0.5), 10);
    assert.ok(quantile(sorted, 0.995) >= 1000);
  });

  it('is deterministic for a seed', () => {
    assert.deepEqual(samples({ lognormal: { median: 5, p99: 50 } }, 9), samples({ lognormal: { median: 5, p99: 50 } }, 9));
    assert.notDeepEqual(samples({ lognormal: { median: 5, p99: 50 } }, 9), samples({ lognormal: { median: 5, p99: 50 } }, 10));
  });

  it('approximates the normal quantile closely', () => {
    near(normalQuantile(0.99), 2.3263478740408408, 1e-8, 'z(0.99)');
    near(-normalQuantile(0.01), 2.3263478740408408, 1e-8, 'z(0.01)');
    near(normalQuantile(0.75), 0.6744897501960817, 1e-8, 'z(0.75)');
    assert.ok(Number.isFinite(normalQuantile(0)));
  });

  it('refuses bad specs with ERR_INVALID_CONFIG naming the part', () => {
    const refuses = (spec: unknown, option: string, hint?: string): void => {
      assert.throws(() => latencySampler(spec as LatencySpec), (error: Error & { code?: string; details?: { option?: string } }) => {
        assert.equal(error.code, 'ERR_INVALID_CONFIG');
        assert.equal(error.details?.option, option);
        if (hint !== undefined) assert.match(error.message, new RegExp(`did you mean \`${hint}\``));
        return true;
      });
    };
    refuses({ lognormal: { median: 20, p99: 10 } }, 'latency.lognormal.p99');
    refuses({ lognormal: { median: 0, p99: 10 } }, 'latency.lognormal.median');
    refuses({ lognormla: { median: 1, p99: 2 } }, 'latency.lognormla', 'lognormal');
    refuses({ uniform: { min: 5, max: 1 } }, 'latency.uniform.max');
    refuses({ uniform: { min: 5, mx: 10 } }, 'latency.uniform.mx', 'max');
    refuses(-1, 'latency');
    refuses('3 parsecs', 'latency');
    refuses(2 ** 31, 'latency');
    refuses({ empirical: [] }, 'latency.empirical');
    refuses({ empirical: [1, -2] }, 'latency.empirical[1]');
    refuses({ mixture: [{ weight: 1, latency: 1 }, { weight: -1, latency: 2 }] }, 'latency.mixture[1].weight');
    refuses({ mixture: [{ weight: 0, latency: 1 }] }, 'latency.mixture');
    refuses({ mixture: [{ weight: 1, latency: { fixed: 'x' } }] }, 'latency.mixture[0].latency.fixed');
    refuses({ fixed: 1, uniform: { min: 1, max: 2 } }, 'latency');
    refuses(null, 'latency');
  });
});
