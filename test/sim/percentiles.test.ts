import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cdfPoints, quantile, round, SampleBuffer } from '../../src/sim/percentiles.js';

describe('percentiles', () => {
  it('are exact nearest-rank quantiles of the samples', () => {
    assert.equal(quantile([1, 2, 3, 4], 0.5), 2);
    assert.equal(quantile([1, 2, 3, 4], 0.51), 3);
    assert.equal(quantile([1, 2, 3, 4], 1), 4);
    assert.equal(quantile([1, 2, 3, 4], 0), 1);
    assert.ok(Number.isNaN(quantile([], 0.5)));
    // 1..1000: p99.9 is the 999th value, p99 the 990th; no interpolation.
    const thousand = Float64Array.from({ length: 1000 }, (_, i) => i + 1);
    assert.equal(quantile(thousand, 0.999), 999);
    assert.equal(quantile(thousand, 0.99), 990);
    assert.equal(quantile(thousand, 0.5), 500);
  });

  it('grow by doubling, keep every sample, and sort a copy', () => {
    const buffer = new SampleBuffer(16);
    const values: number[] = [];
    for (let i = 0; i < 10_000; i++) {
      const value = (i * 7919) % 10_007;
      values.push(value);
      buffer.push(value);
    }
    assert.equal(buffer.length, 10_000);
    const sorted = buffer.sorted();
    assert.deepEqual(Array.from(sorted), values.sort((a, b) => a - b));
    assert.equal(quantile(sorted, 0.999), values[9989]);
    assert.equal(quantile(sorted, 1), values[9999]);
  });

  it('draw a CDF only as deep into the tail as the samples go', () => {
    const hundred = Float64Array.from({ length: 100 }, (_, i) => i + 1);
    const points = cdfPoints(hundred);
    assert.deepEqual(points.at(-1), [100, 1]);
    assert.ok(points.every(([, f]) => f === 1 || (1 - f) * 100 >= 1), 'no p99.9 from 100 samples');
    assert.deepEqual(points.find(([, f]) => f === 0.5), [50, 0.5]);
    for (let i = 1; i < points.length; i++) assert.ok(points[i]![0] >= points[i - 1]![0] && points[i]![1] > points[i - 1]![1]);
    assert.deepEqual(cdfPoints([]), []);
  });

  it('round to fixed precision without -0 or NaN', () => {
    assert.equal(round(1.23456789, 3), 1.235);
    assert.equal(Object.is(round(-0.0001, 3), 0), true);
    assert.equal(round(Number.NaN, 3), 0);
  });
});
