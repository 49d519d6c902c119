import assert from 'node:assert/strict';
import * as diagnosticsChannel from 'node:diagnostics_channel';
import { describe, it } from 'node:test';
import { client, DEADLINE_HEADER, isMeshkitError, roundRobin } from '../../src/index.js';
import type { AttemptContext } from '../../src/core/attempt.js';
import { onlyDeadlineHeader, withAttemptHeaders, withDeadlineHeader } from '../../src/transports/deadline-header.js';
import { startUpstreams, type Upstream } from '../helpers/upstream.js';

describe('deadline propagation', () => {
  it('adds or replaces the header in every header shape without touching the original', () => {
    const object = { accept: 'a', 'X-Meshkit-Deadline': '999' };
    assert.deepEqual(withDeadlineHeader(object, 120.7), { accept: 'a', [DEADLINE_HEADER]: '120' });
    assert.equal(object['X-Meshkit-Deadline'], '999');
    assert.deepEqual(withDeadlineHeader(['accept', 'a', 'x-meshkit-deadline', '5'], 10), ['accept', 'a', DEADLINE_HEADER, '10']);
    assert.deepEqual(withDeadlineHeader(undefined, -3), { [DEADLINE_HEADER]: '0' });
  });

  it('reuses one frozen deadline-only object while the whole milliseconds repeat', () => {
    const first = onlyDeadlineHeader(1999.6);
    assert.deepEqual(first, { [DEADLINE_HEADER]: '1999' });
    assert.ok(Object.isFrozen(first));
    assert.equal(onlyDeadlineHeader(1999.1), first);
    const next = onlyDeadlineHeader(1998.9);
    assert.deepEqual(next, { [DEADLINE_HEADER]: '1998' });
    assert.notEqual(next, first);
    assert.deepEqual(onlyDeadlineHeader(-5), { [DEADLINE_HEADER]: '0' });
  });

  it('merges trace headers with the deadline, replacing same-named headers in any case, without copying when nothing is added', () => {
    const headers = { Traceparent: 'old', accept: 'a' };
    assert.deepEqual(withAttemptHeaders(headers, { traceparent: 'new' }, 50.2), { accept: 'a', traceparent: 'new', [DEADLINE_HEADER]: '50' });
    assert.equal(headers.Traceparent, 'old');
    assert.deepEqual(withAttemptHeaders(['TRACEPARENT', 'old', 'accept', 'a'], { traceparent: 'new' }, Infinity), ['accept', 'a', 'traceparent', 'new']);
    assert.deepEqual(withAttemptHeaders(null, { traceparent: 't' }, Infinity), { traceparent: 't' });
    assert.equal(withAttemptHeaders(headers, undefined, Infinity), headers, 'no trace and no deadline: the caller\'s headers as they are');
    assert.equal(withAttemptHeaders(undefined, undefined, Infinity), null);
  });

  it('a 200 ms deadline over slow upstreams: each attempt carries what is left, none starts after it, the caller gets ERR_DEADLINE_EXCEEDED at 200 ms', async (t) => {
    const ups = await startUpstreams([{}, {}, {}]);
    t.after(() => Promise.all(ups.map((u) => u.close())));
    await using c = client('deadline-hops').endpoints(ups.map((u) => u.address)).balancer(roundRobin())
      .timeout({ perTry: '60ms', total: '200ms' }).retry({ attempts: 10, backoff: { base: 1, cap: 5 } }).build();
    // Connect first: on a loaded machine a new connection can eat a 60 ms try before the request is even sent.
    for (let i = 0; i < ups.length; i++) await (await c.request({ path: '/warm' })).body.dump();
    for (const up of ups) {
      up.requests.length = 0;
      up.behaviour = { delayMs: 2000 };
    }
    // Which attempts the client started, and when, as it saw them: an attempt sent just before
    // the deadline may reach a busy server after the call has failed, so arrivals alone cannot tell.
    const sent: AttemptContext[] = [];
    const onStart = (message: unknown): void => {
      const attempt = message as AttemptContext;
      if (attempt.call.service === 'deadline-hops') sent.push(attempt);
    };
    diagnosticsChannel.subscribe('meshkit:attempt:start', onStart);
    t.after(() => diagnosticsChannel.unsubscribe('meshkit:attempt:start', onStart));
    const started = performance.now();
    await assert.rejects(c.request({ path: '/' }), (e: unknown) => isMeshkitError(e, 'ERR_DEADLINE_EXCEEDED'));
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 195 && elapsed < 600, `rejected at the deadline (${elapsed.toFixed(0)} ms)`);
    assert.ok(sent.every((attempt) => attempt.startedAt < attempt.deadline), 'no attempt started at or after the deadline');
    const startedBeforeFailing = sent.length;
    // Every attempt sent reaches its server (each waits 2 s there), and no other one ever does.
    for (const givingUp = performance.now() + 5000; ups.flatMap((u) => u.requests).length < startedBeforeFailing;) {
      assert.ok(performance.now() < givingUp, 'every attempt sent reached a server');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const arrivals = ups.flatMap((u: Upstream) => u.requests).map((r) => Number(r.headers[DEADLINE_HEADER]));
    assert.ok(arrivals.length >= 2, 'retries happened within the deadline');
    assert.ok(arrivals.every((ms) => Number.isInteger(ms) && ms >= 0 && ms <= 200), `headers ${arrivals.join(',')}`);
    // Each attempt starts later than the one before, so each had less left (arrival order across servers is not kept).
    const descending = [...arrivals].sort((a, b) => b - a);
    for (let i = 1; i < descending.length; i++) assert.ok((descending[i] as number) < (descending[i - 1] as number), `what is left shrinks: ${descending.join(',')}`);
    assert.ok((descending[0] as number) > 150, 'the first attempt had nearly all of it');
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(sent.length, startedBeforeFailing, 'no attempt started after the call failed');
    assert.equal(ups.flatMap((u) => u.requests).length, startedBeforeFailing, 'no attempt reached a server that the client did not send before the deadline');
  });

  it('sends no header when the call has no deadline', async (t) => {
    const [up] = (await startUpstreams([{}])) as [Upstream];
    t.after(() => up.close());
    await using c = client('no-deadline').endpoints([up.address]).build();
    await (await c.request({ path: '/' })).body.dump();
    assert.equal(up.requests[0]?.headers[DEADLINE_HEADER], undefined);
  });
});
