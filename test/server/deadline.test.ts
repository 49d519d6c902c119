import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isMeshkitError } from '../../src/index.js';
import {
  DEADLINE_HEADER, inboundDeadline, parseGrpcTimeout, parseMeshkitDeadline, requestedDeadlineMs, resolveDeadlineOptions,
} from '../../src/server/index.js';

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

  it('rejects bad options with ERR_INVALID_CONFIG naming the option', () => {
    for (const [options, option] of [
      [{ default: 0 }, 'deadline.default'], [{ max: 'forever' }, 'deadline.max'], [{ grpcTimeout: 'yes' }, 'deadline.grpcTimeout'],
      [{ maximum: 1 }, 'deadline.maximum'], [5, 'deadline'],
    ] as const) {
      assert.throws(() => resolveDeadlineOptions(options as never), (e) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === option, option);
    }
  });
});
