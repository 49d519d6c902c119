import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { client, currentInbound, DEADLINE_HEADER, inboundRemainingMs, runWithInbound, systemClock } from '../../src/index.js';
import { VirtualClock } from '../../src/testing/index.js';
import { startUpstreams } from '../helpers/upstream.js';

describe('inbound context', () => {
  it('is visible through awaits inside runWithInbound, and absent outside', async () => {
    assert.equal(currentInbound(), undefined);
    assert.equal(inboundRemainingMs(), Infinity);
    const deadline = systemClock.now() + 500;
    await runWithInbound({ service: 'edge', deadline }, async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      assert.equal(currentInbound()?.service, 'edge');
      const left = inboundRemainingMs();
      assert.ok(left < 500 && left > 300, `remaining ${left}`);
    });
    assert.equal(currentInbound(), undefined);
  });

  it('a call made while serving inherits the remaining deadline, and sends what is left to the next hop', async (t) => {
    const [up] = await startUpstreams([{}]);
    t.after(() => up?.close());
    await using c = client('downstream').endpoints([(up as { address: string }).address]).timeout({ total: '5s' }).build();
    await runWithInbound({ deadline: systemClock.now() + 300 }, async () => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      await (await c.request({ path: '/' })).body.dump();
    });
    const sent = Number(up?.requests[0]?.headers[DEADLINE_HEADER]);
    assert.ok(sent > 0 && sent <= 250, `the next hop was given ${sent} ms (inbound 300 ms, 50 ms already spent), not the client's 5 s`);
  });

  it('a call whose inherited deadline is already spent fails at once without sending', async (t) => {
    const [up] = await startUpstreams([{}]);
    t.after(() => up?.close());
    await using c = client('late').endpoints([(up as { address: string }).address]).build();
    const started = performance.now();
    await runWithInbound({ deadline: systemClock.now() - 1 }, async () => {
      await assert.rejects(c.request({ path: '/' }), { code: 'ERR_DEADLINE_EXCEEDED' });
    });
    assert.ok(performance.now() - started < 100);
    assert.equal(up?.requests.length, 0, 'nothing was sent');
  });
});

describe('inbound context on an injected clock', () => {
  it('reads what is left of the deadline on the clock of the code that set it', async () => {
    const clock = new VirtualClock(1000);
    await runWithInbound({ deadline: 1500, clock }, async () => {
      assert.equal(inboundRemainingMs(), 500);
      await clock.advance(200);
      assert.equal(inboundRemainingMs(), 300);
    });
  });
});
