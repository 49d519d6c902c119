import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { context, propagation, trace, type Context, type TextMapGetter, type TextMapPropagator } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import express from 'express';
import { inbound, listen, type MeshkitServer } from '../../src/express/index.js';
import { loadTraceApi, runInTraceContext } from '../../src/server/trace-context.js';
import { call, sleep } from './http-call.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${PARENT_ID}-01`;

/** A B3 single-header propagator (`b3: {traceId}-{spanId}-{sampled}`): a non-W3C format an application may register. */
const b3: TextMapPropagator = {
  fields: () => ['b3'],
  inject() {},
  extract(ctx: Context, carrier: unknown, getter: TextMapGetter): Context {
    const value = getter.get(carrier, 'b3');
    const match = typeof value === 'string' ? /^([0-9a-f]{32})-([0-9a-f]{16})-([01])$/.exec(value) : null;
    if (match === null) return ctx;
    return trace.setSpanContext(ctx, { traceId: match[1] as string, spanId: match[2] as string, traceFlags: Number(match[3]), isRemote: true });
  },
};

/** A propagator that takes nothing from callers, as an edge that must not trust their trace context would register. */
const trustNoCaller: TextMapPropagator = { fields: () => [], inject() {}, extract: (ctx) => ctx };

/** The trace id `runInTraceContext` makes active for `headers`, run directly (no server). */
function traceIdFor(headers: Record<string, string>): string | undefined {
  return runInTraceContext(headers, () => trace.getSpanContext(context.active())?.traceId);
}

/** Runs `fn` with `propagator` registered globally, then back to none. */
async function withPropagator(propagator: TextMapPropagator, fn: () => Promise<void> | void): Promise<void> {
  propagation.setGlobalPropagator(propagator);
  try {
    await fn();
  } finally {
    propagation.disable();
  }
}

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

  it('asks a registered non-W3C propagator even when the request has no traceparent (B3)', async () => {
    await withPropagator(b3, async () => {
      const b3Trace = '80f198ee56343ba864fe8b2a57d3eff7';
      assert.equal((await call(`http://${served.address}/`, { headers: { b3: `${b3Trace}-e457b5a2e4d86bd1-1` } })).status, 200);
      assert.deepEqual(seen, { traceId: b3Trace, spanId: 'e457b5a2e4d86bd1', sampled: true, remote: true });
    });
  });

  it('a registered propagator that ignores traceparent has the last word: the caller\'s trace is not adopted', async () => {
    await withPropagator(trustNoCaller, async () => {
      assert.equal((await call(`http://${served.address}/`, { headers: { traceparent: TRACEPARENT, tracestate: 'vendor=abc' } })).status, 200);
      assert.deepEqual(seen, {});
    });
    // The same goes for a registered composite of no propagators, and for one that reads baggage only.
    for (const propagator of [new CompositePropagator(), new W3CBaggagePropagator()]) {
      await withPropagator(propagator, () => assert.equal(traceIdFor({ traceparent: TRACEPARENT }), undefined, propagator.constructor.name));
    }
  });

  it('with a registered composite (W3C + baggage), the handler runs in the trace and the baggage it extracts', async () => {
    await withPropagator(new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }), () => {
      const found = runInTraceContext({ traceparent: TRACEPARENT, baggage: 'tenant=acme' }, () => ({
        traceId: trace.getSpanContext(context.active())?.traceId,
        tenant: propagation.getActiveBaggage()?.getEntry('tenant')?.value,
      }));
      assert.deepEqual(found, { traceId: TRACE_ID, tenant: 'acme' });
    });
  });

  it('the built-in parser ignores what W3C Trace Context says to ignore, upper-case hex included', async () => {
    assert.equal((await call(`http://${served.address}/`, { headers: { traceparent: TRACEPARENT.toUpperCase() } })).status, 200);
    assert.deepEqual(seen, {}, 'upper-case traceparent');
    const ignored = [
      `00-${TRACE_ID.toUpperCase()}-${PARENT_ID}-01`, `00-${TRACE_ID}-${PARENT_ID.toUpperCase()}-01`, `00-${TRACE_ID}-${PARENT_ID}-0A`,
      `0A-${TRACE_ID}-${PARENT_ID}-01`, `00-${TRACE_ID}-${'0'.repeat(16)}-01`, `00-${TRACE_ID}-${PARENT_ID}-01-extra`,
      `00-${TRACE_ID}-${PARENT_ID}-1`, `00-${TRACE_ID.slice(1)}-${PARENT_ID}-01`, `00_${TRACE_ID}-${PARENT_ID}-01`,
      `cc-${TRACE_ID}-${PARENT_ID}-01x`, `00-${TRACE_ID.slice(0, 31)}g-${PARENT_ID}-01`, `\u00a000-${TRACE_ID}-${PARENT_ID}-01`,
    ];
    for (const traceparent of ignored) assert.equal(traceIdFor({ traceparent }), undefined, traceparent);
  });

  it('the built-in parser accepts later versions with more fields, and spaces or tabs around the value', () => {
    for (const traceparent of [`cc-${TRACE_ID}-${PARENT_ID}-01-what-comes-next`, `01-${TRACE_ID}-${PARENT_ID}-00`, ` \t${TRACEPARENT}\t `]) {
      assert.equal(traceIdFor({ traceparent }), TRACE_ID, traceparent);
    }
    const flags = runInTraceContext({ traceparent: `00-${TRACE_ID}-${PARENT_ID}-fe` }, () => trace.getSpanContext(context.active())?.traceFlags);
    assert.equal(flags, 0, 'only the sampled bit is kept');
  });

  it('leaves an already active span alone (an HTTP instrumentation made the better parent)', () => {
    const existing = trace.wrapSpanContext({ traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 1 });
    const inner = context.with(trace.setSpan(context.active(), existing), () =>
      runInTraceContext({ traceparent: TRACEPARENT }, () => trace.getSpanContext(context.active())?.traceId));
    assert.equal(inner, 'a'.repeat(32));
  });
});
