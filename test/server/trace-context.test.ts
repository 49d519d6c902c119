import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import express from 'express';
import { inbound, listen, type MeshkitServer } from '../../src/express/index.js';
import { loadTraceApi, runInTraceContext } from '../../src/server/trace-context.js';
import { call, sleep } from './http-call.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${PARENT_ID}-01`;

describe('W3C trace context on the inbound side (@opentelemetry/api present)', () => {
  let served: MeshkitServer;
  let seen: { traceId?: string; spanId?: string; sampled?: boolean; remote?: boolean; state?: string } | undefined;
  before(async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    await loadTraceApi();
    const app = express();
    app.use(inbound());
    app.get('/', async (_req, res) => {
      await sleep(5);
      const span = trace.getSpanContext(context.active());
      seen = span === undefined ? {} : {
        traceId: span.traceId, spanId: span.spanId, sampled: (span.traceFlags & 1) === 1, remote: span.isRemote === true,
        ...(span.traceState === undefined ? {} : { state: span.traceState.serialize() }),
      };
      res.send('ok');
    });
    served = await listen(app, { lifecycle: { signals: [] } });
  });
  after(async () => {
    await served.close();
    propagation.disable();
    context.disable();
  });

  it('without a registered propagator, traceparent and tracestate are read directly and the handler runs in that context', async () => {
    assert.equal((await call(`http://${served.address}/`, { headers: { traceparent: TRACEPARENT, tracestate: 'vendor=abc' } })).status, 200);
    assert.deepEqual(seen, { traceId: TRACE_ID, spanId: PARENT_ID, sampled: true, remote: true, state: 'vendor=abc' });
  });

  it('with the global W3C propagator registered, it is used', async () => {
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    try {
      await call(`http://${served.address}/`, { headers: { traceparent: `00-${TRACE_ID}-${PARENT_ID}-00` } });
      assert.deepEqual(seen, { traceId: TRACE_ID, spanId: PARENT_ID, sampled: false, remote: true });
    } finally {
      propagation.disable();
    }
  });

  it('invalid or missing traceparent: no trace context, and the request is served', async () => {
    for (const headers of [{}, { traceparent: 'garbage' }, { traceparent: `00-${'0'.repeat(32)}-${PARENT_ID}-01` }, { traceparent: `ff-${TRACE_ID}-${PARENT_ID}-01` }]) {
      assert.equal((await call(`http://${served.address}/`, { headers })).status, 200);
      assert.deepEqual(seen, {}, JSON.stringify(headers));
    }
  });

  it('leaves an already active span alone (an HTTP instrumentation made the better parent)', () => {
    const existing = trace.wrapSpanContext({ traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 1 });
    const inner = context.with(trace.setSpan(context.active(), existing), () =>
      runInTraceContext({ traceparent: TRACEPARENT }, () => trace.getSpanContext(context.active())?.traceId));
    assert.equal(inner, 'a'.repeat(32));
  });
});
