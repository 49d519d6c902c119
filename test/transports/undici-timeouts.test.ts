import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { client, isMeshkitError } from '../../src/index.js';
import { HEADERS_TIMEOUT_MARGIN_MS, undiciTimeouts } from '../../src/transports/undici-timeouts.js';
import { startUpstream } from '../helpers/upstream.js';

describe('undiciTimeouts', () => {
  it('gives undici one value for headers and body when a per-try timeout bounds the headers', () => {
    assert.deepEqual(undiciTimeouts(300, 300), { bodyTimeout: 300 + HEADERS_TIMEOUT_MARGIN_MS, headersTimeout: 300 + HEADERS_TIMEOUT_MARGIN_MS });
    assert.deepEqual(undiciTimeouts(5000, 300), { bodyTimeout: 5000, headersTimeout: 5000 });
    assert.deepEqual(undiciTimeouts(Infinity, 300), { bodyTimeout: 0, headersTimeout: 0 });
  });

  it('keeps undici\'s headers timeout, and the body timeout exact, otherwise', () => {
    assert.deepEqual(undiciTimeouts(), { bodyTimeout: 300_000, headersTimeout: null });
    assert.deepEqual(undiciTimeouts(1000.5), { bodyTimeout: 1001, headersTimeout: null });
    assert.deepEqual(undiciTimeouts(Infinity), { bodyTimeout: 0, headersTimeout: null });
    assert.deepEqual(undiciTimeouts(100, 300), { bodyTimeout: 100, headersTimeout: null });
  });

  it('the per-try timeout still ends a wait for headers, before undici\'s shared timeout can', async () => {
    const upstream = await startUpstream({ delayMs: 4000 });
    try {
      // undici's coarse timers tick every 499 ms and may fire up to a tick early: at exactly 990 ms, its
      // headers timeout would fire at 0.5-1 s, mostly before the per-try timeout.
      await using c = client('orders').endpoints([upstream.address]).timeout({ perTry: '990ms' }).retry(false).build();
      const errors = await Promise.all(Array.from({ length: 4 }, async (_, i) => {
        await new Promise((resolve) => setTimeout(resolve, i * 130)); // different phases of undici's timer ticks
        return c.request({ path: '/' }).then(() => undefined, (error: unknown) => error);
      }));
      for (const error of errors) assert.ok(isMeshkitError(error, 'ERR_TIMEOUT'), `got ${String(error)}`);
    } finally {
      await upstream.close();
    }
  });
});
