import assert from 'node:assert/strict';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import {
  adaptiveConcurrency, bulkhead, client, peakEwma, rateLimit, type Client,
} from '../../src/index.js';
import { statusHandler, type StatusHandler } from '../../src/status/index.js';
import { findExecutable } from '../helpers/find-executable.js';
import { spiffeIdOf, testFileIdentity } from '../helpers/identity.js';
import { createCertificateAuthority } from '../helpers/tls.js';
import { serverMissing } from '../helpers/require-server.js';
import { startUpstreams, type Upstream } from '../helpers/upstream.js';
import { serve } from './support.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/**
 * Every run saves its screenshot under .build/ (proof that the page renders);
 * with MESHKIT_UPDATE_SCREENSHOTS=1 it also replaces the one the README shows,
 * so that ordinary test runs leave the working tree clean.
 */
const SCREENSHOT = join(ROOT, '.build', 'screenshots', 'status-page.png');
const DOCS_SCREENSHOT = join(ROOT, 'docs', 'images', 'status-page.png');
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/**
 * Debian's chromium, launched through playwright-core (which gives it a fresh
 * temporary profile and removes it on close); undefined when not installed.
 * A chromium that is there but fails to start fails the suite.
 */
async function launch(): Promise<Browser | undefined> {
  const executablePath = findExecutable('CHROMIUM_BIN', 'chromium');
  if (executablePath === undefined) return undefined;
  return chromium.launch({ executablePath, args: CHROMIUM_ARGS, timeout: 60_000 });
}

/** The browser, or undefined after reporting it missing (fails in CI, skips locally). */
function browserOr(t: TestContext, browser: Browser | undefined): Browser | undefined {
  if (browser === undefined) serverMissing(t, 'chromium', 'apt-get install chromium, or set CHROMIUM_BIN');
  return browser;
}

/**
 * The page's globals, for functions that run in the browser (the test compiles
 * without the DOM lib; the functions are shipped as source, so each casts
 * `globalThis` itself). Function predicates, not strings: the page's CSP
 * forbids eval, and playwright evaluates string predicates with it.
 */
interface PageGlobals {
  document: {
    body: { dataset: Record<string, string | undefined> };
    querySelector(selector: string): { textContent: string | null } | null;
  };
  getComputedStyle(element: unknown): { color: string };
  pwned?: unknown;
}

/** Waits until the page has rendered `count` more snapshots than it had. */
async function polled(page: Page, count = 1): Promise<void> {
  const now = Number(await page.getAttribute('body', 'data-polls'));
  await page.waitForFunction((target) => Number((globalThis as unknown as PageGlobals).document.body.dataset['polls']) >= target, now + count, { timeout: 15_000 });
}

/** Waits until the orders section's calls badge reads `text`. */
async function callsBadge(page: Page, text: string): Promise<void> {
  const selector = 'section[data-key="orders"] [data-kind="calls"]';
  await page.waitForFunction(([s, t]) => (globalThis as unknown as PageGlobals).document.querySelector(s)?.textContent === t, [selector, text] as const, { timeout: 15_000 });
}

describe('status page in headless Chromium', () => {
  let ups: Upstream[] = [];
  let orders: Client;
  let payments: Client;
  let handler: StatusHandler;
  let server: { url: string; close(): Promise<void> };
  let stopTraffic = (): Promise<void> => Promise.resolve();
  let shared: Browser | undefined;

  before(async () => {
    // First: starting a browser loads a small machine, and the latency history should not show it.
    shared = await launch();
    ups = await startUpstreams([{ delayMs: 2 }, { delayMs: 6 }, { delayMs: 12 }, { status: 503 }, { delayMs: 3 }, { delayMs: 9 }]);
    const [a, b, c, failing, p1, p2] = ups as [Upstream, Upstream, Upstream, Upstream, Upstream, Upstream];
    orders = client('orders')
      .endpoints([
        { host: '127.0.0.1', port: a.port, zone: 'eu-west-1a' },
        { host: '127.0.0.1', port: b.port, zone: 'eu-west-1b' },
        { host: '127.0.0.1', port: c.port, zone: 'eu-west-1c' },
        { host: '127.0.0.1', port: failing.port, zone: 'eu-west-1a' },
      ])
      // No failure penalty: the failing endpoint keeps being picked (and failing) until outlier detection ejects it.
      // A short decay, so the sparklines follow the swings of the background traffic.
      .balancer(peakEwma({ failurePenalty: 0, decay: '2s' }))
      .outlierDetection({ maxEjectionPercent: 25, baseEjectionTime: '5m' })
      .retry({ attempts: 2 })
      .hedge({ after: '2s' })
      .circuitBreaker({ volumeThreshold: 1000 })
      .policy(bulkhead({ maxConcurrent: 32 }))
      .build();
    payments = client('payments')
      .endpoints([{ host: '127.0.0.1', port: p1.port, zone: 'eu-west-1a' }, { host: '127.0.0.1', port: p2.port, zone: 'eu-west-1b' }])
      .balancer(peakEwma({ decay: '2s' }))
      .policy(rateLimit({ rate: 2000, burst: 200 }))
      .policy(adaptiveConcurrency())
      .build();
    for (let i = 0; i < 400 && !orders.snapshot().endpoints.some((e) => e.ejected); i++) {
      await (await orders.request({ path: '/' })).body.dump();
    }
    assert.ok(orders.snapshot().endpoints.some((e) => e.id === failing.address && e.ejected), 'the failing upstream is ejected');

    // Background traffic with a slowly swinging latency on one upstream, so the sparklines have a shape.
    let running = true;
    const started = Date.now();
    const loop = (async () => {
      while (running) {
        c.behaviour.delayMs = Math.round(12 + 10 * Math.sin((Date.now() - started) / 600));
        await Promise.all([
          orders.request({ path: '/' }).then((r) => r.body.dump()),
          orders.request({ path: '/' }).then((r) => r.body.dump()),
          payments.request({ path: '/' }).then((r) => r.body.dump()),
        ]);
        await sleep(15);
      }
    })();
    stopTraffic = async () => {
      running = false;
      await loop;
    };
    handler = statusHandler({ clients: [orders, payments], sampleInterval: '100ms', refreshInterval: '250ms', title: 'meshkit status — checkout' });
    server = await serve(handler);
    // Let the handler's timer collect a few seconds of history before the page opens.
    await sleep(3000);
  });

  after(async () => {
    await shared?.close();
    await stopTraffic();
    handler?.close();
    await server?.close();
    await orders?.close();
    await payments?.close();
    await Promise.all(ups.map((u) => u.close()));
  });

  it('renders one row per endpoint, the ejected one in red with its reason, sparklines and badges; values follow the traffic', async (t) => {
    const browser = browserOr(t, shared);
    if (browser === undefined) return;
    const context = await browser.newContext({ viewport: { width: 1180, height: 760 }, colorScheme: 'light' });
    try {
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
      page.on('console', (message) => {
        if (message.type() === 'error' || message.type() === 'warning') problems.push(`console ${message.type()}: ${message.text()}`);
      });
      await page.goto(`${server.url}/`);
      await polled(page);

      const rows = (key: string): Promise<{ id: string; state: string; text: string }[]> =>
        page.$$eval(`section[data-key="${key}"] tbody tr[data-endpoint]`, (trs) => trs.map((tr) => ({
          id: tr.getAttribute('data-endpoint') ?? '',
          state: tr.getAttribute('data-state') ?? '',
          text: tr.textContent ?? '',
        })));
      const orderRows = await rows('orders');
      assert.deepEqual(orderRows.map((r) => r.id), ups.slice(0, 4).map((u) => u.address), 'one row per endpoint, in order');
      const failing = ups[3] as Upstream;
      for (const row of orderRows) {
        if (row.id === failing.address) {
          assert.equal(row.state, 'ejected');
          assert.match(row.text, /ejected/);
          assert.match(row.text, /consecutive-gateway-failures/);
        } else {
          assert.equal(row.state, 'healthy', row.id);
          assert.match(row.text, /healthy/);
          assert.match(row.text, /\d ms/, 'a latency estimate');
        }
      }
      assert.deepEqual((await rows('payments')).map((r) => [r.id, r.state]), ups.slice(4).map((u) => [u.address, 'healthy']));

      // State in colour: the page's red and green (light scheme).
      const colour = (id: string): Promise<string> =>
        // One evaluation for lookup and style: the page replaces its rows on every poll, and a detached element has no style.
        page.evaluate((selector) => {
          const g = globalThis as unknown as PageGlobals;
          return g.getComputedStyle(g.document.querySelector(selector)).color;
        }, `section[data-key="orders"] tr[data-endpoint="${id}"] .pill`);
      assert.equal(await colour(failing.address), 'rgb(214, 59, 59)');
      assert.equal(await colour((ups[0] as Upstream).address), 'rgb(22, 160, 90)');

      // A sparkline per row; the healthy ones draw a line from the history the handler had already collected.
      const sparkPoints = (id: string): Promise<number> =>
        page.$eval(`tr[data-endpoint="${id}"] svg.spark`, (svg) => (svg.querySelector('path.line')?.getAttribute('d') ?? '').split(/[ML]/).length - 1);
      assert.equal(await page.locator('section[data-key="orders"] svg.spark').count(), 4);
      const pointsBefore = await sparkPoints((ups[2] as Upstream).address);
      assert.ok(pointsBefore >= 10, `history shown at once (${pointsBefore} points)`);

      // Badges: breaker, bulkhead, budgets, rate limit, adaptive concurrency; discovery source and age.
      const kinds = await page.$$eval('section[data-key="orders"] .badge', (els) => els.map((el) => el.getAttribute('data-kind')));
      for (const kind of ['calls', 'retry-budget', 'hedge-budget', 'circuit-breaker', 'bulkhead']) assert.ok(kinds.includes(kind), kind);
      const paymentKinds = await page.$$eval('section[data-key="payments"] .badge', (els) => els.map((el) => el.getAttribute('data-kind')));
      for (const kind of ['rate-limit', 'adaptive-concurrency']) assert.ok(paymentKinds.includes(kind), kind);
      assert.match(await page.textContent('section[data-key="orders"] .discovery') ?? '', /static · 4 endpoints · set changed/);
      assert.match(await page.textContent('section[data-key="orders"] .counts') ?? '', /3 healthy.*1 out of rotation/);

      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      if (process.env['MESHKIT_UPDATE_SCREENSHOTS'] === '1') {
        mkdirSync(dirname(DOCS_SCREENSHOT), { recursive: true });
        await page.screenshot({ path: DOCS_SCREENSHOT, fullPage: true });
      }
      assert.ok(statSync(SCREENSHOT).size > 10_000, 'a real screenshot');

      // More traffic: three calls held in flight show up in the in-flight column and the calls badge.
      await stopTraffic();
      const releases: (() => void)[] = [];
      const held = [0, 1, 2].map(() => orders.call(() => new Promise<string>((resolve) => releases.push(() => resolve('ok')))));
      const inFlight = (): Promise<number> =>
        page.$$eval('section[data-key="orders"] td.c-inflight', (tds) => tds.reduce((sum, td) => sum + (Number.parseInt(td.textContent ?? '', 10) || 0), 0));
      await callsBadge(page, 'calls3 in flight');
      assert.equal(await inFlight(), 3);
      for (const release of releases) release();
      await Promise.all(held);
      await callsBadge(page, 'calls0 in flight');
      assert.equal(await inFlight(), 0);
      await polled(page, 2);
      assert.ok(await sparkPoints((ups[2] as Upstream).address) > pointsBefore || pointsBefore >= 120, 'the sparkline grew across polls');
      assert.deepEqual(problems, [], 'no script errors and no CSP violations');
    } finally {
      await context.close();
    }
  });

  it('renders registry-supplied text as text: no markup injection', async (t) => {
    const evil = '</td><img src=x onerror="window.pwned=1"><b>bold</b>';
    const upstream = ups[0] as Upstream;
    const bad = client('injected').endpoints([{ host: '127.0.0.1', port: upstream.port, zone: evil }]).build();
    const own = statusHandler({ clients: [bad], title: '<img src=x onerror="window.pwned=2">', sampleInterval: false });
    const ownServer = await serve(own);
    const browser = browserOr(t, shared);
    const context = await browser?.newContext();
    try {
      if (context === undefined) return;
      const page = await context.newPage();
      await page.goto(`${ownServer.url}/`);
      await polled(page);
      assert.equal(await page.textContent(`tr[data-endpoint="${upstream.address}"] td.c-zone`), evil);
      assert.equal(await page.locator('img').count(), 0, 'no element from the text');
      assert.equal(await page.locator('main b').count(), await page.locator('main .badge > b').count(), 'only the badge labels of the page itself');
      assert.equal(await page.evaluate(() => typeof (globalThis as unknown as PageGlobals).pwned), 'undefined');
      assert.equal(await page.textContent('h1'), '<img src=x onerror="window.pwned=2">');
    } finally {
      await context?.close();
      own.close();
      await ownServer.close();
      await bad.close();
    }
  });

  it('shows each client\'s identity: its SPIFFE ID, the leaf\'s expiry (time left and not-after), and when its source goes stale', async (t) => {
    const ca = createCertificateAuthority('status CA');
    const web = await testFileIdentity(ca, 'web');
    const upstream = ups[0] as Upstream;
    const mtls = client('orders-mtls').endpoints([upstream.address]).identity(web.identity).build();
    const own = statusHandler({ clients: [mtls, payments], refreshInterval: '100ms', sampleInterval: false });
    const ownServer = await serve(own);
    const browser = browserOr(t, shared);
    const context = await browser?.newContext();
    try {
      if (context === undefined) return;
      const page = await context.newPage();
      await page.goto(`${ownServer.url}/`);
      await polled(page);
      const row = 'section[data-key="orders-mtls"] .identity';
      const notAfter = web.identity.current()?.notAfter.toISOString() ?? '';
      assert.equal(await page.getAttribute(row, 'data-spiffe-id'), spiffeIdOf('web'));
      assert.equal(await page.getAttribute(row, 'data-state'), 'ok');
      assert.equal(await page.getAttribute(`${row} .expiry`, 'data-not-after'), notAfter);
      const text = await page.textContent(row) ?? '';
      // The test PKI's leaves are valid for a day.
      assert.ok(text.startsWith(`identity ${spiffeIdOf('web')} · file · calls orders-mtls `), text);
      assert.match(text, /expires in (23|24) h/);
      assert.ok(text.includes(`(${notAfter})`), 'the not-after instant is shown');
      assert.equal(await page.locator('section[data-key="payments"] .identity').count(), 0, 'no identity row for a client without one');

      // The source fails (a half-written leaf): the last good identity stays in use, and the page says it is stale.
      writeFileSync(web.files.cert, '-----BEGIN CERTIFICATE-----\ntruncated');
      await page.waitForSelector(`${row}[data-state="stale"]`, { timeout: 15_000 });
      assert.match(await page.textContent(`${row} .stale`) ?? '', /⚠ stale: fileIdentity\(.*\): the leaf certificate is not valid PEM/);
      assert.equal(await page.getAttribute(row, 'data-spiffe-id'), spiffeIdOf('web'), 'the last good identity is still shown');
    } finally {
      await context?.close();
      own.close();
      await ownServer.close();
      await mtls.close();
      await web.close();
    }
  });
});
