import assert from 'node:assert/strict';
import http from 'node:http';
import { after, describe, it } from 'node:test';
import express from 'express';
import { DEADLINE_HEADER, isMeshkitError, vegas } from '../../src/index.js';
import { inbound, listen, shedding } from '../../src/express/index.js';
import { LoadShedder } from '../../src/server/index.js';
import type { LimitAlgorithm } from '../../src/policies/limits/limit.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import { call, sendAndHangUp, sleep, type Answer } from './http-call.js';

/**
 * A real server whose requests wait until the test answers them, with the
 * shedder's RTTs on a VirtualClock: the test decides how long each request
 * took and with what status, so every limit decision is exact.
 */
async function heldServer(shedder: LoadShedder): Promise<{
  /** Sends `count` requests one after the other; returns the refused ones' answers (the rest stay held). */
  send(count: number, headers?: http.OutgoingHttpHeaders): Promise<Answer[]>;
  /** Answers every held request with `status`; resolves once their callers have the answers. */
  answerAll(status: number): Promise<void>;
  /** Sends one request that is admitted and held, then hangs up; resolves once the server saw the connection close. */
  sendAndHangUp(headers?: http.OutgoingHttpHeaders): Promise<void>;
  /** Ends every held response whose caller hung up, as a handler that finishes its work does. */
  endAbandoned(): void;
}> {
  const held: express.Response[] = [];
  let pending: Promise<unknown>[] = [];
  const app = express();
  // Deadlines on the shedder's clock: it compares them with its own time.
  app.use(inbound({ clock: shedder.limiter.clock }));
  app.use(shedding(shedder));
  app.get('/hold', (_req, res) => {
    held.push(res);
  });
  const served = await listen(app, { lifecycle: { signals: [] } });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 200 });
  servers.push({ close: async () => {
    agent.destroy();
    await served.close();
  } });
  return {
    async send(count, headers = {}) {
      const refused: Answer[] = [];
      // One at a time, so each admission decision sees the requests before it.
      for (let i = 0; i < count; i++) {
        const before = { held: held.length, refused: shedder.refused };
        const answer = call(`http://${served.address}/hold`, { headers, agent });
        while (held.length === before.held && shedder.refused === before.refused) await sleep(1);
        if (shedder.refused > before.refused) refused.push(await answer);
        else pending.push(answer);
      }
      for (const r of refused) assert.equal(r.status, 503);
      return refused;
    },
    async sendAndHangUp(headers = {}) {
      await sendAndHangUp(`http://${served.address}/hold`, held, headers);
    },
    endAbandoned() {
      for (const res of held.filter((r) => r.destroyed)) {
        held.splice(held.indexOf(res), 1);
        res.status(200).send('done, nobody listening');
      }
    },
    async answerAll(status) {
      for (const res of held.splice(0)) res.status(status).send('done');
      const answers = pending;
      pending = [];
      await Promise.all(answers);
    },
  };
}

const servers: { close(): Promise<void> }[] = [];
after(async () => {
  for (const served of servers) await served.close();
});

describe('LoadShedder: when the limit binds (real HTTP, RTTs on a virtual clock)', () => {
  it('a fresh shedder warms up: it refuses nothing below maxLimit until its first sample window, whatever its initial limit', async () => {
    const clock = new VirtualClock();
    const shedder = new LoadShedder({ algorithm: vegas({ probeMultiplier: 1000 }), clock });
    const server = await heldServer(shedder);
    assert.equal(shedder.limit, 20);
    assert.equal(shedder.warmingUp, true);
    const refused = await server.send(60);
    assert.deepEqual(refused, [], 'no 503 while warming up');
    assert.equal(shedder.inFlight, 60);
    await clock.advance(100);
    await server.answerAll(200);
    // The first window (100 ms, 10 requests at least) closed: the no-load RTT is learnt, and 60 at once (past the
    // limit of 20) showed no queueing: up to twice that may be in flight.
    assert.equal(shedder.warmingUp, false);
    assert.deepEqual(
      { ...shedder.snapshot() },
      { kind: 'load-shedder', algorithm: 'vegas', limit: 20, maxLimit: 1000, inFlight: 0, warmingUp: false, headroom: 120, admitted: 60, refused: 0, pastDeadline: 0 },
    );
  });

  it('past the limit, it admits what windows without queueing earned; once queueing lasts two windows, the limit binds', async () => {
    const clock = new VirtualClock();
    // Windows of exactly 30 requests, so each round below is one sample of the algorithm.
    const shedder = new LoadShedder({ algorithm: vegas({ probeMultiplier: 1000 }), window: { minSamples: 30, minTime: 1, maxTime: 1 }, clock });
    const server = await heldServer(shedder);
    /** Sends `count`, lets the admitted take `rttMs`, answers them; returns how many were refused. */
    const round = async (count: number, rttMs: number): Promise<number> => {
      const refused = await server.send(count);
      await clock.advance(rttMs);
      await server.answerAll(200);
      return refused.length;
    };
    assert.equal(await round(30, 100), 0, 'warm-up');
    // 30 in flight, past the limit of 20, without queueing: twice that is the headroom.
    assert.deepEqual([shedder.warmingUp, shedder.limit, shedder.snapshot().headroom], [false, 20, 60]);
    assert.equal(await round(30, 100), 0);
    // Vegas saw no queue (the same RTT) and raised its limit by beta (6).
    assert.deepEqual([shedder.limit, shedder.snapshot().headroom], [26, 60]);
    // Four times the no-load RTT: queue = ceil(26 * (1 - 100/400)) = 20 > beta 6, and Vegas lowers its limit to 25.
    // One such window could be a pause (GC, a busy CPU): the headroom stays, all 30 are admitted again.
    assert.equal(await round(30, 400), 0);
    assert.deepEqual([shedder.limit, shedder.snapshot().headroom], [25, 60]);
    // A second one in a row is evidence: the limit (now 24) binds, and 6 of 30 are refused.
    assert.equal(await round(30, 400), 0);
    assert.deepEqual([shedder.limit, shedder.snapshot().headroom], [24, 0]);
    const refused = await server.send(30);
    assert.equal(refused.length, 6);
    assert.equal(refused[0]?.headers['retry-after'], '1');
    assert.equal((JSON.parse(refused[0]?.body ?? '{}') as { limit: number }).limit, 24);
    await server.answerAll(200);
  });

  it('the headroom is twice what was seen past the limit without queueing; a server held to its limit earns none', async () => {
    const clock = new VirtualClock();
    const window = { minSamples: 30, minTime: 1, maxTime: 1 };
    const grown = new LoadShedder({ algorithm: vegas({ probeMultiplier: 1000 }), window, clock });
    const busy = await heldServer(grown);
    assert.deepEqual(await busy.send(30), []);
    await clock.advance(100);
    await busy.answerAll(200);
    assert.equal((await busy.send(61)).length, 1, '60 admitted, the 61st refused');
    await busy.answerAll(200);

    // Warmed up by fewer than its limit (20), as by a quiet start: nothing past the limit was seen, so it binds.
    const quiet = new LoadShedder({ algorithm: vegas({ probeMultiplier: 1000 }), window: { ...window, minSamples: 10 }, clock });
    const calm = await heldServer(quiet);
    assert.deepEqual(await calm.send(10), []);
    await clock.advance(100);
    await calm.answerAll(200);
    assert.deepEqual([quiet.warmingUp, quiet.snapshot().headroom], [false, 0]);
    assert.equal((await calm.send(30)).length, 10);
    await calm.answerAll(200);
  });

  it('never admits more than the algorithm\'s maxLimit, warming up or not', async () => {
    const shedder = new LoadShedder({ algorithm: vegas({ initialLimit: 3, maxLimit: 5 }), clock: new VirtualClock() });
    const server = await heldServer(shedder);
    const refused = await server.send(8);
    assert.equal(shedder.warmingUp, true);
    assert.equal(refused.length, 3);
    assert.equal(shedder.inFlight, 5);
    await server.answerAll(200);
  });

  it('a request finished at or after its caller\'s deadline is no sample (a 504 for it included); a 504 in time is a drop', async () => {
    const clock = new VirtualClock();
    const shedder = new LoadShedder({ algorithm: vegas({ probeMultiplier: 1000 }), window: { minSamples: 20, minTime: 1, maxTime: 1 }, clock });
    const server = await heldServer(shedder);
    // Callers that give 1 ms: their requests finish after it, whatever this server does. Nothing reaches the limit.
    for (const status of [200, 504, 504]) {
      assert.deepEqual(await server.send(20, { [DEADLINE_HEADER]: '1' }), []);
      await sleep(5);
      await clock.advance(100);
      await server.answerAll(status);
    }
    assert.equal(shedder.snapshot().pastDeadline, 60);
    assert.equal(shedder.warmingUp, true, 'not one sample');
    assert.equal(shedder.limit, 20);
    // The same 504s from requests still within their deadline are overload: after the warm-up window, the limit falls.
    for (let i = 0; i < 2; i++) {
      await server.send(20, { [DEADLINE_HEADER]: '60000' });
      await clock.advance(100);
      await server.answerAll(504);
    }
    assert.equal(shedder.warmingUp, false);
    assert.equal(shedder.limit, 19);
    assert.equal(shedder.snapshot().headroom, 0, 'a drop is evidence of overload');
    assert.equal(shedder.snapshot().pastDeadline, 60);
  });

  it('an algorithm without queueing() gets the warm-up, then its limit binds (after a second window, as for queueing)', async () => {
    const clock = new VirtualClock();
    const fixed: LimitAlgorithm = {
      name: 'fixed', initialLimit: 10, minLimit: 10, maxLimit: 100,
      create: () => ({ limit: 10, update: () => 10 }),
    };
    const shedder = new LoadShedder({ algorithm: fixed, window: { minSamples: 30, minTime: 1, maxTime: 1 }, clock });
    const server = await heldServer(shedder);
    assert.deepEqual(await server.send(30), []);
    await clock.advance(100);
    await server.answerAll(200);
    assert.equal(shedder.warmingUp, false);
    // Without a verdict of its own, every window counts as queueing: the warm-up window grants no headroom.
    assert.equal((await server.send(30)).length, 20);
    await server.answerAll(200);
    assert.equal(shedder.limiter.algorithm.name, 'fixed');
  });

  it('a 429 is no sample and no drop: one caller\'s quota answers leave the limit alone', async () => {
    const clock = new VirtualClock();
    const shedder = new LoadShedder({ algorithm: vegas({ probeMultiplier: 1000 }), window: { minSamples: 20, minTime: 1, maxTime: 1 }, clock });
    const server = await heldServer(shedder);
    // An application's rate limiter answering one greedy caller 429 at once, window after window.
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(await server.send(20), []);
      await clock.advance(100);
      await server.answerAll(429);
    }
    assert.equal(shedder.warmingUp, true, 'not one sample');
    assert.equal(shedder.limit, 20);
    assert.equal(shedder.snapshot().headroom, 0);
  });

  it('rejects bad options with ERR_INVALID_CONFIG naming them, unknown keys with a hint', () => {
    for (const [options, option] of [
      [{ abandonedHold: '1000h' }, 'shedding.abandonedHold'], [{ abandonedHold: -1 }, 'shedding.abandonedHold'],
      [{ retryAfter: '1000h' }, 'shedding.retryAfter'], [{ retryAfter: 'soon' }, 'shedding.retryAfter'],
      [{ algorithim: vegas() }, 'shedding.algorithim'], [{ window: { minTime: '1000h' } }, 'shedding.window.minTime'],
      [{ algorithm: 5 }, 'shedding.algorithm'], [null, 'shedding'],
    ] as const) {
      assert.throws(() => new LoadShedder(options as never), (e) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === option, option);
    }
    assert.throws(() => new LoadShedder({ algorithim: vegas() } as never), (e) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && /did you mean `algorithm`/.test(e.message));
  });
});

describe('LoadShedder: callers that hang up (real HTTP, a virtual clock)', () => {
  it('a request whose caller hung up keeps its slot until its handler ends the response: maxLimit stays a ceiling', async () => {
    const shedder = new LoadShedder({ algorithm: vegas({ initialLimit: 2, maxLimit: 2 }), clock: new VirtualClock() });
    const server = await heldServer(shedder);
    await server.sendAndHangUp();
    await server.sendAndHangUp();
    // Both handlers still run: a third request would make three at once.
    assert.equal(shedder.inFlight, 2);
    assert.equal((await server.send(1)).length, 1);
    server.endAbandoned();
    while (shedder.inFlight > 0) await sleep(1);
    assert.deepEqual(await server.send(2), [], 'the slots are free once the handlers ended');
    await server.answerAll(200);
    assert.equal(shedder.warmingUp, true, 'a request whose caller went away is no sample');
  });

  it('a handler that never ends its response holds the slot abandonedHold after the hang-up, however short the request\'s deadline', async () => {
    const clock = new VirtualClock();
    const shedder = new LoadShedder({ algorithm: vegas({ initialLimit: 2, maxLimit: 2 }), abandonedHold: '5s', clock });
    const server = await heldServer(shedder);
    await server.sendAndHangUp();
    // The caller chose a 5 ms deadline: released at it, a caller hanging up after its deadline would free every slot at once.
    await server.sendAndHangUp({ [DEADLINE_HEADER]: '5' });
    assert.equal(shedder.inFlight, 2);
    await clock.advance(2000);
    assert.equal(shedder.inFlight, 2, 'held past the request\'s deadline');
    assert.equal((await server.send(1)).length, 1, 'a third request is refused while both handlers run');
    await clock.advance(2999);
    assert.equal(shedder.inFlight, 2);
    await clock.advance(1);
    assert.equal(shedder.inFlight, 0, 'released abandonedHold after the hang-up');
    // The handlers ending late changes nothing more.
    server.endAbandoned();
    await sleep(10);
    assert.equal(shedder.inFlight, 0);
    assert.equal(shedder.limiter.inFlight, 0);
  });
});
