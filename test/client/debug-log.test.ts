// NODE_DEBUG=meshkit: one line per decision, in a child process (the switch is read once, at import);
// off (this process), nothing is subscribed.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { channels, client } from '../../src/index.js';
import { debugEnabled } from '../../src/client/debug-log.js';

const entry = new URL('../../src/index.js', import.meta.url).href;

/** Runs in the child: two upstreams on loopback (one answering 503), a few calls that pick, retry, give up, eject and trip a breaker. */
const script = `
import http from 'node:http';
import { client, roundRobin } from ${JSON.stringify(entry)};
const listen = (status, delayMs = 0) => new Promise((resolve) => {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => setTimeout(() => res.writeHead(status).end(), delayMs));
  });
  server.listen(0, '127.0.0.1', () => resolve(server));
});
const bad = await listen(503);
const good = await listen(200);
const slow = await listen(200, 300);
const address = (server) => '127.0.0.1:' + server.address().port;
const orders = client('orders').endpoints([address(bad), address(good)]).balancer(roundRobin())
  .retry({ attempts: 2, backoff: { base: '1ms', cap: '2ms' }, budget: false })
  .outlierDetection({ consecutiveGatewayFailures: 2, maxEjectionPercent: 50 }).build();
// Round robin starts at a random endpoint: three calls reach the 503 one twice in a row whichever it is.
for (let i = 0; i < 3; i++) await (await orders.request({ path: '/' })).body.dump();
const payments = client('payments').endpoints([address(bad)]).retry({ attempts: 2, budget: false }).build();
await (await payments.request({ path: '/', method: 'POST', body: 'x' })).body.dump();
await payments.close();
const tripping = client('billing').endpoints([address(bad)]).retry(false)
  .circuitBreaker({ errorThreshold: 0.5, volumeThreshold: 2, resetTimeout: '1m' }).build();
for (let i = 0; i < 3; i++) await tripping.request({ path: '/' }).then((res) => res.body.dump(), () => {});
const search = client('search').endpoints([address(slow), address(good)]).balancer(roundRobin()).hedge({ after: '20ms' }).build();
for (let i = 0; i < 2; i++) await (await search.request({ path: '/' })).body.dump();
await orders.close();
await tripping.close();
await search.close();
for (const server of [bad, good, slow]) server.close();
`;

function runChild(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, ...env }, timeout: 20_000 }, (error, _stdout, stderr) => {
      resolve({ code: error === null ? 0 : (error as { code?: number }).code ?? 1, stderr });
    });
  });
}

describe('NODE_DEBUG=meshkit', () => {
  it('logs each decision in one line: picks and why, retries and why, why not, ejections, breakers, discovery', async () => {
    const { code, stderr } = await runChild({ NODE_DEBUG: 'meshkit' });
    assert.equal(code, 0, stderr);
    const lines = stderr.split('\n').filter((line) => line.startsWith('MESHKIT '));
    const has = (pattern: RegExp): void => assert.ok(lines.some((line) => pattern.test(line)), `no line matching ${pattern} in:\n${lines.join('\n')}`);
    has(/^MESHKIT \d+: orders discovery static: 2 endpoint\(s\) \+127\.0\.0\.1:\d+,127\.0\.0\.1:\d+$/);
    has(/: orders pick: attempt 1 -> 127\.0\.0\.1:\d+ \(by round-robin\)$/);
    has(/: orders attempt 1 on 127\.0\.0\.1:\d+: status 503 \(blame upstream\) in \d+ ms$/);
    has(/: orders retry: attempt 2 -> 127\.0\.0\.1:\d+ \(after status 503 \(blame upstream\) on 127\.0\.0\.1:\d+; by round-robin; avoiding tried 127\.0\.0\.1:\d+\)$/);
    has(/: payments no retry: status 503 \(blame upstream\) after 1 attempt\(s\); it is not idempotent$/);
    has(/: orders eject 127\.0\.0\.1:\d+ \(consecutive-gateway-failures\) for \d+ ms, ejection 1$/);
    has(/: billing no retry: status 503 \(blame upstream\) after 1 attempt\(s\); all 1 attempts used$/);
    has(/: billing breaker circuit-breaker: closed -> open$/);
    has(/: search hedge: attempt 2 -> 127\.0\.0\.1:\d+ \(by round-robin; avoiding tried 127\.0\.0\.1:\d+\)$/);
    assert.ok(!lines.some((line) => / search no retry/.test(line)), 'a hedged call that succeeded has nothing to explain');
    // Every line is one line: no message spills over.
    assert.ok(stderr.split('\n').filter((line) => line !== '').every((line) => line.startsWith('MESHKIT ')), stderr);
  });

  it('says nothing with NODE_DEBUG naming another module', async () => {
    const { code, stderr } = await runChild({ NODE_DEBUG: 'http2' });
    assert.equal(code, 0, stderr);
    assert.ok(!stderr.includes('MESHKIT'), stderr);
  });

  it('off: nothing is subscribed and calls are not tracked', async () => {
    assert.equal(debugEnabled, false);
    await using c = client('orders').endpoints(['127.0.0.1:1']).build();
    for (const channel of Object.values(channels)) assert.equal(channel.hasSubscribers, false);
    assert.ok(c.activeCalls === 0);
  });
});
