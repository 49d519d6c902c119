import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { client, isMeshkitError } from '../../src/index.js';
import { startUpstream } from '../helpers/upstream.js';

describe('close() accepts only a bound it can honour (issue 11, finding 3)', () => {
  it('close({ timeout: \'1000h\' }) rejects with ERR_INVALID_CONFIG and aborts nothing; a valid close then drains', async () => {
    const upstream = await startUpstream({ delayMs: 100 });
    try {
      const c = client('close-bound').endpoints([upstream.address]).build();
      const inFlight = c.request({ path: '/' });
      const refused = await c.close({ timeout: '1000h' }).then(() => undefined, (e: unknown) => e);
      assert.ok(isMeshkitError(refused, 'ERR_INVALID_CONFIG'), String(refused));
      assert.equal(refused.details['option'], 'close.timeout');
      const unknown = await c.close({ timeuot: '1s' } as never).then(() => undefined, (e: unknown) => e);
      assert.ok(isMeshkitError(unknown, 'ERR_INVALID_CONFIG') && /did you mean `timeout`/.test(unknown.message), String(unknown));
      // Before the fix the 1000h timer fired at once and aborted this call with ERR_CLIENT_CLOSED.
      const res = await inFlight;
      assert.equal(res.statusCode, 200);
      await res.body.dump();
      const later = await c.request({ path: '/' });
      await later.body.dump();
      await c.close({ timeout: '1s' });
      assert.ok(isMeshkitError(await c.request({ path: '/' }).then(() => undefined, (e: unknown) => e), 'ERR_CLIENT_CLOSED'));
    } finally {
      await upstream.close();
    }
  });
});
