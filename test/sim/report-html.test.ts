import assert from 'node:assert/strict';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { SimReport } from '../../src/sim/report.js';
import { renderReportHtml } from '../../src/sim/report-html.js';
import { findExecutable } from '../helpers/find-executable.js';
import { serverMissing } from '../helpers/require-server.js';
import { smallRun } from './support.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const OUT = join(ROOT, '.build', 'screenshots');
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** A scenario-supplied string that would run script if it reached the markup unescaped. */
const EVIL = '<img src=x onerror="window.pwned=1"><b>x</b>';

/** A synthetic fleet-size report: 1,000 backends in 3 zones over 600 buckets, 100 clients' worth of traffic in one row. */
function fleetReport(): SimReport {
  const buckets = 600;
  const backends = Array.from({ length: 1000 }, (_, i) => {
    const zone = `zone-${i % 3}`;
    // Zone 2 degrades from 200 s to 300 s; backend i restarts (no traffic) for 10 s at 0.6 s × i.
    const requests = Array.from({ length: buckets }, (_, b) => (b >= (i * 0.6) && b < (i * 0.6) + 10 ? 0 : 2 + ((i * 7 + b) % 3)));
    const failures = requests.map((r, b) => (i % 3 === 2 && b >= 200 && b < 300 ? Math.min(r, 1) : 0));
    return {
      id: `127.0.${i >> 8}.${i & 255}:8080`, service: 'api', zone, requests, failures,
      totalRequests: requests.reduce((a, v) => a + v, 0), totalFailures: failures.reduce((a, v) => a + v, 0),
    };
  });
  return {
    scenario: 'fleet-scale', seed: 1, durationMs: 600_000, bucketMs: 1000,
    clients: [{
      name: `web ${EVIL}`, instances: 100, userRequests: 1_200_000, succeeded: 1_199_000, failed: 1000, successRate: 0.999167, calls: 1_200_000,
      attempts: 1_230_000, hedges: 0, retries: 30_000, attemptsPerCall: 1.025, hedgesPerCall: 0, retriesPerCall: 0.025,
      latencyMs: { p50: 3, p90: 8, p99: 40, p999: 400, max: 1000, mean: 5 }, errors: { ERR_TIMEOUT: 1000 },
      cdf: [[1, 0.1], [3, 0.5], [8, 0.9], [40, 0.99], [400, 0.999], [900, 0.9999], [1000, 1]],
    }],
    backends,
    timelines: {
      ejections: backends.slice(0, 200).flatMap((b, i) => [
        { t: i * 600, client: `web ${EVIL}`, endpoint: b.id, ejected: true, reason: 'consecutive-gateway-failures' },
        { t: i * 600 + 30_000, client: `web ${EVIL}`, endpoint: b.id, ejected: false, reason: 'consecutive-gateway-failures' },
      ]).sort((a, b) => a.t - b.t),
      breakers: [],
      limiters: [{ client: `web ${EVIL}`, series: 'activeCalls', values: Array.from({ length: buckets }, (_, b) => 20 + (b % 7)) }],
    },
  };
}

interface PageGlobals {
  pwned?: unknown;
}

/** Opens `html` from a file and collects script errors, console errors and blocked requests. */
async function open(browser: Browser, html: string, name: string): Promise<{ page: Page; problems: string[]; close(): Promise<void> }> {
  mkdirSync(OUT, { recursive: true });
  const file = join(OUT, `${name}.html`);
  writeFileSync(file, html);
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 }, colorScheme: 'light' });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') problems.push(`console ${message.type()}: ${message.text()}`);
  });
  page.on('request', (request) => {
    if (!request.url().startsWith('file:')) problems.push(`request: ${request.url()}`);
  });
  await page.goto(pathToFileURL(file).href);
  return { page, problems, close: () => context.close() };
}

describe('the HTML report in headless Chromium', () => {
  let browser: Browser | undefined;
  let small: SimReport;

  before(async () => {
    const executablePath = findExecutable('CHROMIUM_BIN', 'chromium');
    if (executablePath !== undefined) browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS, timeout: 60_000 });
    small = await smallRun(5, `small ${EVIL}`);
  });

  after(async () => {
    await browser?.close();
  });

  function browserOr(t: TestContext): Browser | undefined {
    if (browser === undefined) serverMissing(t, 'chromium', 'apt-get install chromium, or set CHROMIUM_BIN');
    return browser;
  }

  it('renders the summary, one CDF line per client, load by zone, heatmaps, ejections, breakers and limits, with no error', async (t) => {
    const b = browserOr(t);
    if (b === undefined) return;
    const html = renderReportHtml(small, [{ label: `success ${EVIL}`, published: '~99 %', meshkit: small.clients[0]!.successRate }]);
    const { page, problems, close } = await open(b, html, 'sim-report-small');
    try {
      assert.deepEqual(await page.$$eval('table.summary tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-client'))), ['web', 'batch']);
      assert.equal(await page.locator('table.comparisons tbody tr').count(), 1);
      const series = (chart: string): Promise<(string | null)[]> =>
        page.$$eval(`svg[data-chart="${chart}"] path.series`, (paths) => paths.map((p) => p.getAttribute('data-series')));
      assert.deepEqual(await series('latency-cdf'), ['web', 'batch']);
      assert.deepEqual(await series('zone-load'), ['zone-a (2)', 'zone-b (2)', 'zone-c (2)']);
      // Every line really drawn: a path with many points and a non-empty box.
      for (const chart of ['latency-cdf', 'zone-load']) {
        const boxes = await page.$$eval(`svg[data-chart="${chart}"] path.series`, (paths) =>
          paths.map((p) => {
            const box = (p as unknown as { getBBox(): { width: number; height: number } }).getBBox();
            return { width: box.width, points: (p.getAttribute('d') ?? '').split(/[MLHV]/).length - 1 };
          }));
        for (const box of boxes) assert.ok(box.width > 100 && box.points > 10, `${chart}: ${JSON.stringify(box)}`);
      }
      assert.equal(await page.getAttribute('svg[data-chart="backend-load"]', 'data-rows'), '6', 'one heatmap row per backend');
      assert.ok(await page.locator('svg[data-chart="backend-load"] path.level').count() >= 3, 'several shades');
      assert.equal(await page.locator('svg[data-chart="backend-failures"]').count(), 1, 'the resetting backend fails');
      assert.deepEqual(await series('ejections'), ['web']);
      assert.deepEqual(await page.$$eval('svg[data-chart="breakers"] g.breaker', (gs) => gs.map((g) => g.getAttribute('data-breaker'))),
        [...new Set(small.timelines.breakers.map((e) => `${e.client} · ${e.breaker}`))]);
      assert.ok(small.timelines.breakers.length > 0, 'the batch client\'s breaker moved');
      assert.equal(await page.locator('svg.limiter').count(), Math.min(24, small.timelines.limiters.length));
      // Scenario text is text: no element made from it, nothing run.
      assert.equal(await page.locator('img').count(), 0);
      assert.equal(await page.locator('b').count(), 0);
      assert.equal(await page.evaluate(() => typeof (globalThis as unknown as PageGlobals).pwned), 'undefined');
      assert.equal(await page.textContent('h1'), `small ${EVIL}`);
      await page.screenshot({ path: join(OUT, 'sim-report-small.png'), fullPage: true });
      assert.ok(statSync(join(OUT, 'sim-report-small.png')).size > 10_000, 'a real screenshot');
      assert.deepEqual(problems, []);
    } finally {
      await close();
    }
  });

  it('keeps 1,000 backends over 600 buckets readable and small: at most 60 rows and 120 columns', async (t) => {
    const report = fleetReport();
    const html = renderReportHtml(report);
    assert.ok(html.length < 1_500_000, `${html.length} bytes`);
    const b = browserOr(t);
    if (b === undefined) return;
    const { page, problems, close } = await open(b, html, 'sim-report-fleet');
    try {
      assert.equal(await page.getAttribute('svg[data-chart="backend-load"]', 'data-rows'), '59', '1,000 backends in rows of 17');
      assert.equal(await page.locator('svg[data-chart="backend-load"] g.row').count(), 59);
      assert.deepEqual(await page.$$eval('svg[data-chart="zone-load"] path.series', (paths) => paths.map((p) => p.getAttribute('data-series'))),
        ['zone-0 (334)', 'zone-1 (333)', 'zone-2 (333)']);
      assert.equal(await page.locator('svg[data-chart="backend-failures"]').count(), 1);
      assert.deepEqual(await page.$$eval('svg[data-chart="ejections"] path.series', (paths) => paths.map((p) => p.getAttribute('data-series'))), [`web ${EVIL}`]);
      assert.equal(await page.locator('img').count(), 0, 'a client name is text');
      assert.equal(await page.locator('b').count(), 0);
      assert.equal(await page.textContent('table.summary tbody td'), `web ${EVIL}`);
      assert.match(await page.textContent('svg[data-chart="breakers"], p.none:has-text("circuit breaker")') ?? '', /No circuit breaker changed state/);
      await page.screenshot({ path: join(OUT, 'sim-report-fleet.png'), fullPage: true });
      assert.deepEqual(problems, []);
    } finally {
      await close();
    }
  });
});
