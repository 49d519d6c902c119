import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { describe, it } from 'node:test';
import { consul } from '../../src/consul/index.js';
import { VirtualClock } from '../../src/testing/index.js';
import { closedPort } from '../helpers/upstream.js';
import { within } from './support.js';

const MIN_INTERVAL_MS = 300;
const BASE_MS = 200;
const CAP_MS = 1600;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('consul() watch backoff (virtual clock, nothing listening on the agent port)', () => {
  it('re-polls after a full-jitter delay above the minInterval floor, ignores refresh() while backing off, and stop() clears its timer', async (t) => {
    const seed = 11;
    const clock = new VirtualClock(0, seed);
    // The watch draws one random number per failure from the clock: a twin clock predicts each delay.
    const twin = new VirtualClock(0, seed);
    const port = await closedPort();
    const provider = consul({
      service: 'nowhere', address: `http://127.0.0.1:${port}`, minInterval: `${MIN_INTERVAL_MS}ms`,
      backoff: { base: `${BASE_MS}ms`, cap: `${CAP_MS}ms` }, clock,
    });
    const errors: number[] = [];
    const stop = provider.subscribe({
      onUpdate: () => assert.fail('no set can come from a closed port'),
      onError: (error) => {
        assert.match(error.message, /^consul:nowhere: .*ECONNREFUSED/);
        errors.push(clock.now());
      },
    });
    const gaps: number[] = [];
    try {
      await within(5000, 'the first error', () => errors.length === 1);
      let pollStartedAt = 0;
      for (let failure = 1; failure <= 7; failure++) {
        const jitter = twin.random() * Math.min(CAP_MS, BASE_MS * 2 ** (failure - 1));
        // The jitter is added to the floor (the failure, or minInterval after the start of the poll that failed), never clipped by it.
        const dueAt = Math.max(errors[failure - 1] as number, pollStartedAt + MIN_INTERVAL_MS) + jitter;
        assert.equal(clock.pendingTimers, 1, 'one timer: the re-poll');
        for (let i = 0; i < 5; i++) provider.refresh?.();
        await clock.advance(dueAt - clock.now() - 1);
        await sleep(60); // real time for a poll that should not have started
        assert.equal(errors.length, failure, `no re-poll before ${dueAt.toFixed(0)} ms (failure ${failure}), refresh() or not`);
        await clock.advance(2);
        await within(5000, `error ${failure + 1}`, () => errors.length === failure + 1);
        pollStartedAt = dueAt;
        gaps.push(dueAt - (errors[failure - 1] as number));
      }
    } finally {
      stop();
    }
    assert.equal(clock.pendingTimers, 0, 'stop() cleared the re-poll timer');
    t.diagnostic(`virtual ms from each failure to the next poll: ${gaps.map((g) => g.toFixed(0)).join(', ')}`);
    assert.ok(gaps.every((gap) => gap >= MIN_INTERVAL_MS - 2 && gap <= MIN_INTERVAL_MS + CAP_MS), `gaps within [minInterval, minInterval + cap]: ${gaps.map((g) => g.toFixed(0)).join(', ')}`);
    assert.ok(new Set(gaps.map((gap) => Math.round(gap))).size >= 4, `jittered, not fixed: ${gaps.map((g) => g.toFixed(0)).join(', ')}`);
  });
});

describe('consul() watch when the agent connection drops mid-answer (a fake agent)', () => {
  it('notices the truncated body at once and backs off, instead of waiting out the query time limit', async (t) => {
    const entry = { Node: { Address: '127.0.0.1' }, Service: { Address: '127.0.0.1', Port: 8080 }, Checks: [] };
    const sockets = new Set<Socket>();
    let requests = 0;
    const server = http.createServer((_req, res) => {
      requests += 1;
      if (requests === 1) {
        res.writeHead(200, { 'content-type': 'application/json', 'x-consul-index': '10' });
        res.end(JSON.stringify([entry]));
        return;
      }
      // Headers and part of the body, then the connection resets (an agent or proxy that dies mid-answer).
      res.writeHead(200, { 'content-type': 'application/json', 'x-consul-index': '11', 'content-length': '1000' });
      res.write('[{"Node":');
      setTimeout(() => res.socket?.destroy(), 100);
    });
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const { port } = server.address() as AddressInfo;
    // wait 30 s: the time limit of a blocking query is ~37 s, far beyond this test's patience.
    const provider = consul({ service: 'orders', address: `http://127.0.0.1:${port}`, env: {}, wait: '30s', minInterval: '50ms', backoff: { base: '100ms', cap: '200ms' } });
    const sets: string[][] = [];
    const errors: { at: number; message: string }[] = [];
    const started = performance.now();
    const stop = provider.subscribe({
      onUpdate: (update) => sets.push(update.endpoints.map((e) => e.id)),
      onError: (error) => errors.push({ at: performance.now() - started, message: error.message }),
    });
    try {
      await within(3000, 'the truncated answer is an error', () => errors.length > 0);
      assert.deepEqual(sets, [['127.0.0.1:8080']], 'the last good set stays; nothing half-read is passed on');
      assert.match(errors[0]?.message ?? '', /^consul:orders: the agent's connection closed before the answer was complete/);
      await within(3000, 'a re-poll after the backoff', () => requests >= 3);
    } finally {
      stop();
    }
    t.diagnostic(`error after ${errors[0]?.at.toFixed(0)} ms`);
  });
});
