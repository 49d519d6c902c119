import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { client, isMeshkitError, roundRobin, type Client } from '../../src/index.js';
import {
  STATUS_ERROR_CODE, statusErrorChannel, statusHandler, type StatusDocument, type StatusErrorMessage, type StatusHandler,
} from '../../src/status/index.js';
import { settleTimerHooks, trackMeshkitTimers } from '../helpers/timers.js';
import { startUpstreams, type Upstream } from '../helpers/upstream.js';
import { spiffeIdOf, testFileIdentity } from '../helpers/identity.js';
import { createCertificateAuthority } from '../helpers/tls.js';
import { VirtualClock } from '../../src/testing/index.js';
import { get, getWithoutHost, serve } from './support.js';

const EVIL = '</script><img src=x onerror="globalThis.pwned=1">&amp;';

describe('status handler over HTTP', () => {
  let ups: Upstream[] = [];
  let c: Client;
  before(async () => {
    ups = await startUpstreams([{}, {}, {}]);
    c = client('status-http')
      .endpoints(ups.map((u, i) => ({ host: '127.0.0.1', port: u.port, zone: i === 0 ? EVIL : 'zone-a' })))
      .retry({ attempts: 2 })
      .build();
    for (let i = 0; i < 10; i++) await (await c.request({ path: '/' })).body.dump();
  });
  after(async () => {
    await c.close();
    await Promise.all(ups.map((u) => u.close()));
  });

  async function withServer(handler: StatusHandler, fn: (url: string) => Promise<void>): Promise<void> {
    const server = await serve(handler);
    try {
      await fn(server.url);
    } finally {
      handler.close();
      await server.close();
    }
  }

  it('serves snapshot.json: every live client with endpoints and latency history, as escaped JSON', async () => {
    await withServer(statusHandler(), async (url) => {
      const res = await get(`${url}/snapshot.json?ignored=1`);
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
      assert.equal(res.headers['cache-control'], 'no-store');
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.equal(Number(res.headers['content-length']), Buffer.byteLength(res.body));
      assert.ok(!/[<>]/.test(res.body), 'no raw < or > in the JSON text');
      const doc = JSON.parse(res.body) as StatusDocument;
      const mine = doc.clients.find((x) => x.service === 'status-http');
      assert.ok(mine !== undefined, 'the live client is listed (snapshotAll)');
      assert.equal(mine.key, 'status-http');
      assert.deepEqual(mine.endpoints.map((e) => e.id), ups.map((u) => u.address));
      assert.equal(mine.endpoints[0]?.zone, EVIL, 'the value itself is intact');
      for (const e of mine.endpoints) {
        const samples = mine.history[e.id] ?? [];
        assert.ok(samples.length >= 1, `history for ${e.id}`);
        const [at, latency] = samples[samples.length - 1] ?? [];
        assert.ok(typeof at === 'number' && typeof latency === 'number' && latency > 0);
      }
      assert.deepEqual([doc.refreshMs, doc.sampleIntervalMs, doc.historySize, doc.omittedClients, mine.omittedEndpoints], [1000, 1000, 60, 0, 0]);
    });
  });

  it('lists each client\'s identity in snapshot.json: SPIFFE ID, not-after and time left, staleness; none for a client without one', async () => {
    const ca = createCertificateAuthority('status CA');
    const web = await testFileIdentity(ca, 'web');
    const mtls = client('status-mtls').endpoints(['127.0.0.1:9']).identity(web.identity).build();
    try {
      await withServer(statusHandler({ clients: [mtls, c], sampleInterval: false }), async (url) => {
        const before = Date.now();
        const doc = JSON.parse((await get(`${url}/snapshot.json`)).body) as StatusDocument;
        const after = Date.now();
        const [shown, plain] = doc.clients;
        const notAfter = web.identity.current()?.notAfter as Date;
        assert.deepEqual({ ...shown?.identity, expiresInMs: undefined }, {
          kind: 'file', spiffeId: spiffeIdOf('web'), peerService: 'status-mtls', notAfter: notAfter.toISOString(),
          expiresInMs: undefined, stale: false, version: 1, // lastError is undefined: absent from the JSON
        });
        const left = shown?.identity?.expiresInMs ?? NaN;
        assert.ok(left <= notAfter.getTime() - before && left >= notAfter.getTime() - after, `time left ${left} ms`);
        assert.equal(plain?.service, 'status-http');
        assert.equal('identity' in (plain as object), false, 'no identity field without an identity');
      });
    } finally {
      await mtls.close();
      await web.close();
    }
  });

  it('serves the page with its title escaped, under a nonce CSP; HEAD gives the headers only', async () => {
    await withServer(statusHandler({ title: '<script>alert(1)</script> & co' }), async (url) => {
      for (const path of ['/', '', '/index.html']) {
        const res = await get(`${url}${path}`);
        assert.equal(res.status, 200, path);
        assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
        assert.ok(res.body.includes('<title>&lt;script&gt;alert(1)&lt;/script&gt; &amp; co</title>'));
        assert.ok(!res.body.includes('<script>alert(1)'), 'the title cannot open a script');
        const nonce = /script-src 'nonce-([^']+)'/.exec(String(res.headers['content-security-policy']))?.[1];
        assert.ok(nonce !== undefined && res.body.includes(`<script nonce="${nonce}">`), 'the inline script carries the CSP nonce');
        assert.equal((res.body.match(/<script/g) ?? []).length, 1, 'one script, the page own');
        assert.ok(!/(src|href)="https?:/.test(res.body), 'no external assets');
      }
      const head = await get(`${url}/`, 'HEAD');
      const page = await get(`${url}/`);
      assert.deepEqual([head.status, head.body, head.headers['content-length']], [200, '', page.headers['content-length']]);
      const headJson = await get(`${url}/snapshot.json`, 'HEAD');
      assert.deepEqual([headJson.status, headJson.body, headJson.headers['content-type']], [200, '', 'application/json; charset=utf-8']);
    });
  });

  it('is read-only: other methods get 405 with Allow; unknown paths 404', async () => {
    await withServer(statusHandler({ clients: [c] }), async (url) => {
      for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
        for (const path of ['/', '/snapshot.json']) {
          const res = await get(`${url}${path}`, method);
          assert.equal(res.status, 405, `${method} ${path}`);
          assert.equal(res.headers['allow'], 'GET, HEAD');
        }
      }
      assert.equal((await get(`${url}/snapshot.jsonx`)).status, 404);
      assert.equal((await get(`${url}/other/snapshot.json`)).status, 404);
    });
  });

  it('honours basePath, and calls next() for paths it does not own', async () => {
    const handler = statusHandler({ basePath: '/ops/meshkit', clients: [c] });
    let passed = 0;
    const server = await serve((req, res) => handler(req, res, () => {
      passed++;
      res.writeHead(418).end();
    }));
    try {
      assert.equal((await get(`${server.url}/ops/meshkit`)).status, 200);
      assert.equal((await get(`${server.url}/ops/meshkit/`)).status, 200);
      const doc = JSON.parse((await get(`${server.url}/ops/meshkit/snapshot.json`)).body) as StatusDocument;
      assert.deepEqual(doc.clients.map((x) => x.service), ['status-http'], 'only the clients given');
      assert.equal((await get(`${server.url}/ops/meshkitx/snapshot.json`)).status, 418);
      assert.equal((await get(`${server.url}/snapshot.json`)).status, 418);
      assert.equal(passed, 2);
    } finally {
      handler.close();
      await server.close();
    }
  });

  it('bounds the response: endpoints (unavailable first), clients and history', async () => {
    const ejecting = client('status-bounded').endpoints([...ups.map((u) => u.address), '127.0.0.1:1'])
      .balancer(roundRobin()).outlierDetection({ consecutiveGatewayFailures: 1, maxEjectionPercent: 50 }).retry({ attempts: 3 }).build();
    const other = client('status-bounded').endpoints([(ups[0] as Upstream).address]).build();
    const handler = statusHandler({ clients: () => [ejecting, other, c], maxEndpoints: 2, maxClients: 2, historySize: 3, sampleInterval: false, refreshInterval: '10ms' });
    try {
      for (let i = 0; i < 8; i++) await (await ejecting.request({ path: '/' })).body.dump();
      let doc = handler.document();
      for (let i = 0; i < 5; i++) {
        await sleep(15);
        doc = handler.document();
      }
      assert.deepEqual(doc.clients.map((x) => x.key), ['status-bounded', 'status-bounded#2'], 'same-named clients get distinct keys');
      assert.equal(doc.omittedClients, 1);
      const first = doc.clients[0];
      assert.equal(first?.endpoints.length, 2);
      assert.equal(first?.omittedEndpoints, 2);
      assert.equal(first?.endpoints.find((e) => e.id === '127.0.0.1:1')?.ejected, true, 'the ejected endpoint is kept');
      for (const e of first?.endpoints ?? []) assert.equal(first?.history[e.id]?.length, 3, 'history capped at historySize');
      assert.ok(JSON.stringify(doc).length < 20_000);
    } finally {
      handler.close();
      await ejecting.close();
      await other.close();
    }
  });

  it('samples on the clock it is given, stamping samples and documents with that clock\'s wall time', async () => {
    const epoch = Date.parse('2030-01-01T00:00:00Z');
    const clock = new VirtualClock(0, 1, epoch);
    const watching = statusHandler({ clients: [c], sampleInterval: '1s', historySize: 100, clock });
    try {
      await clock.advance(3_000);
      const doc = watching.document();
      assert.equal(doc.takenAt, '2030-01-01T00:00:03.000Z');
      const samples = doc.clients[0]?.history[(ups[0] as Upstream).address] ?? [];
      assert.deepEqual(samples.map(([at]) => at - epoch), [1000, 2000, 3000], 'one sample per virtual second, none from the real clock');
    } finally {
      watching.close();
    }
    assert.equal(clock.pendingTimers, 0, 'close() cleared the sampler\'s timer');
  });

  it('samples on its own unref\'d timer while clients are open, stops when none are, and leaves no timer after close()', async () => {
    const timers = trackMeshkitTimers();
    try {
      const watching = statusHandler({ clients: [c], sampleInterval: '20ms', historySize: 100 });
      assert.equal(watching.sampling, true);
      await sleep(200);
      const samples = watching.document().clients[0]?.history[(ups[0] as Upstream).address] ?? [];
      assert.ok(samples.length >= 3, `the timer sampled without requests (${samples.length} samples)`);
      watching.close();
      assert.equal(watching.sampling, false);

      let list: Client[] = [];
      const idle = statusHandler({ clients: () => list, sampleInterval: '20ms' });
      await sleep(100);
      assert.equal(idle.sampling, false, 'stopped: nothing to sample');
      list = [c];
      const server = await serve(idle);
      try {
        assert.equal((await get(`${server.url}/snapshot.json`)).status, 200);
        assert.equal(idle.sampling, true, 'a request starts it again');
      } finally {
        idle.close();
        await server.close();
      }
      idle.close();
      await settleTimerHooks();
      assert.equal(timers.live, 0, 'no meshkit timer left');
      assert.ok(timers.created >= 2);
    } finally {
      timers.stop();
    }
  });

  it('answers a generic 500 when the clients function throws, reports the error elsewhere, and keeps serving', async () => {
    let fail = true;
    const secret = 'vault token s.8f3a9c at 10.1.2.3:8200';
    const handler = statusHandler({
      clients: () => {
        if (fail) throw new Error(secret);
        return [c];
      },
      sampleInterval: false,
    });
    const published: StatusErrorMessage[] = [];
    const onError = (message: unknown): void => {
      published.push(message as StatusErrorMessage);
    };
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => {
      if ((warning as Error & { code?: string }).code === STATUS_ERROR_CODE) warnings.push(warning);
    };
    statusErrorChannel.subscribe(onError);
    process.on('warning', onWarning);
    try {
      await withServer(handler, async (url) => {
        const first = await get(`${url}/snapshot.json?token=abc`);
        const second = await get(`${url}/snapshot.json`);
        for (const res of [first, second]) {
          assert.deepEqual([res.status, res.body], [500, 'status unavailable\n']);
          assert.ok(!res.body.includes('vault') && !res.body.includes('10.1.2.3'), 'the thrown message is not echoed');
        }
        assert.deepEqual(published.map((m) => [(m.error as Error).message, m.path]), [[secret, '/snapshot.json'], [secret, '/snapshot.json']]);
        await new Promise((resolve) => setImmediate(resolve)); // process warnings are emitted on the next tick
        assert.equal(warnings.length, 1, 'one process warning per handler, however often it fails');
        assert.match(warnings[0]?.message ?? '', /vault token/, 'the operator sees the error in the logs');
        fail = false;
        assert.equal((await get(`${url}/snapshot.json`)).status, 200);
      });
    } finally {
      statusErrorChannel.unsubscribe(onError);
      process.off('warning', onWarning);
    }
  });

  it('answers 421 with a constant body to a Host that is not an IP literal, localhost or allowed (DNS rebinding)', async () => {
    await withServer(statusHandler({ clients: [c], sampleInterval: false }), async (url) => {
      const port = new URL(url).port;
      for (const host of [`rebind.attacker.example:${port}`, 'rebind.attacker.example', `localhost.attacker.example:${port}`, `127.0.0.1.nip.io:${port}`]) {
        for (const path of ['/', '/snapshot.json', '/index.html']) {
          const res = await get(`${url}${path}`, 'GET', { host, origin: `http://${host}` });
          assert.equal(res.status, 421, `${host} ${path}`);
          assert.ok(!res.body.includes('attacker') && !res.body.includes('nip.io') && !res.body.includes('status-http'), res.body);
          assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
          assert.equal(res.headers['access-control-allow-origin'], undefined);
        }
        assert.deepEqual([(await get(`${url}/snapshot.json`, 'HEAD', { host })).status, (await get(`${url}/`, 'DELETE', { host })).status], [421, 421]);
      }
      const bodies = new Set<string>();
      for (const host of ['a.example', 'b.example:1']) bodies.add((await get(`${url}/snapshot.json`, 'GET', { host })).body);
      assert.equal(bodies.size, 1, 'the body never depends on the Host');
      assert.equal((await get(`${url}/nothing`, 'GET', { host: 'rebind.attacker.example' })).status, 404, 'paths it does not own are not its business');
    });
  });

  it('answers IP literals, localhost, *.localhost and allowedHosts, whatever the port, case or trailing dot', async () => {
    await withServer(statusHandler({ clients: [c], sampleInterval: false, allowedHosts: ['Status.Internal', 'admin.example.'] }), async (url) => {
      const port = new URL(url).port;
      const allowed = [
        `127.0.0.1:${port}`, '127.0.0.1', '10.1.2.3:80', `[::1]:${port}`, '[::1]', `localhost:${port}`, 'LOCALHOST.', `app.localhost:${port}`,
        'status.internal', `STATUS.INTERNAL.:${port}`, 'admin.example', 'Admin.Example.:443',
      ];
      for (const host of allowed) assert.equal((await get(`${url}/snapshot.json`, 'GET', { host })).status, 200, host);
      for (const host of ['internal', 'status.internal.evil.example', 'xstatus.internal', 'localhost.example', '[::1', '::1', 'status.internal:x']) {
        assert.equal((await get(`${url}/snapshot.json`, 'GET', { host })).status, 421, host);
      }
    });
  });

  it('answers a request without Host (HTTP/1.0) from a loopback address', async () => {
    await withServer(statusHandler({ clients: [c], sampleInterval: false }), async (url) => {
      assert.equal(await getWithoutHost(url, '/snapshot.json'), 200);
    });
  });

  it('rejects bad options naming them', () => {
    const cases: [unknown, string][] = [
      [{ basePath: 'status' }, 'status.basePath'],
      [{ basePath: '/status/' }, 'status.basePath'],
      [{ refreshInterval: '1ms' }, 'status.refreshInterval'],
      [{ sampleInterval: -1 }, 'status.sampleInterval'],
      [{ clock: {} }, 'status.clock'],
      [{ historySize: 1 }, 'status.historySize'],
      [{ maxEndpoints: 0 }, 'status.maxEndpoints'],
      [{ maxClients: 1.5 }, 'status.maxClients'],
      [{ clients: 'all' }, 'status.clients'],
      [{ title: 42 }, 'status.title'],
      [{ allowedHosts: 'status.internal' }, 'status.allowedHosts'],
      [{ allowedHosts: ['status.internal:9901'] }, 'status.allowedHosts'],
      [{ allowedHosts: ['http://status.internal'] }, 'status.allowedHosts'],
      [{ allowedHosts: [''] }, 'status.allowedHosts'],
      [{ allowedHosts: ['*.internal'] }, 'status.allowedHosts'],
      [{ allowedHosts: [42] }, 'status.allowedHosts'],
      [{ allowedhosts: [] }, 'status.allowedhosts'],
      [{ sampleIntervall: '2s' }, 'status.sampleIntervall'],
      [null, 'status'],
    ];
    for (const [options, option] of cases) {
      assert.throws(() => statusHandler(options as never), (e: unknown) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === option, option);
    }
  });
});
