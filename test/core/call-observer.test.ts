import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { client, type CallObserver, type CallObserverFactory } from '../../src/index.js';
import { startUpstreams } from '../helpers/upstream.js';

/** An observer factory that records what it sees, in order. */
function recorder(log: string[], extra: Partial<CallObserver> = {}): CallObserverFactory {
  return {
    name: 'recorder',
    create: ({ service }) => ({
      callStart: (call) => { log.push(`callStart ${service} ${call.attempts}`); },
      attemptStart: (attempt) => {
        log.push(`attemptStart ${attempt.number} ${attempt.endpoint.port}`);
        attempt.setOutboundHeader('traceparent', `00-${'1'.repeat(32)}-${String(attempt.number).padStart(16, '0')}-01`);
      },
      attemptEnd: (attempt) => log.push(`attemptEnd ${attempt.number} ${attempt.outcome?.ok === true ? 'ok' : 'failed'} ${attempt.endedAt >= attempt.startedAt}`),
      callEnd: (call, error) => log.push(`callEnd ${call.attempts} ${error === undefined ? 'ok' : 'error'}`),
      close: () => { log.push('close'); },
      ...extra,
    }),
  };
}

describe('call observers', () => {
  it('see a retried call in order, and the headers they add reach the upstream on each attempt', async (t) => {
    const ups = await startUpstreams([{}, {}]);
    t.after(() => Promise.all(ups.map((u) => u.close())));
    // Round robin starts at a random endpoint: whichever gets the first request answers 503.
    let first = true;
    for (const up of ups) {
      up.handler = (_req, res) => {
        res.writeHead(first ? 503 : 200).end();
        first = false;
      };
    }
    const log: string[] = [];
    const c = client('observed')
      .endpoints(ups.map((u) => u.address))
      .balancer((await import('../../src/index.js')).roundRobin())
      .retry({ attempts: 2, backoff: { base: 0, cap: 0 } })
      .telemetry(recorder(log))
      .build();
    const res = await c.request({ path: '/x' });
    await res.body.dump();
    assert.equal(res.statusCode, 200);
    await c.close();
    const failing = ups.find((u) => u.requests.length === 1 && String(u.requests[0]?.headers['traceparent']).endsWith('0000000000000001-01'));
    const healthy = ups.find((u) => u !== failing);
    assert.deepEqual(log, [
      'callStart observed 0',
      `attemptStart 1 ${failing?.port}`,
      'attemptEnd 1 failed true',
      `attemptStart 2 ${healthy?.port}`,
      'attemptEnd 2 ok true',
      'callEnd 2 ok',
      'close',
    ]);
    assert.equal(failing?.requests[0]?.headers['traceparent'], `00-${'1'.repeat(32)}-0000000000000001-01`);
    assert.equal(healthy?.requests[0]?.headers['traceparent'], `00-${'1'.repeat(32)}-0000000000000002-01`);
  });

  it('a throwing observer is reported once and never breaks a call; the others still run', async (t) => {
    const [up] = await startUpstreams([{}]);
    t.after(() => up?.close());
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => { warnings.push(warning); };
    process.on('warning', onWarning);
    t.after(() => process.off('warning', onWarning));
    const log: string[] = [];
    const broken: CallObserverFactory = {
      name: 'broken',
      create: () => ({
        callStart: () => { throw new Error('observer bug'); },
        attemptEnd: () => { throw new Error('observer bug'); },
      }),
    };
    const c = client('guarded').endpoints([(up as { address: string }).address]).telemetry(broken).telemetry(recorder(log)).build();
    for (let i = 0; i < 3; i++) await (await c.request({ path: '/' })).body.dump();
    await c.close();
    await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
    const ours = warnings.filter((w) => (w as { code?: string }).code === 'MESHKIT_OBSERVER_ERROR');
    assert.equal(ours.length, 2, 'one warning per broken method, not per call');
    assert.match(ours[0]?.message ?? '', /broken\.callStart threw/);
    assert.equal(log.filter((line) => line.startsWith('callEnd')).length, 3, 'the healthy observer saw every call');
  });

  it('sees calls a policy refuses before any attempt (no attempt events, an error at the end)', async () => {
    const log: string[] = [];
    const refuse = { name: 'refuse', wrap: () => () => Promise.reject(new Error('refused')) };
    const c = client('refused').endpoints(['127.0.0.1:1']).policy(refuse).telemetry(recorder(log)).build();
    await assert.rejects(c.call(async () => 'never'), /refused/);
    await c.close();
    assert.deepEqual(log, ['callStart refused 0', 'callEnd 0 error', 'close']);
  });

  it('a call every observer declines at callStart skips every other hook', async (t) => {
    const [up] = await startUpstreams([{}]);
    t.after(() => up?.close());
    const seen: string[] = [];
    const declining: CallObserverFactory = {
      name: 'declining',
      create: () => ({
        callStart: (call) => { seen.push('callStart'); return call.request === undefined; },
        attemptStart: () => { seen.push('attemptStart'); },
        attemptEnd: () => { seen.push('attemptEnd'); },
        callEnd: () => { seen.push('callEnd'); },
      }),
    };
    const c = client('declined').endpoints([(up as { address: string }).address]).telemetry(declining).build();
    await (await c.request({ path: '/' })).body.dump();
    await c.close();
    assert.deepEqual(seen, ['callStart'], 'declined at the start: nothing else ran');
    assert.match(String(up?.requests[0]?.headers['traceparent'] ?? 'none'), /none/);
  });

  it('rejects a telemetry factory without create() at build time', () => {
    assert.throws(() => client('bad').telemetry({} as CallObserverFactory), { code: 'ERR_INVALID_CONFIG' });
  });
});
