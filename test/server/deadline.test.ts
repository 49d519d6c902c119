import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEADLINE_HEADER, isMeshkitError } from '../../src/index.js';
import {
  DEFAULT_MAX_DEADLINE_MS, inboundDeadline, parseGrpcTimeout, parseMeshkitDeadline, requestedDeadlineMs, resolveDeadlineOptions,
} from '../../src/server/deadline.js';
import { inboundContextOf, resolveInboundOptions } from '../../src/server/inbound-scope.js';
import { InboundStats } from '../../src/server/inbound-stats.js';

describe('inbound deadline header', () => {
  it('parses x-meshkit-deadline (whole ms) and grpc-timeout (gRPC units); malformed values are absent', () => {
    assert.equal(parseMeshkitDeadline('300'), 300);
    assert.equal(parseMeshkitDeadline(' 0 '), 0);
    for (const bad of ['', '-5', '1.5', '3e2', 'soon', '9999999999999']) assert.equal(parseMeshkitDeadline(bad), undefined, bad);
    assert.equal(parseGrpcTimeout('100m'), 100);
    assert.equal(parseGrpcTimeout('2S'), 2000);
    assert.equal(parseGrpcTimeout('1M'), 60_000);
    assert.equal(parseGrpcTimeout('1H'), 3_600_000);
    assert.equal(parseGrpcTimeout('5000u'), 5);
    assert.equal(parseGrpcTimeout('3000000n'), 3);
    for (const bad of ['', '100', '123456789m', '1.5S', '10x', 'm']) assert.equal(parseGrpcTimeout(bad), undefined, bad);
  });

  it('the smaller header wins, capped by max; default applies only without a readable header', () => {
    const plain = resolveDeadlineOptions(undefined);
    assert.deepEqual(plain, { defaultMs: Infinity, maxMs: DEFAULT_MAX_DEADLINE_MS, grpcTimeout: true });
    assert.equal(DEFAULT_MAX_DEADLINE_MS, 300_000, 'a caller may ask for 5 minutes at most by default');
    assert.equal(requestedDeadlineMs({}, plain), Infinity);
    assert.equal(requestedDeadlineMs({ [DEADLINE_HEADER]: '300', 'grpc-timeout': '1S' }, plain), 300);
    assert.equal(requestedDeadlineMs({ [DEADLINE_HEADER]: '3000', 'grpc-timeout': '1S' }, plain), 1000);
    assert.equal(requestedDeadlineMs({ 'grpc-timeout': '1S' }, resolveDeadlineOptions({ grpcTimeout: false })), Infinity);
    const bounded = resolveDeadlineOptions({ default: '2s', max: '5s' });
    assert.equal(requestedDeadlineMs({}, bounded), 2000);
    assert.equal(requestedDeadlineMs({ [DEADLINE_HEADER]: 'junk' }, bounded), 2000);
    assert.equal(requestedDeadlineMs({ [DEADLINE_HEADER]: '60000' }, bounded), 5000);
    assert.equal(requestedDeadlineMs({ [DEADLINE_HEADER]: '100' }, bounded), 100);
    assert.equal(resolveDeadlineOptions({ default: '10s', max: '1s' }).defaultMs, 1000, 'the default is capped too');
    assert.equal(inboundDeadline({ [DEADLINE_HEADER]: '250' }, plain, 1000), 1250);
    assert.equal(inboundDeadline({}, plain, 1000), Infinity);
  });

  it('a caller asking for more than max (default 5 minutes) gets max, and is counted; garbage is ignored and counted', () => {
    const plain = resolveDeadlineOptions(undefined);
    const stats = new InboundStats();
    // 31 years and 11,000 years: both would overflow Node's timers (2^31 - 1 ms) if they reached one.
    assert.equal(requestedDeadlineMs({ [DEADLINE_HEADER]: '999999999999' }, plain, stats), 300_000);
    assert.equal(requestedDeadlineMs({ 'grpc-timeout': '99999999H' }, plain, stats), 300_000);
    assert.equal(requestedDeadlineMs({ [DEADLINE_HEADER]: '300000' }, plain, stats), 300_000, 'exactly max is not cut');
    assert.equal(stats.clampedDeadlines, 2);
    // Unreadable: as if absent (unbounded here), never a 504, and counted once per request.
    assert.equal(requestedDeadlineMs({ [DEADLINE_HEADER]: 'soon' }, plain, stats), Infinity);
    assert.equal(requestedDeadlineMs({ [DEADLINE_HEADER]: '9999999999999', 'grpc-timeout': '1 fortnight' }, plain, stats), Infinity);
    assert.equal(requestedDeadlineMs({ [DEADLINE_HEADER]: 'junk', 'grpc-timeout': '2S' }, plain, stats), 2000, 'the readable one is used');
    assert.equal(stats.malformedDeadlines, 3);
    // A grpc-timeout that is not read is not counted.
    assert.equal(requestedDeadlineMs({ 'grpc-timeout': 'junk' }, resolveDeadlineOptions({ grpcTimeout: false }), stats), Infinity);
    assert.equal(stats.malformedDeadlines, 3);
    // Spent on arrival: no context, counted.
    const settings = resolveInboundOptions(undefined);
    assert.equal(inboundContextOf({ [DEADLINE_HEADER]: '0' }, settings, 1000, stats), undefined);
    assert.deepEqual(inboundContextOf({ [DEADLINE_HEADER]: '999999999999' }, settings, 1000, stats), { service: undefined, deadline: 301_000, clock: settings.clock });
    assert.deepEqual(stats.snapshot(), { kind: 'inbound', malformedDeadlines: 3, clampedDeadlines: 3, expiredDeadlines: 1 });
  });

  it('max is configurable up to Node\'s timer limit; an explicit default longer than 5 minutes raises the implicit max', () => {
    assert.equal(resolveDeadlineOptions({ max: '30s' }).maxMs, 30_000);
    assert.equal(requestedDeadlineMs({ [DEADLINE_HEADER]: '60000' }, resolveDeadlineOptions({ max: '30s' })), 30_000);
    assert.equal(resolveDeadlineOptions({ max: 2 ** 31 - 1 }).maxMs, 2 ** 31 - 1);
    assert.deepEqual(resolveDeadlineOptions({ default: '10m' }), { defaultMs: 600_000, maxMs: 600_000, grpcTimeout: true });
    assert.deepEqual(resolveDeadlineOptions({ default: '10m', max: '1m' }), { defaultMs: 60_000, maxMs: 60_000, grpcTimeout: true });
  });

  it('rejects bad options with ERR_INVALID_CONFIG naming the option', () => {
    for (const [options, option] of [
      [{ default: 0 }, 'deadline.default'], [{ max: 'forever' }, 'deadline.max'], [{ grpcTimeout: 'yes' }, 'deadline.grpcTimeout'],
      [{ maximum: 1 }, 'deadline.maximum'], [5, 'deadline'], [{ max: 0 }, 'deadline.max'],
      // Past Node's timer limit (2^31 - 1 ms): refused, never silently turned into a timer that fires at once.
      [{ max: '1000h' }, 'deadline.max'], [{ max: Infinity }, 'deadline.max'], [{ default: '1000h' }, 'deadline.default'],
    ] as const) {
      assert.throws(() => resolveDeadlineOptions(options as never), (e) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === option, option);
    }
    assert.throws(() => resolveDeadlineOptions({ defualt: '1s' } as never), (e) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && /did you mean `default`/.test(e.message));
  });
});
